import RecurrentCore
import RecurrentAutodiff

/// A recurrent state made of tensors that can be combined element by element: what `ZoneoutCell`
/// needs. `Variable` (RNN, GRU) is one component `h`; `LSTMState` is `h` then `c`; `RMLPState` is
/// one component per layer.
public protocol ComponentwiseState {
    /// The state's tensors, in a fixed order.
    var stateComponents: [Variable] { get }
    /// The same kind of state holding `components` (as many as `stateComponents`, same shapes).
    func replacingStateComponents(_ components: [Variable]) -> Self
}

extension Variable: ComponentwiseState {
    public var stateComponents: [Variable] { [self] }
    public func replacingStateComponents(_ components: [Variable]) -> Variable { components[0] }
}

extension LSTMState: ComponentwiseState {
    /// `[h, c]`.
    public var stateComponents: [Variable] { [h, c] }
    public func replacingStateComponents(_ components: [Variable]) -> LSTMState { LSTMState(h: components[0], c: components[1]) }
}

extension RMLPState: ComponentwiseState {
    public var stateComponents: [Variable] { layers }
    public func replacingStateComponents(_ components: [Variable]) -> RMLPState { RMLPState(layers: components) }
}

/// Zoneout (Krueger et al. 2017) around any cell with a `ComponentwiseState`: each unit of each
/// state component keeps its previous value with probability p instead of taking the new one.
///
/// With the wrapped cell's candidate `s̃_t = cell(x_t, s_{t−1}).state`, per component (`h`; or `h`
/// and `c` for an LSTM, each with its own probability):
///
///     training:    s_t = d_t ⊙ s_{t−1} + (1 − d_t) ⊙ s̃_t      d_t ~ Bernoulli(p), a new mask every step
///     evaluation:  s_t = p · s_{t−1} + (1 − p) · s̃_t          (the expectation over d_t)
///
/// Unlike dropout there is no rescaling: a zoned-out unit holds its exact previous value, and the
/// gradient flows through it to `s_{t−1}` unchanged. When the wrapped cell's output is one of its
/// state components (as for `RNNCell`, `GRUCell`, `LSTMCell`, whose output is `h`), the output is that
/// component after zoneout; otherwise the cell's output is returned as is.
///
/// Shapes: as the wrapped cell's. Parameters: the wrapped cell's, under the same names. Masks come
/// from `generator` when set, else from `GlobalRandom`.
public final class ZoneoutCell<Cell: RecurrentCell>: RecurrentCell where Cell.State: ComponentwiseState {
    public typealias State = Cell.State

    /// The wrapped cell.
    public let cell: Cell
    /// Per state component (in `stateComponents` order), the probability that a unit keeps its
    /// previous value: `[p_h]`, or `[p_h, p_c]` for an LSTM.
    public let probabilities: [Float]
    /// Where masks are drawn from; `nil` draws from the process-wide `GlobalRandom`.
    public var generator: RandomGenerator? {
        get { source.generator }
        set { source.generator = newValue }
    }
    /// The source behind `generator` (a fused layer's cell path shares the layer's).
    var source = RandomSource()

    /// Zoneout with the same probability for every state component.
    /// - Throws: `ConfigurationError` naming `probability` when it is not in [0, 1].
    public convenience init(_ cell: Cell, probability: Float) throws {
        try ConfigurationError.require(probability >= 0 && probability <= 1, "probability",
                                       "must be a probability in [0, 1], got \(probability)")
        try self.init(cell, probabilities: Array(repeating: probability, count: Self.componentCount(of: cell)))
    }

    /// Zoneout with one probability per state component, e.g. `[p_h, p_c]` for an `LSTMCell`.
    /// - Throws: `ConfigurationError` naming `probabilities` when one is not in [0, 1] or their
    ///   number differs from the number of state components.
    public init(_ cell: Cell, probabilities: [Float]) throws {
        let count = Self.componentCount(of: cell)
        try ConfigurationError.require(probabilities.count == count, "probabilities",
                                       "needs one probability per state component (\(count)), got \(probabilities.count)")
        for p in probabilities {
            try ConfigurationError.require(p >= 0 && p <= 1, "probabilities", "must be probabilities in [0, 1], got \(p)")
        }
        self.cell = cell
        self.probabilities = probabilities
    }

    /// The number of state components, from a zero state of 0 rows (so that a wrapped
    /// `VariationalDropoutCell` draws no random numbers for it).
    private static func componentCount(of cell: Cell) -> Int { cell.zeroState(batchSize: 0).stateComponents.count }

    public var namedParameters: [(name: String, parameter: Parameter)] { cell.namedParameters }

    /// The wrapped cell's mode: random masks while training, the expectation in evaluation.
    public var isTraining: Bool {
        get { cell.isTraining }
        set { cell.isTraining = newValue }
    }

    public func zeroState(batchSize: Int) -> State { cell.zeroState(batchSize: batchSize) }

    public func callAsFunction(_ input: Variable, state: State) -> (output: Variable, state: State) {
        let step = cell(input, state: state)
        let previous = state.stateComponents, candidate = step.state.stateComponents
        precondition(previous.count == probabilities.count && candidate.count == probabilities.count,
                     "ZoneoutCell: \(probabilities.count) probabilities for a state of \(candidate.count) components")
        let training = isTraining
        var zoned = [Variable]()
        zoned.reserveCapacity(candidate.count)
        for (k, p) in probabilities.enumerated() {
            let old = previous[k], new = candidate[k]
            precondition(old.shape == new.shape, "ZoneoutCell: state component \(k) changed shape from \(old.shape) to \(new.shape)")
            if p == 0 {
                zoned.append(new)
            } else if training {
                let keep = drawKeepMask(shape: new.shape, probability: p)
                zoned.append(old * Variable(keep) + new * Variable(keep.map { 1 - $0 }))
            } else {
                zoned.append(old * p + new * (1 - p))
            }
        }
        let output = candidate.firstIndex { $0 === step.output }.map { zoned[$0] } ?? step.output
        return (output, step.state.replacingStateComponents(zoned))
    }

    /// 1 (keep the previous value) with probability `probability`, else 0.
    private func drawKeepMask(shape: [Int], probability: Float) -> Tensor {
        func draw(_ rng: inout RandomGenerator) -> Tensor {
            Tensor(shape: shape) { out in
                for i in 0..<out.count { out[i] = rng.nextUniform() < probability ? 1 : 0 }
            }
        }
        return source.with { draw(&$0) }
    }
}

extension VariationalDropoutState: ComponentwiseState where Inner: ComponentwiseState {
    /// The inner state's components; the masks are carried along unchanged, so zoneout can wrap a
    /// `VariationalDropoutCell`.
    public var stateComponents: [Variable] { inner.stateComponents }
    public func replacingStateComponents(_ components: [Variable]) -> Self {
        Self(inner: inner.replacingStateComponents(components), recurrentMask: recurrentMask, inputMask: inputMask)
    }
}
