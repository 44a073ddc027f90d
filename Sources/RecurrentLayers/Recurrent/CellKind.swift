import RecurrentCore
import RecurrentAutodiff

// The one table of recurrent cell kinds.
//
// Every cell kind resolves, here and only here, to a `CellKernel` type that supplies everything the
// package runs it with: the gate count, the fused forward and backward of one direction, the buffers
// its backward needs, the reference cell of the cell path, a stand-alone step cell (encoder–decoder,
// sequence models) and the batch-1 step row of `LanguageModelStepper`. The names users see
// (`CellKind` for language models and the CLI's `--cell`, `GatedCellKind` for the step-cell models)
// are defined beside the table. Adding a cell: docs/architecture.md, "How to add a cell".

extension RecurrentLayerConfiguration {
    /// Which recurrence a fused layer runs.
    public enum Cell: Equatable, Sendable {
        /// `h' = act(W_ih x + b_ih + W_hh h + b_hh)`.
        case rnn(RNNNonlinearity)
        /// Gate blocks i, f, g, o (optionally with peepholes and a projection).
        case lstm
        /// Gate blocks r, z, n with the reset gate applied after `W_hn h + b_hn`.
        case gru

        /// The kernel type that runs this kind (the table).
        var kernel: any CellKernel.Type {
            switch self {
            case .rnn: return RNNSequenceKernel.self
            case .lstm: return LSTMSequenceKernel.self
            case .gru: return GRUSequenceKernel.self
            }
        }

        /// The number of gate blocks G stacked in `weight_ih`/`weight_hh` (RNN 1, LSTM 4, GRU 3).
        public var gateCount: Int { kernel.gateCount }

        /// Whether the state has a cell component `c` beside `h` (LSTM).
        public var hasCellState: Bool { kernel.hasCellState }
    }
}

/// The cell of a language model or a command-line run, by the name the CLI (`--cell`), the bench
/// specs and the saved model configurations use.
public enum CellKind: String, Codable, CaseIterable, Sendable {
    case rnn, lstm, gru
    case peepholeLSTM = "peephole-lstm"

    /// The fused layers' cell.
    public var layerCell: RecurrentLayerConfiguration.Cell {
        switch self {
        case .rnn: return .rnn(.tanh)
        case .lstm, .peepholeLSTM: return .lstm
        case .gru: return .gru
        }
    }

    /// Whether the LSTM gates see the cell state (`RecurrentLayerConfiguration.peephole`).
    public var peephole: Bool { self == .peepholeLSTM }

    /// The state-dict prefix of a language model's recurrent submodule, as in PyTorch code
    /// (`self.lstm = nn.LSTM(...)`): `rnn`, `lstm` or `gru`.
    public var moduleName: String {
        switch layerCell {
        case .rnn: return "rnn"
        case .lstm: return "lstm"
        case .gru: return "gru"
        }
    }

    /// The kind whose layer cell and peephole option `configuration` has (nil for a combination no
    /// kind names, e.g. a ReLU RNN).
    public init?(_ configuration: RecurrentLayerConfiguration) {
        guard let kind = CellKind.allCases.first(where: { $0.layerCell == configuration.cell && $0.peephole == configuration.peephole })
        else { return nil }
        self = kind
    }

    /// The names, for help texts: "rnn, lstm, gru, peephole-lstm".
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// The gated cell of a model built on the step-by-step cells (`EncoderDecoder`, `SequenceClassifier`,
/// `SequenceGenerator`).
public enum GatedCellKind: String, Codable, CaseIterable, Sendable {
    case gru, lstm

    /// The fused layers' cell of the same kind.
    public var layerCell: RecurrentLayerConfiguration.Cell {
        switch self {
        case .gru: return .gru
        case .lstm: return .lstm
        }
    }

    /// The state-dict names and shapes of a step cell's parameters (without allocating them):
    /// `weight_ih` `(G·H, inputSize)`, `weight_hh` `(G·H, H)`, `bias_ih`, `bias_hh` `(G·H)`.
    public func stepCellParameterShapes(inputSize: Int, hiddenSize: Int) -> [(name: String, shape: [Int])] {
        let gates = layerCell.gateCount * hiddenSize
        return [("weight_ih", [gates, inputSize]), ("weight_hh", [gates, hiddenSize]), ("bias_ih", [gates]), ("bias_hh", [gates])]
    }
}

/// What one kind of recurrent cell supplies. Conformances sit next to each kind's kernels
/// (`SequenceKernels+LSTM.swift`, `+GRU`, `+RNN`); `RecurrentLayerConfiguration.Cell.kernel` is the table.
///
/// Sizes: H = hiddenSize, G = gateCount · H, Hout = outputHiddenSize; rows = T·B.
protocol CellKernel {
    /// The number of gate blocks in `weight_ih`/`weight_hh`.
    static var gateCount: Int { get }
    /// Whether the state has a cell component c (B × H) beside h.
    static var hasCellState: Bool { get }

    /// The public layer class over a fused core of this kind (`LSTM`, `GRU`, `RNN`).
    static func makeLayer(_ core: FusedSequenceLayer) -> any RecurrentLayer

    /// The options of `configuration` this kind does not take, as a `ConfigurationError`.
    static func validate(_ configuration: RecurrentLayerConfiguration) throws

    /// The buffers one direction's forward keeps for backward, for `rows` positions.
    static func makeRecord(rows: Int, _ configuration: RecurrentLayerConfiguration) -> FusedDirectionRecord

    /// The fused forward of one direction over the whole sequence: writes h_t into the layer output,
    /// the final state into `hN` (B × Hout) and `cN` (B × H, cell-state kinds only).
    static func forward(_ ctx: FusedDirectionContext, _ configuration: RecurrentLayerConfiguration,
                        weights: FusedDirectionWeights, record: FusedDirectionRecord,
                        hN: UnsafeMutablePointer<Float>, cN: UnsafeMutablePointer<Float>?)

    /// BPTT through one direction. On entry `dh` (B × Hout) and `dc` (B × H, cell-state kinds) hold the
    /// gradients of the final state; on return, of the initial state. Writes the parameter gradients
    /// asked for in `gradients` and adds the input gradient into `dInput`.
    static func backward(_ ctx: FusedDirectionContext, _ configuration: RecurrentLayerConfiguration,
                         weights: FusedDirectionWeights, record: FusedDirectionRecord, dOutput: UnsafePointer<Float>,
                         dh: UnsafeMutablePointer<Float>, dc: UnsafeMutablePointer<Float>?,
                         dInput: UnsafeMutablePointer<Float>?, gradients: FusedDirectionGradients)

    /// The reference path: one direction run by the step cell over the layer's own parameters
    /// (layer norm, zoneout, recurrent dropout).
    static func cellPathDirection(_ configuration: RecurrentLayerConfiguration, inputSize: Int,
                                  parameters: CellPathParameters) throws -> CellPathDirection

    /// A stand-alone step cell with PyTorch's default initialisation drawn from `rng`.
    static func makeStepCell(inputSize: Int, hiddenSize: Int, using rng: inout RandomGenerator) throws -> StepCell

    /// Whether the batch-1 step row runs `configuration` (unidirectional, no layer norm or zoneout are
    /// checked by the caller); otherwise the stepper runs the layer itself.
    static func stepsRows(_ configuration: RecurrentLayerConfiguration) -> Bool

    /// Whether the step adds `h_{t−1} · W_hhᵀ` into the gates before `stepRow` (else it passes it apart).
    static var addsHiddenProductToGates: Bool { get }

    /// The bias (G) added to the input part before the products, as the fused forward folds it.
    static func inputBias(hiddenSize: Int, biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                          into bias: UnsafeMutablePointer<Float>)

    /// One batch-1 step of one layer: `gates` (G) holds `W_ih x + inputBias` (and the hidden product when
    /// `addsHiddenProductToGates`), `hidden` (G) holds `h_{t−1} · W_hhᵀ` otherwise; `vectors` are the
    /// layer's b_hh and peepholes. Updates `h` (H) and `c` (H, cell-state kinds) in place;
    /// `gates` is scratch. The same row arithmetic as the fused forward.
    static func stepRow(_ configuration: RecurrentLayerConfiguration, hiddenSize: Int, gates: UnsafeMutablePointer<Float>,
                        hidden: UnsafePointer<Float>, vectors: CellRowVectors,
                        h: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>)
}

extension CellKernel {
    static var hasCellState: Bool { false }

    /// The checks shared by the kinds without a projection or peepholes (everything but LSTM) and
    /// without the reset-before form (everything but GRU).
    static func requireNoProjectionOrPeephole(_ c: RecurrentLayerConfiguration) throws {
        try ConfigurationError.require(c.projSize == 0, "projSize", "is only supported by LSTM, got \(c.projSize)")
        try ConfigurationError.require(!c.peephole, "peephole", "is only supported by LSTM")
    }
    static func requireResetAfter(_ c: RecurrentLayerConfiguration) throws {
        try ConfigurationError.require(c.resetAfter, "resetAfter", "is only an option of GRU (false means reset-before)")
    }
    static var addsHiddenProductToGates: Bool { true }

    /// `b_ih + b_hh` (either may be absent).
    static func inputBias(hiddenSize: Int, biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                          into bias: UnsafeMutablePointer<Float>) {
        for j in 0..<(gateCount * hiddenSize) { bias[j] = (biasIH?[j] ?? 0) + (biasHH?[j] ?? 0) }
    }
}

/// The vectors of one layer and direction that a step row reads (nil where the layer has none).
struct CellRowVectors {
    var biasHH: UnsafePointer<Float>?
    var weightCI: UnsafePointer<Float>?
    var weightCF: UnsafePointer<Float>?
    var weightCO: UnsafePointer<Float>?
}

extension FusedDirectionWeights {
    var vectors: CellRowVectors { CellRowVectors(biasHH: biasHH, weightCI: weightCI, weightCF: weightCF, weightCO: weightCO) }
}

/// The parameters of one layer and direction for the cell path, looked up by PyTorch name stem
/// (`weight_ih`, `ln_hh`, ...).
struct CellPathParameters {
    let configuration: RecurrentLayerConfiguration
    let suffix: String
    let byName: [String: Parameter]
    /// Where the wrappers draw their masks (the layer's `randomSource`).
    let source: RandomSource

    func callAsFunction(_ stem: String) -> Parameter { byName[stem + suffix]! }
    var biasIH: Parameter? { configuration.bias ? self("bias_ih") : nil }
    var biasHH: Parameter? { configuration.bias ? self("bias_hh") : nil }
    func norm(_ stem: String) -> LayerNormParameters? {
        configuration.layerNorm
            ? LayerNormParameters(weight: byName[stem + suffix + ".weight"]!, bias: byName[stem + suffix + ".bias"]!) : nil
    }
    func zeros(_ batchSize: Int) -> Variable { Variable(Tensor(zeros: [batchSize, configuration.hiddenSize])) }
}
