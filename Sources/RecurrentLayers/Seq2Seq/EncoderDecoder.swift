import Foundation
import RecurrentCore
import RecurrentAutodiff

/// The encoder–decoder (sequence-to-sequence) network of the lecture, with or without additive
/// attention.
///
/// Encoder: source tokens → `Embedding` → a recurrent cell run over the (optionally reversed)
/// source, giving h_1 … h_S and the final state (taken at each row's own last token).
///
/// Decoder, step i = 1, 2, … with state s_{i−1} (s_0 = the encoder's final state):
///
///     c_i   = Σ_j a_ij h_j, a_i = softmax_j(vᵀ tanh(W_s s_{i−1} + W_h h_j + b))   (attention on)
///     c_i   = c = h_S, the final encoder output                                    (attention off)
///     s_i   = cell([embed(y_{i−1}); c_i], s_{i−1})          y_0 = <go>
///     p(y_i) = softmax(W_o [s_i; c_i] + b_o)
///
/// With attention off this is the plain encoder–decoder whose only link to the source is one fixed
/// context vector (set as the initial state and fed at every step); with it on the context is
/// recomputed for every output token. Both have the same layers apart from the attention module, so
/// the two are compared like for like.
///
/// Training uses teacher forcing (`teacherForced`): the decoder reads `<go>` and then the reference
/// tokens, and must emit the reference followed by `<eos>`. Inference feeds back its own tokens:
/// `greedyDecode` (argmax) or `beamSearch`.
///
/// Parameters (state-dict names): `source_embedding.weight`, `encoder.*` (the cell: `weight_ih`,
/// `weight_hh`, `bias_ih`, `bias_hh`), `target_embedding.weight`, `decoder.*`, `attention.*` (see
/// `AdditiveAttention`; only with attention), `output.weight` `(targetVocabularySize, 2·hiddenSize)`,
/// `output.bias`.
public final class EncoderDecoder: Module {
    /// The recurrent cell of the encoder and the decoder.
    public typealias Cell = GatedCellKind

    public struct Configuration: Codable, Equatable, Sendable {
        public var sourceVocabularySize: Int
        /// Includes `<go>` and `<eos>`.
        public var targetVocabularySize: Int
        public var embeddingSize: Int
        /// The state size of both encoder and decoder.
        public var hiddenSize: Int
        public var cell: Cell
        /// Additive attention on (c_i per step) or off (a fixed context vector).
        public var attention: Bool
        public var attentionSize: Int
        /// Feed the source to the encoder last token first (the lecture's trick for translation).
        public var reverseSource: Bool
        /// The target token that starts decoding.
        public var goToken: Int
        /// The target token that ends a sequence.
        public var endToken: Int

        public init(sourceVocabularySize: Int, targetVocabularySize: Int, embeddingSize: Int = 16,
                    hiddenSize: Int = 32, cell: Cell = .gru, attention: Bool = true, attentionSize: Int? = nil,
                    reverseSource: Bool = false, goToken: Int = 0, endToken: Int = 1) {
            self.sourceVocabularySize = sourceVocabularySize
            self.targetVocabularySize = targetVocabularySize
            self.embeddingSize = embeddingSize
            self.hiddenSize = hiddenSize
            self.cell = cell
            self.attention = attention
            self.attentionSize = attentionSize ?? hiddenSize
            self.reverseSource = reverseSource
            self.goToken = goToken
            self.endToken = endToken
        }

        /// - Throws: `ConfigurationError` naming the first invalid field (sizes within `SizeLimits`).
        public func validate() throws {
            for (name, value) in [("sourceVocabularySize", sourceVocabularySize), ("targetVocabularySize", targetVocabularySize),
                                  ("embeddingSize", embeddingSize), ("hiddenSize", hiddenSize), ("attentionSize", attentionSize)] {
                try ConfigurationError.requireSize(value, name)
            }
            try ConfigurationError.require(goToken >= 0 && goToken < targetVocabularySize, "goToken",
                                           "must be in 0..<\(targetVocabularySize), got \(goToken)")
            try ConfigurationError.require(endToken >= 0 && endToken < targetVocabularySize, "endToken",
                                           "must be in 0..<\(targetVocabularySize), got \(endToken)")
            try ConfigurationError.require(goToken != endToken, "endToken", "must differ from goToken \(goToken)")
            try ConfigurationError.requireParameterCount(parameterShapes)
        }

        /// The state-dict names and shapes of the model's parameters, computed without allocating
        /// them (`source_embedding.weight`, `encoder.*`, `target_embedding.weight`, `decoder.*`,
        /// `attention.*` with attention, `output.*`).
        /// - Precondition: the sizes are within `SizeLimits`, so the products fit in `Int`.
        public var parameterShapes: [(name: String, shape: [Int])] {
            prefixed("source_embedding", Embedding.parameterShapes(count: sourceVocabularySize, dimension: embeddingSize))
                + prefixed("encoder", cell.stepCellParameterShapes(inputSize: embeddingSize, hiddenSize: hiddenSize))
                + prefixed("target_embedding", Embedding.parameterShapes(count: targetVocabularySize, dimension: embeddingSize))
                + prefixed("decoder", cell.stepCellParameterShapes(inputSize: embeddingSize + hiddenSize, hiddenSize: hiddenSize))
                + (attention ? prefixed("attention", AdditiveAttention.parameterShapes(querySize: hiddenSize, keySize: hiddenSize,
                                                                                       attentionSize: attentionSize)) : [])
                + prefixed("output", Linear.parameterShapes(inputSize: 2 * hiddenSize, outputSize: targetVocabularySize))
        }
    }

    /// The target index that `crossEntropy(..., ignoreIndex:)` should skip (padding of shorter targets).
    public static let ignoreIndex = -100

    public let configuration: Configuration
    public let sourceEmbedding: Embedding
    public let targetEmbedding: Embedding
    public let attention: AdditiveAttention?
    public let output: Linear
    private let encoder: StepCell
    private let decoder: StepCell
    public var isTraining = true

    /// A model with parameters drawn from `rng`.
    /// - Throws: `ConfigurationError` naming an invalid configuration field.
    public init(_ configuration: Configuration, using rng: inout RandomGenerator) throws {
        try configuration.validate()
        let c = configuration
        self.configuration = c
        sourceEmbedding = try Embedding(count: c.sourceVocabularySize, dimension: c.embeddingSize, using: &rng)
        encoder = try StepCell(c.cell, inputSize: c.embeddingSize, hiddenSize: c.hiddenSize, using: &rng)
        targetEmbedding = try Embedding(count: c.targetVocabularySize, dimension: c.embeddingSize, using: &rng)
        decoder = try StepCell(c.cell, inputSize: c.embeddingSize + c.hiddenSize, hiddenSize: c.hiddenSize, using: &rng)
        attention = c.attention
            ? try AdditiveAttention(querySize: c.hiddenSize, keySize: c.hiddenSize, attentionSize: c.attentionSize, using: &rng)
            : nil
        output = try Linear(inputSize: 2 * c.hiddenSize, outputSize: c.targetVocabularySize, using: &rng)
    }

    /// A model with parameters drawn from a generator seeded by the process-wide one (`GlobalRandom`).
    public convenience init(_ configuration: Configuration) throws {
        var rng = GlobalRandom.with { RandomGenerator(seed: $0.next()) }
        try self.init(configuration, using: &rng)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        prefixed("source_embedding", sourceEmbedding.namedParameters)
            + prefixed("encoder", encoder.module.namedParameters)
            + prefixed("target_embedding", targetEmbedding.namedParameters)
            + prefixed("decoder", decoder.module.namedParameters)
            + prefixed("attention", attention?.namedParameters ?? [])
            + prefixed("output", output.namedParameters)
    }

    // MARK: Encoder

    /// What the decoder reads from the encoder for one batch of sources.
    private struct Memory {
        /// h, `(sourceLength, batchSize, hiddenSize)`, zero past each row's length.
        var outputs: Variable
        /// W_h h + b, `(sourceLength, batchSize, attentionSize)`; nil without attention.
        var keys: Variable?
        var lengths: [Int]
        /// The encoder's final state (each row at its own last token).
        var finalState: CellState
    }

    private func encode(_ sources: [[Int]]) -> Memory {
        precondition(!sources.isEmpty && sources.allSatisfy { !$0.isEmpty },
                     "EncoderDecoder: needs one or more non-empty sources, got lengths \(sources.map(\.count))")
        for (b, source) in sources.enumerated() {
            for token in source where token < 0 || token >= configuration.sourceVocabularySize {
                preconditionFailure("EncoderDecoder: source token \(token) in row \(b) is outside 0..<\(configuration.sourceVocabularySize)")
            }
        }
        let ordered = configuration.reverseSource ? sources.map { Array($0.reversed()) } : sources
        let lengths = ordered.map(\.count)
        let sourceLength = lengths.max()!, batchSize = sources.count
        // Time-major token grid, padded with token 0 (masked out).
        var grid = [Int](repeating: 0, count: sourceLength * batchSize)
        for (b, tokens) in ordered.enumerated() { for (t, token) in tokens.enumerated() { grid[t * batchSize + b] = token } }
        let embedded = sourceEmbedding(grid, shape: [sourceLength, batchSize])
        let (outputs, final) = encoder.run(embedded, lengths: lengths)
        return Memory(outputs: outputs, keys: attention?.projectKeys(outputs), lengths: lengths, finalState: final)
    }

    // MARK: Decoder

    /// One decoder step for every row: logits `(batchSize, targetVocabularySize)`, the next state and
    /// the attention weights `(batchSize, sourceLength)` (nil without attention).
    private func decoderStep(previous: [Int], state: CellState, memory: Memory)
        -> (logits: Variable, state: CellState, weights: Variable?) {
        let context: Variable, weights: Variable?
        if let attention, let keys = memory.keys {
            (context, weights) = attention(query: state.h, projectedKeys: keys, values: memory.outputs, lengths: memory.lengths)
        } else {
            context = memory.finalState.h
            weights = nil
        }
        let input = Variable.concatenated([targetEmbedding(previous), context], axis: 1)
        let next = decoder.step(input, state: state)
        let logits = output(Variable.concatenated([next.h, context], axis: 1))
        return (logits, next, weights)
    }

    /// The result of teacher-forced decoding.
    public struct TeacherForcedOutput {
        /// `(targetLength + 1, batchSize, targetVocabularySize)`: step i predicts target token i, and
        /// step `targets[b].count` predicts `<eos>`.
        public var logits: Variable
        /// The classes to score against, `(targetLength + 1) · batchSize` in the logits' row-major
        /// order: each reference then `<eos>`, `EncoderDecoder.ignoreIndex` past it.
        public var targets: [Int]
        /// `(batchSize, targetLength + 1, sourceLength)` attention weights in encoder order; nil
        /// without attention.
        public var attention: Tensor?
    }

    /// Teacher forcing: the decoder reads `<go>, y_1 … y_{n−1}` and its logits at each step are scored
    /// against `y_1 … y_n, <eos>`. Train with
    /// `crossEntropy(logits: out.logits, targets: out.targets, ignoreIndex: EncoderDecoder.ignoreIndex)`.
    ///
    /// - Parameters:
    ///   - sources: `batchSize` token sequences (lengths may differ; each ≥ 1), in reading order.
    ///   - targets: `batchSize` reference outputs without `<go>`/`<eos>` (lengths may differ).
    public func teacherForced(sources: [[Int]], targets: [[Int]]) -> TeacherForcedOutput {
        precondition(sources.count == targets.count, "EncoderDecoder: \(sources.count) sources but \(targets.count) targets")
        for (b, target) in targets.enumerated() {
            for token in target where token < 0 || token >= configuration.targetVocabularySize {
                preconditionFailure("EncoderDecoder: target token \(token) in row \(b) is outside 0..<\(configuration.targetVocabularySize)")
            }
        }
        let memory = encode(sources)
        let batchSize = sources.count
        let steps = targets.map(\.count).max()! + 1
        var state = memory.finalState
        var logits = [Variable](), weights = [Variable]()
        var classes = [Int]()
        classes.reserveCapacity(steps * batchSize)
        for i in 0..<steps {
            let previous = targets.map { i == 0 ? configuration.goToken : ($0.count >= i ? $0[i - 1] : configuration.goToken) }
            let step = decoderStep(previous: previous, state: state, memory: memory)
            logits.append(step.logits)
            if let w = step.weights { weights.append(w) }
            state = step.state
            for target in targets {
                classes.append(i < target.count ? target[i] : (i == target.count ? configuration.endToken : Self.ignoreIndex))
            }
        }
        let attentionTensor = weights.isEmpty ? nil : Tensor.stacked(weights.map(\.value)).swappingAxes(0, 1)
        return TeacherForcedOutput(logits: Variable.stacked(logits), targets: classes, attention: attentionTensor)
    }

    // MARK: Inference

    /// One decoded output sequence.
    public struct Decoded: Sendable {
        /// The output tokens, without `<go>` and `<eos>`.
        public var tokens: [Int]
        /// log p(tokens, then `<eos>` if `finished`) under the model.
        public var logProbability: Float
        /// Whether the decoder emitted `<eos>` (false: stopped at `maxLength`).
        public var finished: Bool
        /// The attention weights `(decodedSteps, sourceLength)`, one row per decoder step (including the
        /// step that emitted `<eos>`), columns in the source's reading order (un-reversed when the
        /// model reverses its sources); nil without attention.
        public var attention: Tensor?
    }

    /// Maps a weight row in encoder order to the source's reading order.
    private func readingOrder(_ row: ArraySlice<Float>) -> [Float] {
        configuration.reverseSource ? Array(row.reversed()) : Array(row)
    }

    /// The most probable token of a log-probability row, never `<go>`.
    private func best(_ row: ArraySlice<Float>) -> (token: Int, logProbability: Float) {
        var token = -1
        var value = -Float.infinity
        for (k, x) in zip(0..., row) where k != configuration.goToken && (token < 0 || x > value) {
            token = k
            value = x
        }
        return (token, value)
    }

    /// Greedy decoding: at each step the most probable token (never `<go>`) is emitted and fed back,
    /// until `<eos>` or `maxLength` tokens (then `finished` is false). Runs without recording gradients.
    /// - Precondition: `maxLength ≥ 0`; sources as for `teacherForced`.
    public func greedyDecode(sources: [[Int]], maxLength: Int) -> [Decoded] {
        precondition(maxLength >= 0, "EncoderDecoder: maxLength must be non-negative, got \(maxLength)")
        return GradientMode.withoutGradients {
            let memory = encode(sources)
            let batchSize = sources.count, v = configuration.targetVocabularySize
            var results = (0..<batchSize).map { _ in Decoded(tokens: [], logProbability: 0, finished: false, attention: nil) }
            var done = [Bool](repeating: false, count: batchSize)
            var rows = [[[Float]]](repeating: [], count: batchSize)
            var previous = [Int](repeating: configuration.goToken, count: batchSize)
            var state = memory.finalState
            for _ in 0...maxLength {
                let step = decoderStep(previous: previous, state: state, memory: memory)
                let logProbabilities = step.logits.logSoftmax().value.scalars
                for b in 0..<batchSize where !done[b] {
                    let (token, logProbability) = best(logProbabilities[(b * v)..<((b + 1) * v)])
                    if token != configuration.endToken && results[b].tokens.count == maxLength {
                        done[b] = true
                        continue
                    }
                    if let w = step.weights?.value {
                        let width = w.shape[1]
                        rows[b].append(readingOrder(w.scalars[(b * width)..<(b * width + memory.lengths[b])]))
                    }
                    results[b].logProbability += logProbability
                    if token == configuration.endToken {
                        results[b].finished = true
                        done[b] = true
                    } else {
                        results[b].tokens.append(token)
                        previous[b] = token
                    }
                }
                state = step.state
                if done.allSatisfy({ $0 }) { break }
            }
            for b in 0..<batchSize where !rows[b].isEmpty { results[b].attention = Tensor(rows: rows[b]) }
            return results
        }
    }

    /// Beam search for one source. At each step every live prefix is extended by every token (never
    /// `<go>`); the `beamWidth` best extensions are kept, and those that end in `<eos>` become results.
    /// The search stops when no live prefix remains or `beamWidth` results are in and no live prefix
    /// is more probable than the worst of them (adding tokens only lowers a log-probability). After
    /// `maxLength` tokens only `<eos>` may follow, so every result is `finished`. Returns up to
    /// `beamWidth` results, most probable first (sum of log-probabilities, no length normalisation).
    /// With `beamWidth` 1 this is greedy decoding; with a width of at least the number of possible
    /// outputs it is exact. Runs without recording gradients. The bookkeeping is `BeamSearch`'s, shared
    /// with `TextGenerator`.
    /// - Precondition: `beamWidth ≥ 1`, `maxLength ≥ 0`, a non-empty source of valid tokens.
    public func beamSearch(source: [Int], beamWidth: Int, maxLength: Int) -> [Decoded] {
        precondition(beamWidth >= 1, "EncoderDecoder: beamWidth must be at least 1, got \(beamWidth)")
        precondition(maxLength >= 0, "EncoderDecoder: maxLength must be non-negative, got \(maxLength)")
        return GradientMode.withoutGradients {
            let single = encode([source])
            let sourceLength = source.count
            let v = configuration.targetVocabularySize
            var search = BeamSearch(vocabularySize: v, width: beamWidth, endToken: configuration.endToken,
                                    excludedToken: configuration.goToken)
            // Per live hypothesis, in the search's order: its decoder state and its attention rows so far.
            var states = [single.finalState]
            var rows: [[[Float]]] = [[]]
            var finished = [Decoded]()
            for length in 0...maxLength {
                let n = states.count
                let previous = length == 0 ? [configuration.goToken] : search.lastTokens
                let step = decoderStep(previous: previous, state: CellState.stacked(states), memory: repeated(single, count: n))
                let logProbabilities = step.logits.logSoftmax().value.scalars
                // Scores add in Float (held exactly in the search's Double).
                let scores = search.scores
                let kept = search.expand(onlyEndToken: length == maxLength) { b, k in
                    Double(Float(scores[b]) + logProbabilities[b * v + k])
                }
                let nextStates = n == 1 ? [step.state] : step.state.unstacked()
                var liveStates = [CellState](), liveRows = [[[Float]]]()
                for candidate in kept {
                    var candidateRows = rows[candidate.parent]
                    if let w = step.weights?.value {
                        candidateRows.append(readingOrder(w.scalars[(candidate.parent * sourceLength)..<((candidate.parent + 1) * sourceLength)]))
                    }
                    if candidate.token == configuration.endToken {
                        finished.append(Decoded(tokens: search.tokens(ofParent: candidate.parent), logProbability: Float(candidate.score),
                                                finished: true, attention: candidateRows.isEmpty ? nil : Tensor(rows: candidateRows)))
                    } else {
                        liveStates.append(nextStates[candidate.parent])
                        liveRows.append(candidateRows)
                    }
                }
                states = liveStates
                rows = liveRows
                finished.sort { $0.logProbability > $1.logProbability }
                if states.isEmpty { break }
                if finished.count >= beamWidth,
                   Float(search.scores.max()!) <= finished[beamWidth - 1].logProbability { break }
            }
            return Array(finished.prefix(beamWidth))
        }
    }

    /// The memory of a single source repeated for `count` rows.
    private func repeated(_ memory: Memory, count: Int) -> Memory {
        if count == 1 { return memory }
        func tile(_ x: Variable) -> Variable {
            // (S, 1, F) → (S, count, F)
            Variable.concatenated(Array(repeating: x, count: count), axis: 1)
        }
        return Memory(outputs: tile(memory.outputs), keys: memory.keys.map(tile),
                      lengths: Array(repeating: memory.lengths[0], count: count),
                      finalState: CellState.stacked(Array(repeating: memory.finalState, count: count)))
    }
}
