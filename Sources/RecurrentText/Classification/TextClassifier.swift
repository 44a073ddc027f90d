import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers

/// The architecture of a `TextClassifier`.
///
/// Sizes: V = `vocabularySize` (including `<pad>` and `<unk>`), E = `embeddingSize`,
/// H = `hiddenSize`, L = `numLayers`, D = 2 when `bidirectional` else 1, C = `classCount`.
public struct TextClassifierConfiguration: Codable, Equatable, Sendable {
    public var cell: CellKind
    public var vocabularySize: Int
    public var classCount: Int
    public var embeddingSize: Int
    public var hiddenSize: Int
    public var numLayers: Int
    public var bidirectional: Bool
    public var pooling: SequencePooling
    /// Dropout on the pooled vector while training (and between stacked layers).
    public var dropout: Float

    public init(cell: CellKind = .lstm, vocabularySize: Int, classCount: Int, embeddingSize: Int = 32, hiddenSize: Int = 64,
                numLayers: Int = 1, bidirectional: Bool = false, pooling: SequencePooling = .last, dropout: Float = 0) {
        self.cell = cell
        self.vocabularySize = vocabularySize
        self.classCount = classCount
        self.embeddingSize = embeddingSize
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
        self.bidirectional = bidirectional
        self.pooling = pooling
        self.dropout = dropout
    }

    /// The fused layer's configuration.
    public var recurrentConfiguration: RecurrentLayerConfiguration {
        RecurrentLayerConfiguration(cell: cell.layerCell, inputSize: embeddingSize, hiddenSize: hiddenSize, numLayers: numLayers,
                                    dropout: numLayers > 1 ? dropout : 0, bidirectional: bidirectional, peephole: cell.peephole)
    }

    /// The width D·H of the pooled vector.
    public var pooledSize: Int { (bidirectional ? 2 : 1) * hiddenSize }

    /// Throws a `ConfigurationError` naming the first invalid field (sizes within `SizeLimits`).
    public func validate() throws {
        try ConfigurationError.require(vocabularySize >= 3, "vocabularySize", "must be at least 3 (<pad>, <unk> and one token), got \(vocabularySize)")
        try ConfigurationError.requireSize(vocabularySize, "vocabularySize")
        try ConfigurationError.require(classCount >= 2, "classCount", "must be at least 2, got \(classCount)")
        try ConfigurationError.requireSize(classCount, "classCount")
        try ConfigurationError.requireSize(embeddingSize, "embeddingSize")
        try ConfigurationError.require(dropout >= 0 && dropout < 1, "dropout", "must be in [0, 1), got \(dropout)")
        try recurrentConfiguration.validate()
        try ConfigurationError.requireParameterCount(parameterShapes)
    }

    /// The state-dict names and shapes of the classifier's parameters, computed without allocating
    /// them: `embedding.weight` `(V, E)`, the recurrent layer's under `lstm.`/`gru.`/`rnn.`,
    /// `head.weight` `(C, D·H)`, `head.bias` `(C)`.
    /// - Precondition: the sizes are within `SizeLimits`, so the products fit in `Int`.
    public var parameterShapes: [(name: String, shape: [Int])] {
        prefixed("embedding", Embedding.parameterShapes(count: vocabularySize, dimension: embeddingSize))
            + prefixed(cell.moduleName, recurrentConfiguration.parameterShapes)
            + prefixed("head", Linear.parameterShapes(inputSize: pooledSize, outputSize: classCount))
    }
}

/// A padded batch of encoded texts, time-major.
///
/// `ids` holds T·B token ids, position `t * B + b` (`<pad>` past each row's length); `lengths` one
/// length per row in 1...T; `labels` one class index per row (empty when unknown).
public struct ClassificationBatch: Sendable {
    public var ids: [Int]
    public var lengths: [Int]
    public var labels: [Int]
    public var sequenceLength: Int { lengths.max() ?? 0 }
    public var batchSize: Int { lengths.count }

    /// Pads `sequences` (each non-empty) to the longest one.
    public init(sequences: [[Int]], labels: [Int] = []) {
        precondition(sequences.allSatisfy { !$0.isEmpty }, "ClassificationBatch: every sequence needs at least one token")
        let B = sequences.count, T = sequences.map(\.count).max() ?? 0
        var ids = [Int](repeating: ClassificationVocabulary.paddingID, count: T * B)
        for (b, sequence) in sequences.enumerated() {
            for (t, id) in sequence.enumerated() { ids[t * B + b] = id }
        }
        self.ids = ids
        self.lengths = sequences.map(\.count)
        self.labels = labels
    }
}

/// A many-to-one text classifier: Embedding → fused recurrent layer (RNN, LSTM or GRU, optionally
/// stacked and bidirectional) → pooling over time (`last`, `mean`, `max`) → Linear.
///
/// Shapes: ids (T, B) → embeddings (T, B, E) → outputs (T, B, D·H) and final state (L·D, B, H) →
/// pooled (B, D·H) → logits (B, C). Padded batches run with `lengths`, so every row stops at its own
/// last token.
///
/// Parameters (state-dict names): `embedding.weight` (V, E); the recurrent layer's PyTorch names
/// under `rnn.`, `lstm.` or `gru.` (`lstm.weight_ih_l0`, ...); `head.weight` (C, D·H), `head.bias` (C).
///
/// The vocabulary and the label names travel with the model (`TextClassificationCheckpoint` saves them).
public final class TextClassifier: Module {
    public let configuration: TextClassifierConfiguration
    public let vocabulary: ClassificationVocabulary
    /// The class names, index = class id.
    public let labels: [String]
    /// Tokens read per text (the first ones; the rest are ignored), as Keras's `maxlen` and Hugging
    /// Face's `max_length` with truncation: at most `maximumMaxLength`, `defaultMaxLength` unless given.
    /// Bounds the memory one text takes, whatever its length.
    public let maxLength: Int
    /// The default of `maxLength`: 512 tokens.
    public static let defaultMaxLength = 512
    /// The largest `maxLength` accepted: 10,000 tokens.
    public static let maximumMaxLength = 10_000
    let embedding: Embedding
    let recurrent: any RecurrentLayer
    let head: Linear
    /// Where the dropout masks of the pooled vector come from (those between stacked layers come
    /// from the recurrent layer's own `dropoutGenerator`, seeded from the same draw of the
    /// initialisation's generator; the trainer saves both in its checkpoints).
    var dropoutSource: RandomGenerator
    public var isTraining = true {
        didSet {
            embedding.isTraining = isTraining
            recurrent.isTraining = isTraining
            head.isTraining = isTraining
        }
    }

    /// A model with parameters drawn from `rng` (PyTorch's default initialisation of each layer).
    /// - Parameter maxLength: tokens read per text; nil is `defaultMaxLength`.
    /// - Throws: `ConfigurationError` naming an invalid size.
    public init(_ configuration: TextClassifierConfiguration, vocabulary: ClassificationVocabulary, labels: [String],
                maxLength: Int? = nil, using rng: inout RandomGenerator) throws {
        try configuration.validate()
        try ConfigurationError.require(vocabulary.count == configuration.vocabularySize, "vocabularySize",
                                       "is \(configuration.vocabularySize) but the vocabulary has \(vocabulary.count) tokens")
        try ConfigurationError.require(labels.count == configuration.classCount, "classCount",
                                       "is \(configuration.classCount) but there are \(labels.count) labels")
        let maxLength = maxLength ?? Self.defaultMaxLength
        try ConfigurationError.requireSize(maxLength, "maxLength", maximum: Self.maximumMaxLength)
        self.configuration = configuration
        self.vocabulary = vocabulary
        self.labels = labels
        self.maxLength = maxLength
        embedding = try Embedding(count: configuration.vocabularySize, dimension: configuration.embeddingSize, using: &rng)
        recurrent = try makeRecurrentLayer(configuration.recurrentConfiguration, using: &rng)
        head = try Linear(inputSize: configuration.pooledSize, outputSize: configuration.classCount, using: &rng)
        let seed = rng.next()
        dropoutSource = RandomGenerator(seed: seed)
        // From the same draw, so that the initialisation's generator is left as before.
        recurrent.dropoutGenerator = RandomGenerator(seed: seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The generators of the dropout masks: the pooled vector's, then the stacked layers'.
    var dropoutGenerators: (pooled: RandomGenerator, layers: RandomGenerator) {
        get { (dropoutSource, recurrent.dropoutGenerator!) }
        set { (dropoutSource, recurrent.dropoutGenerator) = (newValue.pooled, newValue.layers) }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        prefixed("embedding", embedding.namedParameters) + prefixed(configuration.cell.moduleName, recurrent.namedParameters)
            + prefixed("head", head.namedParameters)
    }

    /// The class logits `(B, C)` of a batch.
    public func logits(_ batch: ClassificationBatch) -> Variable {
        let T = batch.sequenceLength, B = batch.batchSize
        let input = embedding(batch.ids, shape: [T, B])
        let (output, state) = recurrent.run(input, state: nil, lengths: batch.lengths)
        let pooled: Variable
        switch configuration.pooling {
        case .last:
            // h: (L·D, B, H); the last layer's directions are its final D entries.
            let D = configuration.bidirectional ? 2 : 1, top = (configuration.numLayers - 1) * D
            pooled = D == 1 ? state.h.select(top, axis: 0)
                : Variable.concatenated([state.h.select(top, axis: 0), state.h.select(top + 1, axis: 0)], axis: 1)
        case .mean:
            pooled = output.maskedMean(overTimeWithLengths: batch.lengths)
        case .max:
            pooled = output.maskedMax(overTimeWithLengths: batch.lengths)
        }
        return head(dropout(pooled, probability: configuration.dropout, training: isTraining, using: &dropoutSource))
    }

    /// The token ids of `text` as the model reads it (at least one id: an empty text reads as `<unk>`).
    public func encode(_ text: String) -> [Int] {
        let ids = vocabulary.encode(text, maxLength: maxLength)
        return ids.isEmpty ? [ClassificationVocabulary.unknownID] : ids
    }

    /// Class probabilities of each text (rows sum to 1), without recording gradients, `batchSize` texts at a time.
    public func probabilities(of texts: [String], batchSize: Int = 64) -> [[Float]] {
        probabilities(ofEncoded: texts.map(encode), batchSize: batchSize)
    }

    /// Class probabilities of encoded texts (each non-empty).
    public func probabilities(ofEncoded sequences: [[Int]], batchSize: Int = 64) -> [[Float]] {
        GradientMode.withoutGradients {
            let wasTraining = isTraining
            isTraining = false
            defer { isTraining = wasTraining }
            var result: [[Float]] = []
            result.reserveCapacity(sequences.count)
            for start in stride(from: 0, to: sequences.count, by: batchSize) {
                let part = Array(sequences[start..<min(start + batchSize, sequences.count)])
                let p = logits(ClassificationBatch(sequences: part)).softmax().value
                let C = configuration.classCount
                for b in part.indices { result.append(Array(p.scalars[(b * C)..<((b + 1) * C)])) }
            }
            return result
        }
    }

    /// The most probable label of each text and its probability.
    public func predict(_ texts: [String]) -> [(label: String, probability: Float, probabilities: [Float])] {
        probabilities(of: texts).map { p in
            let best = p.indices.max { p[$0] < p[$1] } ?? 0
            return (labels[best], p[best], p)
        }
    }
}
