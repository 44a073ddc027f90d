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
    /// Which recurrent cell the model runs.
    public enum Cell: String, Codable, CaseIterable, Sendable {
        case rnn, lstm, gru
        case peepholeLSTM = "peephole-lstm"

        /// The state-dict prefix of the recurrent submodule.
        public var moduleName: String {
            switch self {
            case .rnn: return "rnn"
            case .lstm, .peepholeLSTM: return "lstm"
            case .gru: return "gru"
            }
        }
    }

    /// Everything needed to rebuild the model (saved beside checkpoints as JSON).
    public struct Configuration: Codable, Equatable, Sendable {
        public var cell: Cell
        public var vocabularySize: Int
        public var embeddingSize: Int
        public var hiddenSize: Int
        public var numLayers: Int
        /// Dropout between recurrent layers while training.
        public var dropout: Float

        public init(cell: Cell = .lstm, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int,
                    numLayers: Int = 1, dropout: Float = 0) {
            self.cell = cell
            self.vocabularySize = vocabularySize
            self.embeddingSize = embeddingSize
            self.hiddenSize = hiddenSize
            self.numLayers = numLayers
            self.dropout = dropout
        }

        /// The recurrent layer's configuration.
        public var recurrentConfiguration: RecurrentLayerConfiguration {
            let kind: RecurrentLayerConfiguration.Cell
            switch cell {
            case .rnn: kind = .rnn(.tanh)
            case .lstm, .peepholeLSTM: kind = .lstm
            case .gru: kind = .gru
            }
            return RecurrentLayerConfiguration(cell: kind, inputSize: embeddingSize, hiddenSize: hiddenSize,
                                               numLayers: numLayers, batchFirst: true, dropout: dropout,
                                               peephole: cell == .peepholeLSTM)
        }
    }

    public let configuration: Configuration
    public let embedding: Embedding
    public let recurrent: any RecurrentLayer
    public let head: Linear

    /// A model with PyTorch's default initialisation, drawn from `rng` in the order embedding,
    /// recurrent layer, head.
    /// - Throws: `ConfigurationError` naming an invalid size.
    public init(_ configuration: Configuration, using rng: inout RandomGenerator) throws {
        try ConfigurationError.require(configuration.vocabularySize > 0, "vocabularySize",
                                       "must be positive, got \(configuration.vocabularySize)")
        self.configuration = configuration
        embedding = try Embedding(count: configuration.vocabularySize, dimension: configuration.embeddingSize, using: &rng)
        recurrent = try makeRecurrentLayer(configuration.recurrentConfiguration, using: &rng)
        head = try Linear(inputSize: configuration.hiddenSize, outputSize: configuration.vocabularySize, using: &rng)
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

    public var isTraining: Bool {
        get { recurrent.isTraining }
        set {
            embedding.isTraining = newValue
            recurrent.isTraining = newValue
            head.isTraining = newValue
        }
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
        if let fused = recurrent as? any FusedLayerBacked, 2 * configuration.vocabularySize < tokens.count {
            // The fused kernels project the vocabulary's embedding rows once instead of every token's row
            // (worth it when there are more than twice as many tokens as vocabulary entries).
            let rows = EmbeddedInputRows(tokens: tokens, embedding: FusedBuffer(copying: embedding.weight.value),
                                         vocabularySize: configuration.vocabularySize)
            let result = fused.core.run(embedded, h0: state?.h, c0: state?.c, training: fused.isTraining,
                                        layerName: configuration.cell.moduleName.uppercased(), embeddedInput: rows)
            (output, newState) = (result.output, RecurrentLayerState(h: result.h, c: result.c))
        } else {
            (output, newState) = recurrent.run(embedded, state: state)
        }
        return (head(output), newState)
    }
}

/// The fused layers (`RNN`, `LSTM`, `GRU`) behind `RecurrentLayer`, for `LanguageModel`'s token-table
/// input path.
protocol FusedLayerBacked: RecurrentLayer {
    var core: FusedSequenceLayer { get }
}

extension RNN: FusedLayerBacked {}
extension GRU: FusedLayerBacked {}
extension LSTM: FusedLayerBacked {}
