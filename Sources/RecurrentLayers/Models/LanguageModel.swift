import RecurrentCore
import RecurrentAutodiff

/// A token-level language model: `Embedding → RNN | LSTM | GRU → Linear`, batch first.
///
/// The same shape as a char-rnn model and as this PyTorch module, whose state dict it reads and
/// writes unchanged (for an LSTM the recurrent submodule is named `lstm`, otherwise `rnn` or `gru`):
/// ```
/// class CharModel(nn.Module):
///     def __init__(self, vocab, emb, hidden, layers, dropout):
///         self.embedding = nn.Embedding(vocab, emb)
///         self.lstm = nn.LSTM(emb, hidden, layers, batch_first=True, dropout=dropout)
///         self.head = nn.Linear(hidden, vocab)
/// ```
/// Shapes: tokens `(batchSize, sequenceLength)` → logits `(batchSize, sequenceLength, vocabularySize)`.
public final class LanguageModel: Module {
    /// Which recurrent cell the model runs (the names of the cell table, `CellKind`).
    public typealias Cell = CellKind

    /// Everything needed to rebuild the model (saved beside checkpoints as JSON): the vocabulary and
    /// embedding sizes and the recurrent layer's own configuration (input size = embedding size, batch
    /// first).
    ///
    /// Saved as `{"cell", "vocabularySize", "embeddingSize", "hiddenSize", "numLayers", "dropout"}`, the
    /// format of every earlier version, plus the layer options that differ from their defaults
    /// (`nonlinearity`, `projSize`, `layerNorm`, `recurrentDropout`, `zoneout`, `resetAfter`).
    public struct Configuration: Codable, Equatable, Sendable {
        public var vocabularySize: Int
        public var embeddingSize: Int { didSet { recurrent.inputSize = embeddingSize } }
        /// The recurrent layer.
        public var recurrent: RecurrentLayerConfiguration

        public init(cell: Cell = .lstm, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int,
                    numLayers: Int = 1, dropout: Float = 0) {
            self.init(vocabularySize: vocabularySize, recurrent: RecurrentLayerConfiguration(
                cell: cell.layerCell, inputSize: embeddingSize, hiddenSize: hiddenSize, numLayers: numLayers,
                batchFirst: true, dropout: dropout, peephole: cell.peephole))
        }

        /// A model over `recurrent` (its input size is the embedding size; it is made batch first).
        public init(vocabularySize: Int, recurrent: RecurrentLayerConfiguration) {
            self.vocabularySize = vocabularySize
            self.embeddingSize = recurrent.inputSize
            var layer = recurrent
            layer.batchFirst = true
            self.recurrent = layer
        }

        /// The cell by name (a ReLU RNN reads as `.rnn`; its `recurrent.cell` says `.rnn(.relu)`).
        public var cell: Cell {
            get { CellKind(recurrent) ?? .rnn }
            set { recurrent.cell = newValue.layerCell; recurrent.peephole = newValue.peephole }
        }
        public var hiddenSize: Int {
            get { recurrent.hiddenSize }
            set { recurrent.hiddenSize = newValue }
        }
        public var numLayers: Int {
            get { recurrent.numLayers }
            set { recurrent.numLayers = newValue }
        }
        /// Dropout between recurrent layers while training.
        public var dropout: Float {
            get { recurrent.dropout }
            set { recurrent.dropout = newValue }
        }

        /// The recurrent layer's configuration (the same as `recurrent`).
        public var recurrentConfiguration: RecurrentLayerConfiguration { recurrent }

        /// Throws a `ConfigurationError` naming the first invalid field: the sizes (within
        /// `SizeLimits`), the recurrent layer's own rules, and `bidirectional`, which a language
        /// model cannot be (it predicts each token from the ones before it).
        public func validate() throws {
            try ConfigurationError.requireSize(vocabularySize, "vocabularySize")
            try ConfigurationError.requireSize(embeddingSize, "embeddingSize")
            try ConfigurationError.require(!recurrent.bidirectional, "bidirectional",
                                           "a language model reads left to right and cannot be bidirectional")
            try recurrent.validate()
            try ConfigurationError.requireParameterCount(parameterShapes)
        }

        /// The state-dict names and shapes of the model's parameters, computed without allocating
        /// them: `embedding.weight` `(V, E)`, the recurrent layer's under `lstm.`/`gru.`/`rnn.`,
        /// `head.weight` `(V, Hout)` and `head.bias` `(V)` (Hout = `projSize` when projecting, else H).
        /// - Precondition: the sizes are within `SizeLimits` (`validate()`), so the products fit in `Int`.
        public var parameterShapes: [(name: String, shape: [Int])] {
            prefixed("embedding", Embedding.parameterShapes(count: vocabularySize, dimension: embeddingSize))
                + prefixed(cell.moduleName, recurrent.parameterShapes)
                + prefixed("head", Linear.parameterShapes(inputSize: recurrent.outputHiddenSize, outputSize: vocabularySize))
        }

        private enum Keys: String, CodingKey {
            case cell, vocabularySize, embeddingSize, hiddenSize, numLayers, dropout
            case nonlinearity, projSize, layerNorm, recurrentDropout, zoneout, resetAfter
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            self.init(cell: try c.decode(Cell.self, forKey: .cell), vocabularySize: try c.decode(Int.self, forKey: .vocabularySize),
                      embeddingSize: try c.decode(Int.self, forKey: .embeddingSize),
                      hiddenSize: try c.decode(Int.self, forKey: .hiddenSize), numLayers: try c.decode(Int.self, forKey: .numLayers),
                      dropout: try c.decode(Float.self, forKey: .dropout))
            if let nonlinearity = try c.decodeIfPresent(RNNNonlinearity.self, forKey: .nonlinearity), case .rnn = recurrent.cell {
                recurrent.cell = .rnn(nonlinearity)
            }
            recurrent.projSize = try c.decodeIfPresent(Int.self, forKey: .projSize) ?? 0
            recurrent.layerNorm = try c.decodeIfPresent(Bool.self, forKey: .layerNorm) ?? false
            recurrent.recurrentDropout = try c.decodeIfPresent(Float.self, forKey: .recurrentDropout) ?? 0
            recurrent.zoneout = try c.decodeIfPresent(Float.self, forKey: .zoneout) ?? 0
            recurrent.resetAfter = try c.decodeIfPresent(Bool.self, forKey: .resetAfter) ?? true
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(cell, forKey: .cell)
            try c.encode(vocabularySize, forKey: .vocabularySize)
            try c.encode(embeddingSize, forKey: .embeddingSize)
            try c.encode(hiddenSize, forKey: .hiddenSize)
            try c.encode(numLayers, forKey: .numLayers)
            try c.encode(dropout, forKey: .dropout)
            if case .rnn(let nonlinearity) = recurrent.cell, nonlinearity != .tanh { try c.encode(nonlinearity, forKey: .nonlinearity) }
            if recurrent.projSize != 0 { try c.encode(recurrent.projSize, forKey: .projSize) }
            if recurrent.layerNorm { try c.encode(true, forKey: .layerNorm) }
            if recurrent.recurrentDropout != 0 { try c.encode(recurrent.recurrentDropout, forKey: .recurrentDropout) }
            if recurrent.zoneout != 0 { try c.encode(recurrent.zoneout, forKey: .zoneout) }
            if !recurrent.resetAfter { try c.encode(false, forKey: .resetAfter) }
        }
    }

    public let configuration: Configuration
    public let embedding: Embedding
    public let recurrent: any RecurrentLayer
    public let head: Linear
    /// The fused core of `recurrent` (run directly for the token-table input path and by the stepper).
    let recurrentCore: FusedSequenceLayer

    /// A model with PyTorch's default initialisation, drawn from `rng` in the order embedding,
    /// recurrent layer, head. With `projSize` the head reads the projected state (`projSize` wide).
    /// - Throws: `ConfigurationError` naming an invalid field (`Configuration.validate()`).
    public init(_ configuration: Configuration, using rng: inout RandomGenerator) throws {
        try configuration.validate()
        self.configuration = configuration
        embedding = try Embedding(count: configuration.vocabularySize, dimension: configuration.embeddingSize, using: &rng)
        (recurrent, recurrentCore) = try makeFusedRecurrentLayer(configuration.recurrent, using: &rng)
        head = try Linear(inputSize: configuration.recurrent.outputHiddenSize, outputSize: configuration.vocabularySize, using: &rng)
    }

    /// A model initialised from the process-wide generator `GlobalRandom`.
    public convenience init(_ configuration: Configuration) throws {
        var rng = GlobalRandom.with { rng in RandomGenerator(seed: rng.next()) }
        try self.init(configuration, using: &rng)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        prefixed("embedding", embedding.namedParameters)
            + prefixed(configuration.cell.moduleName, recurrent.namedParameters)
            + prefixed("head", head.namedParameters)
    }

    /// The generator of the recurrent layer's masks (dropout between layers, recurrent dropout,
    /// zoneout); nil, the default, draws them from `GlobalRandom`. `LanguageModelTrainer` sets the
    /// run's own generator here.
    public var dropoutGenerator: RandomGenerator? {
        get { recurrentCore.randomSource.generator }
        set { recurrentCore.randomSource.generator = newValue }
    }

    public var isTraining: Bool {
        get { recurrent.isTraining }
        set {
            embedding.isTraining = newValue
            recurrent.isTraining = newValue
            head.isTraining = newValue
        }
    }

    /// Whether a batch of `tokenCount` tokens runs layer 0's products with the embedding (the forward
    /// input projection; in training dW_ih and the embedding's gradient) on the vocabulary's rows instead
    /// of every token's: worth it when there are more than twice as many tokens as vocabulary entries.
    public static func runsLayer0OnVocabularyRows(tokenCount: Int, vocabularySize: Int) -> Bool {
        2 * vocabularySize < tokenCount
    }

    /// Logits for every position of a `(batchSize, sequenceLength)` batch of token ids.
    /// - Parameter state: the state carried from the previous window (nil: zero state).
    /// - Returns: logits `(batchSize, sequenceLength, vocabularySize)` and the state after the last step.
    public func callAsFunction(_ tokens: [Int], batchSize: Int, sequenceLength: Int,
                               state: RecurrentLayerState? = nil) -> (logits: Variable, state: RecurrentLayerState) {
        precondition(tokens.count == batchSize * sequenceLength,
                     "LanguageModel: \(tokens.count) tokens do not form a (\(batchSize), \(sequenceLength)) batch")
        let embedded = embedding(tokens, shape: [batchSize, sequenceLength])
        let (output, newState): (Variable, RecurrentLayerState)
        if Self.runsLayer0OnVocabularyRows(tokenCount: tokens.count, vocabularySize: configuration.vocabularySize) {
            // The fused kernels project the vocabulary's embedding rows once instead of every token's row,
            // and sum the gate gradients per token before the two backward products of layer 0.
            let rows = EmbeddedInputRows(tokens: tokens, embedding: FusedBuffer(copying: embedding.weight.value),
                                         vocabularySize: configuration.vocabularySize, weight: embedding.weight)
            let result = recurrentCore.run(embedded, h0: state?.h, c0: state?.c, training: recurrent.isTraining,
                                           layerName: configuration.cell.moduleName.uppercased(), embeddedInput: rows)
            (output, newState) = (result.output, RecurrentLayerState(h: result.h, c: result.c))
        } else {
            (output, newState) = recurrent.run(embedded, state: state)
        }
        return (head(output), newState)
    }
}
