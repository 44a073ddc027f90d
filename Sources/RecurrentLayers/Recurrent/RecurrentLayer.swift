import RecurrentCore
import RecurrentAutodiff

/// The carried state of any fused recurrent layer: `h` `(numLayers·D, batchSize, Hout)` and, for
/// LSTM, `c` `(numLayers·D, batchSize, hiddenSize)`.
public struct RecurrentLayerState {
    public var h: Variable
    public var c: Variable?

    public init(h: Variable, c: Variable? = nil) {
        self.h = h
        self.c = c
    }

    /// The same values cut from the graph: truncated BPTT carries the state, not its history.
    public func detached() -> RecurrentLayerState { RecurrentLayerState(h: h.detached(), c: c?.detached()) }
}

/// `RNN`, `LSTM` and `GRU` behind one interface, for models that choose the cell at run time.
public protocol RecurrentLayer: Module {
    /// The hyper-parameters (cell kind, sizes, layers, directions, layout).
    var configuration: RecurrentLayerConfiguration { get }
    /// Runs the whole sequence; a nil state means the zero state. `lengths` (one per batch row) makes
    /// it a padded batch: each row's output is zero past its length and its final state is taken at
    /// its own last step.
    func run(_ input: Variable, state: RecurrentLayerState?, lengths: [Int]?) -> (output: Variable, state: RecurrentLayerState)
    /// The generator of the layer's masks (dropout between layers, recurrent dropout, zoneout); nil
    /// draws them from `GlobalRandom`.
    var dropoutGenerator: RandomGenerator? { get set }
}

extension RecurrentLayer {
    /// Runs the whole sequence, every row to the end.
    public func run(_ input: Variable, state: RecurrentLayerState?) -> (output: Variable, state: RecurrentLayerState) {
        run(input, state: state, lengths: nil)
    }
}

extension RecurrentLayer {
    public var inputSize: Int { configuration.inputSize }
    public var hiddenSize: Int { configuration.hiddenSize }
    public var numLayers: Int { configuration.numLayers }
    public var bias: Bool { configuration.bias }
    public var batchFirst: Bool { configuration.batchFirst }
    public var dropout: Float { configuration.dropout }
    public var bidirectional: Bool { configuration.bidirectional }
}

extension RNN: RecurrentLayer {
    public func run(_ input: Variable, state: RecurrentLayerState?, lengths: [Int]?) -> (output: Variable, state: RecurrentLayerState) {
        let (output, h) = self(input, state: state?.h, lengths: lengths)
        return (output, RecurrentLayerState(h: h))
    }
}

extension GRU: RecurrentLayer {
    public func run(_ input: Variable, state: RecurrentLayerState?, lengths: [Int]?) -> (output: Variable, state: RecurrentLayerState) {
        let (output, h) = self(input, state: state?.h, lengths: lengths)
        return (output, RecurrentLayerState(h: h))
    }
}

extension LSTM: RecurrentLayer {
    public func run(_ input: Variable, state: RecurrentLayerState?, lengths: [Int]?) -> (output: Variable, state: RecurrentLayerState) {
        let initial = state.map { s -> LSTMState in
            precondition(s.c != nil, "LSTM: the initial state needs both h and c")
            return LSTMState(h: s.h, c: s.c!)
        }
        let (output, final) = self(input, state: initial, lengths: lengths)
        return (output, RecurrentLayerState(h: final.h, c: final.c))
    }
}

/// Builds the layer that `configuration` describes (`RNN`, `LSTM` or `GRU`, by the cell table),
/// drawing its parameters from `rng`.
/// - Throws: `ConfigurationError` naming an invalid argument.
public func makeRecurrentLayer(_ configuration: RecurrentLayerConfiguration,
                               using rng: inout RandomGenerator) throws -> any RecurrentLayer {
    try makeFusedRecurrentLayer(configuration, using: &rng).layer
}

/// The layer and its fused core (which `LanguageModel` and `LanguageModelStepper` run directly).
func makeFusedRecurrentLayer(_ configuration: RecurrentLayerConfiguration,
                             using rng: inout RandomGenerator) throws -> (layer: any RecurrentLayer, core: FusedSequenceLayer) {
    let core = try FusedSequenceLayer(configuration: configuration, using: &rng)   // validates
    return (configuration.cell.kernel.makeLayer(core), core)
}
