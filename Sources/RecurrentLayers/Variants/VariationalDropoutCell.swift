import RecurrentCore
import RecurrentAutodiff

/// A cell whose recurrent input can be masked: the hook that `VariationalDropoutCell` needs.
///
/// `RNNCell`, `GRUCell` and `LSTMCell` conform: the mask multiplies the previous hidden state `h`
/// where it enters the recurrent weights `W_hh` (every gate), and nowhere else — the GRU's carried
/// term `z ⊙ h` and the LSTM's cell state `c` stay unmasked.
public protocol RecurrentInputMaskable: RecurrentCell {
    /// The width of the step input `x`: input masks are `(batchSize, inputSize)`.
    var inputSize: Int { get }
    /// The width of the recurrent input `h`: recurrent masks are `(batchSize, hiddenSize)`.
    var hiddenSize: Int { get }
    /// One step reading `h ⊙ recurrentInputMask` in the recurrent products (`nil`: no mask).
    func step(_ input: Variable, state: State, recurrentInputMask: Tensor?) -> (output: Variable, state: State)
}

extension RNNCell: RecurrentInputMaskable {}
extension GRUCell: RecurrentInputMaskable {}
extension LSTMCell: RecurrentInputMaskable {}

/// The state of a `VariationalDropoutCell`: the wrapped cell's state and the masks of the current
/// sequence. The masks are drawn once, when the sequence's initial state is made, and carried
/// unchanged from step to step.
public struct VariationalDropoutState<Inner> {
    /// The wrapped cell's state.
    public var inner: Inner
    /// `(batchSize, hiddenSize)`: 0 or 1/(1 − p) per unit of `h`; `nil` when not dropping.
    public var recurrentMask: Tensor?
    /// `(batchSize, inputSize)`: 0 or 1/(1 − p) per input feature; `nil` when not dropping.
    public var inputMask: Tensor?

    public init(inner: Inner, recurrentMask: Tensor?, inputMask: Tensor?) {
        self.inner = inner
        self.recurrentMask = recurrentMask
        self.inputMask = inputMask
    }
}

extension VariationalDropoutState: MaskableState where Inner: MaskableState {
    /// Rows of the inner state from `self` where `take[b]`; the masks are `self`'s (within one
    /// sequence both states carry the same masks).
    public func selectingRows(_ take: [Bool], otherwise other: Self) -> Self {
        Self(inner: inner.selectingRows(take, otherwise: other.inner), recurrentMask: recurrentMask, inputMask: inputMask)
    }

    /// The inner state's rows zeroed where `reset[b]`; the masks are kept (a reset row keeps its mask).
    public func resettingRows(_ reset: [Bool]) -> Self {
        Self(inner: inner.resettingRows(reset), recurrentMask: recurrentMask, inputMask: inputMask)
    }
}

/// Variational (recurrent) dropout of Gal & Ghahramani (2016) around a standard cell: while
/// training, the recurrent input `h_{t−1}` is multiplied by the SAME inverted-dropout mask
/// `m_h` (each unit 0 with probability `recurrentProbability`, else 1/(1 − p)) at every step of a
/// sequence, and optionally the input `x_t` by one fixed mask `m_x` too:
///
///     (output_t, state_t) = cell.step(x_t ⊙ m_x, state_{t−1}, recurrentInputMask: m_h)
///
/// The masks are drawn once per sequence, when its initial state is made (`zeroState(batchSize:)`,
/// which `runSequence` calls when no initial state is given, or `initialState(_:)`), and travel in
/// the state (`VariationalDropoutState`). Each row of the batch has its own masks. In evaluation mode
/// (`isTraining == false`) no mask is drawn and the step is exactly the wrapped cell's.
///
/// Shapes: input `(batchSize, inputSize)`, output as the wrapped cell's. Parameters: the wrapped
/// cell's, under the same names (the wrapper adds none, so state dicts are interchangeable).
/// Masks come from `generator` when set, else from `GlobalRandom`.
public final class VariationalDropoutCell<Cell: RecurrentInputMaskable>: RecurrentCell {
    public typealias State = VariationalDropoutState<Cell.State>

    /// The wrapped cell.
    public let cell: Cell
    /// The probability of dropping each unit of `h_{t−1}` (the same units at every step).
    public let recurrentProbability: Float
    /// The probability of dropping each input feature (the same features at every step).
    public let inputProbability: Float
    /// Where masks are drawn from; `nil` draws from the process-wide `GlobalRandom`.
    public var generator: RandomGenerator? {
        get { source.generator }
        set { source.generator = newValue }
    }
    /// The source behind `generator` (a fused layer's cell path shares the layer's).
    var source = RandomSource()

    /// Wraps `cell`.
    /// - Throws: `ConfigurationError` naming `recurrentProbability` or `inputProbability` when it is
    ///   not in [0, 1].
    public init(_ cell: Cell, recurrentProbability: Float, inputProbability: Float = 0) throws {
        try ConfigurationError.require(recurrentProbability >= 0 && recurrentProbability <= 1, "recurrentProbability",
                                       "must be a probability in [0, 1], got \(recurrentProbability)")
        try ConfigurationError.require(inputProbability >= 0 && inputProbability <= 1, "inputProbability",
                                       "must be a probability in [0, 1], got \(inputProbability)")
        self.cell = cell
        self.recurrentProbability = recurrentProbability
        self.inputProbability = inputProbability
    }

    /// The wrapped cell's parameters, under its names.
    public var namedParameters: [(name: String, parameter: Parameter)] { cell.namedParameters }

    /// The wrapped cell's mode: dropout applies only while training.
    public var isTraining: Bool {
        get { cell.isTraining }
        set { cell.isTraining = newValue }
    }

    /// The wrapped cell's zero state with fresh masks for a new sequence of `batchSize` rows.
    public func zeroState(batchSize: Int) -> State {
        initialState(cell.zeroState(batchSize: batchSize), batchSize: batchSize)
    }

    /// `inner` as the initial state of a new sequence of `batchSize` rows: draws that sequence's
    /// masks while training (none in evaluation mode or with probability 0).
    public func initialState(_ inner: Cell.State, batchSize: Int) -> State {
        guard isTraining, recurrentProbability > 0 || inputProbability > 0 else {
            return State(inner: inner, recurrentMask: nil, inputMask: nil)
        }
        let draw = { (rng: inout RandomGenerator) -> (Tensor?, Tensor?) in
            (self.recurrentProbability > 0
                ? Tensor.dropoutMask(shape: [batchSize, self.cell.hiddenSize], probability: self.recurrentProbability, using: &rng)
                : nil,
             self.inputProbability > 0
                ? Tensor.dropoutMask(shape: [batchSize, self.cell.inputSize], probability: self.inputProbability, using: &rng)
                : nil)
        }
        let masks = source.with { draw(&$0) }
        return State(inner: inner, recurrentMask: masks.0, inputMask: masks.1)
    }

    /// One step with the sequence's masks (ignored in evaluation mode).
    public func callAsFunction(_ input: Variable, state: State) -> (output: Variable, state: State) {
        let training = isTraining
        let x = training ? masked(input, state.inputMask) : input
        let step = cell.step(x, state: state.inner, recurrentInputMask: training ? state.recurrentMask : nil)
        return (step.output, State(inner: step.state, recurrentMask: state.recurrentMask, inputMask: state.inputMask))
    }
}
