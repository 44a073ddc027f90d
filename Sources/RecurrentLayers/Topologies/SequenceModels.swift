import RecurrentCore
import RecurrentAutodiff

// The topologies of the lecture besides the encoder–decoder: synchronised many-to-many (one output
// per input step), many-to-one (one output per sequence) and one-to-many (a sequence from a vector).

/// Synchronised many-to-many: tokens → `Embedding` → a fused recurrent layer → `Linear`, one output
/// vector per input step (e.g. a detector's logit at every position of a stream).
///
/// Shapes are time-major: tokens `(sequenceLength, batchSize)` row-major, outputs
/// `(sequenceLength, batchSize, outputSize)`. Parameters: `embedding.weight`, `rnn.*`/`lstm.*`/`gru.*`
/// (PyTorch names of the fused layer), `head.weight`, `head.bias`.
public final class SequenceTagger: Module {
    public let cell: LanguageModel.Cell
    public let embedding: Embedding
    public let recurrent: any RecurrentLayer
    public let head: Linear

    /// - Throws: `ConfigurationError` naming a size that is not positive.
    public init(cell: LanguageModel.Cell = .gru, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int,
                outputSize: Int, using rng: inout RandomGenerator) throws {
        self.cell = cell
        embedding = try Embedding(count: vocabularySize, dimension: embeddingSize, using: &rng)
        var configuration = LanguageModel.Configuration(cell: cell, vocabularySize: vocabularySize, embeddingSize: embeddingSize,
                                                        hiddenSize: hiddenSize).recurrentConfiguration
        configuration.batchFirst = false
        recurrent = try makeRecurrentLayer(configuration, using: &rng)
        head = try Linear(inputSize: hiddenSize, outputSize: outputSize, using: &rng)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        prefixed("embedding", embedding.namedParameters) + prefixed(cell.moduleName, recurrent.namedParameters)
            + prefixed("head", head.namedParameters)
    }

    public var isTraining: Bool {
        get { recurrent.isTraining }
        set { embedding.isTraining = newValue; recurrent.isTraining = newValue; head.isTraining = newValue }
    }

    /// Outputs `(sequenceLength, batchSize, outputSize)` for time-major tokens and the state after the
    /// last step (carry it, detached, to stream a long input window by window).
    public func callAsFunction(_ tokens: [Int], sequenceLength: Int, batchSize: Int,
                               state: RecurrentLayerState? = nil) -> (output: Variable, state: RecurrentLayerState) {
        precondition(tokens.count == sequenceLength * batchSize,
                     "SequenceTagger: \(tokens.count) tokens do not form a (\(sequenceLength), \(batchSize)) batch")
        let (hidden, next) = recurrent.run(embedding(tokens, shape: [sequenceLength, batchSize]), state: state)
        return (head(hidden), next)
    }
}

/// Many-to-one: a token sequence → `Embedding` → a gated cell over the sequence → `Linear` on the
/// final state, one output per sequence (e.g. class logits).
///
/// Sequences in a batch may differ in length: the final state of each is taken at its own last token
/// (`runSequence(_:over:lengths:)`). Parameters: `embedding.weight`, `cell.*` (`GRUCell`/`LSTMCell`
/// names), `head.weight` `(outputSize, hiddenSize)`, `head.bias`.
public final class SequenceClassifier: Module {
    public let embedding: Embedding
    private let cell: StepCell
    public let head: Linear
    public var isTraining = true

    /// - Throws: `ConfigurationError` naming a size that is not positive.
    public init(cell: GatedCellKind = .gru, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, outputSize: Int,
                using rng: inout RandomGenerator) throws {
        embedding = try Embedding(count: vocabularySize, dimension: embeddingSize, using: &rng)
        self.cell = try StepCell(cell, inputSize: embeddingSize, hiddenSize: hiddenSize, using: &rng)
        head = try Linear(inputSize: hiddenSize, outputSize: outputSize, using: &rng)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        prefixed("embedding", embedding.namedParameters) + prefixed("cell", cell.module.namedParameters)
            + prefixed("head", head.namedParameters)
    }

    /// The outputs `(batchSize, outputSize)` for `batchSize` token sequences of lengths ≥ 1.
    /// - Precondition: every token is in `0..<vocabularySize`.
    public func callAsFunction(_ sequences: [[Int]]) -> Variable {
        precondition(!sequences.isEmpty && sequences.allSatisfy { !$0.isEmpty },
                     "SequenceClassifier: needs one or more non-empty sequences, got lengths \(sequences.map(\.count))")
        let lengths = sequences.map(\.count)
        let sequenceLength = lengths.max()!, batchSize = sequences.count
        var grid = [Int](repeating: 0, count: sequenceLength * batchSize)
        for (b, tokens) in sequences.enumerated() { for (t, token) in tokens.enumerated() { grid[t * batchSize + b] = token } }
        let (_, final) = cell.run(embedding(grid, shape: [sequenceLength, batchSize]), lengths: lengths)
        return head(final.h)
    }
}

/// One-to-many: a vector → a sequence of outputs.
///
/// `.initialState`: `h_0 = tanh(W_c v + b_c)` (`condition.*`, `(hiddenSize, vectorSize)`), and the cell
/// reads nothing (a zero input of size 1) at every step. `.everyStep`: the cell starts from zeros and
/// reads `v` at every step. In both, `y_t = W_o h_t + b_o` (`head.*`). Parameters: `condition.*`
/// (only `.initialState`), `cell.*`, `head.*`. For LSTM, `.initialState` sets `h_0` and `c_0` is zero.
public final class SequenceGenerator: Module {
    /// How the vector enters the recurrence.
    public enum Conditioning: String, Codable, CaseIterable, Sendable {
        case initialState, everyStep
    }

    public let conditioning: Conditioning
    public let vectorSize: Int
    public let hiddenSize: Int
    public let condition: Linear?
    private let cell: StepCell
    public let head: Linear
    public var isTraining = true

    /// - Throws: `ConfigurationError` naming a size that is not positive.
    public init(cell: GatedCellKind = .gru, conditioning: Conditioning, vectorSize: Int, hiddenSize: Int, outputSize: Int,
                using rng: inout RandomGenerator) throws {
        try ConfigurationError.require(vectorSize > 0, "vectorSize", "must be positive, got \(vectorSize)")
        self.conditioning = conditioning
        self.vectorSize = vectorSize
        self.hiddenSize = hiddenSize
        condition = conditioning == .initialState ? try Linear(inputSize: vectorSize, outputSize: hiddenSize, using: &rng) : nil
        self.cell = try StepCell(cell, inputSize: conditioning == .everyStep ? vectorSize : 1, hiddenSize: hiddenSize, using: &rng)
        head = try Linear(inputSize: hiddenSize, outputSize: outputSize, using: &rng)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        prefixed("condition", condition?.namedParameters ?? []) + prefixed("cell", cell.module.namedParameters)
            + prefixed("head", head.namedParameters)
    }

    /// Outputs `(sequenceLength, batchSize, outputSize)` for vectors `(batchSize, vectorSize)`.
    public func callAsFunction(_ vectors: Variable, sequenceLength: Int) -> Variable {
        precondition(vectors.shape.count == 2 && vectors.shape[1] == vectorSize && sequenceLength > 0,
                     "SequenceGenerator: vectors must be (batchSize, \(vectorSize)) and sequenceLength positive, got \(vectors.shape), \(sequenceLength)")
        let batchSize = vectors.shape[0]
        let zeros = Variable(Tensor(zeros: [batchSize, hiddenSize]))
        var state: CellState
        let input: Variable
        switch conditioning {
        case .initialState:
            let h0 = condition!(vectors).tanh()
            state = CellState(h: h0, c: cell.hasCellState ? zeros : nil)
            input = Variable(Tensor(zeros: [batchSize, 1]))
        case .everyStep:
            state = CellState(h: zeros, c: cell.hasCellState ? zeros : nil)
            input = vectors
        }
        var outputs = [Variable]()
        for _ in 0..<sequenceLength {
            state = cell.step(input, state: state)
            outputs.append(head(state.h))
        }
        return Variable.stacked(outputs)
    }
}
