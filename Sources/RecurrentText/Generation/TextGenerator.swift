import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers

/// Generates text from a `LanguageModel`: samples, greedy decoding or beam search.
///
/// A call to `generate` encodes the prime with the vocabulary, runs it through the model (batch 1,
/// one call per `primeWindow` tokens) to warm the state, then produces `length` tokens one at a time
/// with the state carried, feeding each chosen token back (batch 1, sequence length 1). Each token is
/// passed to the `onToken` callback as soon as it is chosen, so a caller can stream the text; the
/// library prints nothing. The prime itself is not passed to `onToken` nor included in the result.
///
/// Decoding (see `Options`):
/// - **sampling** (the default): a draw from softmax(logits / temperature), optionally restricted to
///   the `topK` most probable tokens and renormalised;
/// - **greedy**: the most probable token (the lowest id among equal logits) — when the temperature is
///   below `greedyTemperature` (including 0) or `topK` is 1;
/// - **beam search** (`beamWidth` W): keeps the W sequences of highest total log-probability, each
///   with its own state, expanding every one by every token at each step; returns the best after
///   `length` tokens. Temperature, top-k and the random generator play no part. Because the best
///   sequence is known only at the end, its tokens reach `onToken` all at once after the search.
///   W = 1 is greedy decoding.
///
/// An empty prime starts from the vocabulary's newline token when it has one (a single token
/// encoding "\n": always at byte level), otherwise from a token drawn uniformly with the generator's
/// random generator. This start token is context only: it is not part of the generated text.
///
/// The model runs in evaluation mode (no dropout) without recording gradients; its mode is restored
/// afterwards. Randomness comes only from the generator's own `random`, seeded from `Options.seed`,
/// so the same seed gives the same ids, text and bytes, and `GlobalRandom` is never touched.
/// Successive `generate` calls continue the same random stream.
public final class TextGenerator {
    /// How tokens are chosen.
    public struct Options: Equatable, Sendable {
        /// T ≥ 0: sampling from softmax(logits / T); T below `greedyTemperature` (such as 0) is greedy.
        public var temperature: Float
        /// Keep only the K ≥ 1 most probable tokens (nil: all). K ≥ vocabulary size keeps all.
        public var topK: Int?
        /// Beam search with this width W ≥ 1 instead of sampling (nil: sampling or greedy).
        public var beamWidth: Int?
        /// Seeds the generator's random generator.
        public var seed: UInt64
        /// The element type of the weights read per token when sampling or decoding greedily
        /// (`LanguageModelStepper(model, precision:)`). With `.bfloat16` or `.int8` the prime too runs
        /// one token at a time on that stepper, so every logit comes from the reduced weights; with
        /// `.float32` (the default) the prime runs through the model in windows, as before. Beam search
        /// supports only `.float32`.
        public var precision: WeightPrecision

        public init(temperature: Float = 1, topK: Int? = nil, beamWidth: Int? = nil, seed: UInt64 = 0,
                    precision: WeightPrecision = .float32) {
            self.temperature = temperature
            self.topK = topK
            self.beamWidth = beamWidth
            self.seed = seed
            self.precision = precision
        }

        /// Throws `ConfigurationError` naming `temperature`, `topK` or `beamWidth` when out of range.
        public func validate() throws {
            try ConfigurationError.require(temperature >= 0 && temperature.isFinite, "temperature",
                                           "must be a finite number ≥ 0, got \(temperature)")
            if let topK { try ConfigurationError.require(topK >= 1, "topK", "must be at least 1, got \(topK)") }
            if let beamWidth {
                try ConfigurationError.require(beamWidth >= 1, "beamWidth", "must be at least 1, got \(beamWidth)")
                try ConfigurationError.require(precision == .float32, "precision",
                                               "beam search runs in float32 only, got \(precision.rawValue)")
            }
        }
    }

    /// Temperatures below this decode greedily (dividing logits by a smaller number could overflow).
    public static let greedyTemperature: Float = 1e-4

    public let model: LanguageModel
    public let vocabulary: Vocabulary
    public let options: Options
    /// The generator's random generator (sampling and the start token of an empty prime). Its state
    /// can be saved and assigned back to continue a stream exactly.
    public var random: RandomGenerator

    /// The start token for an empty prime, when the vocabulary has a newline token.
    public let newlineID: Int?

    private var sampler: TokenSampler
    /// Each token's exact bytes, by id.
    private let tokenBytes: [[UInt8]]

    /// - Throws: `ConfigurationError` for invalid options, or when the vocabulary's size differs
    ///   from the model's `vocabularySize`.
    public init(model: LanguageModel, vocabulary: Vocabulary, options: Options = Options()) throws {
        try options.validate()
        let V = model.configuration.vocabularySize
        try ConfigurationError.require(vocabulary.count == V, "vocabulary",
                                       "has \(vocabulary.count) tokens but the model has vocabularySize \(V)")
        self.model = model
        self.vocabulary = vocabulary
        self.options = options
        random = RandomGenerator(seed: options.seed)
        sampler = TokenSampler(vocabularySize: V, temperature: options.temperature, topK: options.topK,
                               greedyBelow: Self.greedyTemperature)
        switch vocabulary.level {
        case .byte:
            tokenBytes = (0..<256).map { [UInt8($0)] }
            newlineID = 0x0A
        case .character, .word:
            tokenBytes = vocabulary.tokens.map { Array($0.utf8) }
            let newline = (try? vocabulary.encode("\n")) ?? []
            newlineID = newline.count == 1 && newline[0] != vocabulary.unknownID ? newline[0] : nil
        }
    }

    /// Encodes `prime` and generates `length` tokens after it.
    ///
    /// - Parameters:
    ///   - prime: the text to continue; empty: start from the newline token (see the type's documentation).
    ///   - length: the number of tokens to generate, ≥ 0.
    ///   - onToken: called with each generated token in order (after the search, for beam search).
    /// - Throws: `ConfigurationError` for a negative length; `VocabularyError` when a character of the
    ///   prime is not in a character-level vocabulary; `GenerationError` for NaN logits; whatever
    ///   `onToken` throws (generation stops there).
    @discardableResult
    public func generate(prime: String, length: Int,
                         onToken: (GeneratedToken) throws -> Void = { _ in }) throws -> GeneratedText {
        try ConfigurationError.require(length >= 0, "length", "must be at least 0, got \(length)")
        return try generate(primeIDs: try vocabulary.encode(prime), length: length, onToken: onToken)
    }

    /// Generates `length` tokens after the prime token ids `primeIDs` (each in `0..<vocabulary.count`).
    /// - Throws: `ConfigurationError` for a negative length or an id out of range; as `generate(prime:)`.
    @discardableResult
    public func generate(primeIDs: [Int], length: Int,
                         onToken: (GeneratedToken) throws -> Void = { _ in }) throws -> GeneratedText {
        try ConfigurationError.require(length >= 0, "length", "must be at least 0, got \(length)")
        let V = vocabulary.count
        if let bad = primeIDs.firstIndex(where: { $0 < 0 || $0 >= V }) {
            throw ConfigurationError(argument: "prime",
                                     reason: "token id \(primeIDs[bad]) at position \(bad) is outside 0..<\(V)")
        }
        let context = primeIDs.isEmpty ? [newlineID ?? random.nextInt(below: V)] : primeIDs
        guard length > 0 else {
            return GeneratedText(contextIDs: context, ids: [], text: "", bytes: [], logProbability: 0)
        }
        let wasTraining = model.isTraining
        model.isTraining = false
        defer { model.isTraining = wasTraining }
        return try GradientMode.withoutGradients {
            let (ids, logProbability): ([Int], Double)
            var renderer = TokenRenderer(vocabulary: vocabulary, tokenBytes: tokenBytes, length: length)
            if let width = options.beamWidth {
                (ids, logProbability) = try beamSearch(context: context, length: length, width: width)
                for id in ids { try onToken(renderer.render(id)) }
            } else {
                (ids, logProbability) = try sample(context: context, length: length) { id in
                    try onToken(renderer.render(id))
                }
            }
            return GeneratedText(contextIDs: context, ids: ids, text: vocabulary.decode(ids),
                                 bytes: renderer.bytes, logProbability: logProbability)
        }
    }

    /// The `count` most probable tokens to follow `prime` (the softmax of the logits at temperature 1,
    /// in Double), most probable first: "Let's meet for ___". An empty prime means the start of a line,
    /// as in `generate`. Ties keep the lower id first.
    /// - Throws: `ConfigurationError` for a count below 1; as `generate(prime:length:)` for the prime.
    public func mostProbableNextTokens(after prime: String, count: Int) throws -> [(token: String, probability: Double)] {
        try ConfigurationError.require(count >= 1, "count", "must be at least 1, got \(count)")
        let ids = try vocabulary.encode(prime)
        let context = ids.isEmpty ? [newlineID ?? 0] : ids
        let wasTraining = model.isTraining
        model.isTraining = false
        defer { model.isTraining = wasTraining }
        let (logits, _, row) = GradientMode.withoutGradients { warm(context) }
        let V = vocabulary.count
        let values = logits.value.scalars[(row * V)..<((row + 1) * V)].map(Double.init)
        guard values.allSatisfy(\.isFinite), let largest = values.max() else { throw GenerationError.nonFiniteLogits(step: 0) }
        let weights = values.map { Foundation.exp($0 - largest) }
        let total = weights.reduce(0, +)
        let order = (0..<V).sorted { weights[$0] > weights[$1] || (weights[$0] == weights[$1] && $0 < $1) }
        return order.prefix(count).map { (vocabulary.decode([$0]), weights[$0] / total) }
    }

    /// Prime windows: a long prime runs in windows of this many tokens with the state carried (the
    /// same computation as one call, with memory bounded by the window instead of the prime).
    public static let primeWindow = 256

    /// Runs the (non-empty) context through the model from the zero state.
    /// - Returns: the logits of the last window `(1, n, V)`, the state after the context, and the row
    ///   of the logits that predicts the first generated token.
    private func warm(_ context: [Int]) -> (logits: Variable, state: RecurrentLayerState, row: Int) {
        var start = 0
        var state: RecurrentLayerState? = nil
        while true {
            let end = min(start + Self.primeWindow, context.count)
            let (logits, next) = model(Array(context[start..<end]), batchSize: 1, sequenceLength: end - start, state: state)
            if end == context.count { return (logits, next, end - start - 1) }
            state = next
            start = end
        }
    }

    /// Sampling and greedy decoding: one model call per token, batch 1, state carried.
    private func sample(context: [Int], length: Int,
                        emit: (Int) throws -> Void) throws -> (ids: [Int], logProbability: Double) {
        let V = vocabulary.count
        var ids: [Int] = []
        ids.reserveCapacity(min(length, 1 << 16))
        var logProbability = 0.0
        let stepper = LanguageModelStepper(model, precision: options.precision)
        // The logits that choose the first token: the prime's last row.
        let primeLogits: [Float], row: Int
        if options.precision == .float32 {
            let warmed = warm(context)
            (primeLogits, row) = (warmed.logits.value.scalars, warmed.row)
            stepper.state = warmed.state
        } else {
            // Reduced weights from the first token: the prime, too, one token at a time on the stepper.
            for id in context { stepper.step(id) }
            (primeLogits, row) = (stepper.logits, 0)
        }
        // After the prime, one token at a time on the batch-1 path (no tape, no per-token allocation).
        for step in 0..<length {
            let choice = step == 0
                ? primeLogits.withUnsafeBufferPointer { sampler.choose($0.baseAddress! + row * V, using: &random) }
                : stepper.logits.withUnsafeBufferPointer { sampler.choose($0.baseAddress!, using: &random) }
            guard let choice else { throw GenerationError.nonFiniteLogits(step: step) }
            ids.append(choice.id)
            logProbability += choice.logProbability
            try emit(choice.id)
            if step + 1 < length { stepper.step(choice.id) }
        }
        return (ids, logProbability)
    }

    /// Beam search: all live hypotheses run as one batch; the states follow their hypotheses.
    private func beamSearch(context: [Int], length: Int, width: Int) throws -> (ids: [Int], logProbability: Double) {
        var (logits, state, firstRow) = warm(context)
        var search = BeamSearch(vocabularySize: vocabulary.count, width: width)
        for step in 0..<length {
            let ok = logits.value.scalars.withUnsafeBufferPointer { l in
                search.expand(logits: l.baseAddress! + firstRow * vocabulary.count)
            }
            guard ok else { throw GenerationError.nonFiniteLogits(step: step) }
            if step + 1 < length {
                state = search.reorder(state)
                let tokens = search.lastTokens
                (logits, state) = model(tokens, batchSize: tokens.count, sequenceLength: 1, state: state)
                firstRow = 0
            }
        }
        return search.best()
    }
}

/// Turns generated ids into `GeneratedToken`s and collects the exact bytes.
private struct TokenRenderer {
    let vocabulary: Vocabulary
    let tokenBytes: [[UInt8]]
    let length: Int
    var decoder = UTF8StreamDecoder()
    var bytes: [UInt8] = []
    var index = 0

    init(vocabulary: Vocabulary, tokenBytes: [[UInt8]], length: Int) {
        self.vocabulary = vocabulary
        self.tokenBytes = tokenBytes
        self.length = length
        // Bounded: a huge `length` must not allocate up front.
        bytes.reserveCapacity(min(length, 1 << 16) * (vocabulary.level == .word ? 8 : 1))
    }

    mutating func render(_ id: Int) -> GeneratedToken {
        let exact = tokenBytes[id]
        bytes.append(contentsOf: exact)
        let text: String
        if vocabulary.level == .byte {
            let decoded = decoder.decode(UInt8(id))
            // The last token also flushes an unfinished character, so the pieces add up to the text.
            text = index == length - 1 ? decoded + decoder.finish() : decoded
        } else {
            text = vocabulary.tokens[id]
        }
        defer { index += 1 }
        return GeneratedToken(index: index, id: id, text: text, bytes: exact)
    }
}
