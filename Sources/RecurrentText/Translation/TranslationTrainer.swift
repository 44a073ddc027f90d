import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim

/// What `TranslationTrainer` trains and how (saved in the checkpoint's `config.json`).
public struct TranslationConfiguration: Codable, Equatable, Sendable {
    public var level: TranslationLevel = .character
    public var cell: EncoderDecoder.Cell = .gru
    /// Additive attention (c_i per output step) or a fixed context vector.
    public var attention = true
    public var embeddingSize = 32
    public var hiddenSize = 64
    /// Training steps (batches); when nil, `epochs` passes over the training pairs.
    public var steps: Int? = 1000
    public var epochs: Int? = nil
    public var batchSize = 32
    public var learningRate: Float = 0.005
    /// The global gradient-norm bound; nil for no clipping.
    public var clipNorm: Float? = 5
    /// The fraction of pairs held out for evaluation.
    public var validationFraction = 0.1
    /// Caps each side's vocabulary (besides the specials); nil keeps every token.
    public var maxVocabularySize: Int? = nil
    /// Seeds the split, the initial weights and the batch order.
    public var seed: UInt64 = 1

    public init() {}

    /// - Throws: `ConfigurationError` naming the first invalid field.
    public func validate() throws {
        for (name, value) in [("embeddingSize", embeddingSize), ("hiddenSize", hiddenSize), ("batchSize", batchSize)] {
            try ConfigurationError.require(value > 0, name, "must be positive, got \(value)")
        }
        try ConfigurationError.require((steps == nil) != (epochs == nil), "steps", "give either steps or epochs")
        if let steps { try ConfigurationError.require(steps > 0, "steps", "must be positive, got \(steps)") }
        if let epochs { try ConfigurationError.require(epochs > 0, "epochs", "must be positive, got \(epochs)") }
        try ConfigurationError.require(learningRate > 0 && learningRate.isFinite, "learningRate", "must be positive, got \(learningRate)")
        if let clipNorm { try ConfigurationError.require(clipNorm > 0 && clipNorm.isFinite, "clipNorm", "must be positive, got \(clipNorm)") }
        try ConfigurationError.require(validationFraction >= 0 && validationFraction < 1, "validationFraction",
                                       "must be in [0, 1), got \(validationFraction)")
        if let maxVocabularySize {
            try ConfigurationError.require(maxVocabularySize >= 1, "maxVocabularySize", "must be at least 1, got \(maxVocabularySize)")
        }
    }
}

/// Trains an `EncoderDecoder` on a parallel corpus: the pairs are split (`validationFraction`), the
/// vocabularies built from the training part, and the model trained with teacher forcing on
/// shuffled padded batches (cross-entropy over the target tokens and `</s>`, padding ignored), Adam
/// and gradient-norm clipping. The held-out part is scored at the end by greedy decoding.
public struct TranslationTrainer {
    public let configuration: TranslationConfiguration
    public let corpus: ParallelCorpus
    public let trainingPairs: [TranslationPair]
    public let heldOutPairs: [TranslationPair]
    public let sourceVocabulary: TranslationVocabulary
    public let targetVocabulary: TranslationVocabulary

    /// Splits the corpus and builds the vocabularies (nothing is trained yet).
    /// - Throws: `ConfigurationError` for an invalid configuration; `ParallelCorpusError.tooFewPairs`.
    public init(configuration: TranslationConfiguration, corpus: ParallelCorpus) throws {
        try configuration.validate()
        try ConfigurationError.require(corpus.level == configuration.level, "level",
                                       "the corpus was read at \(corpus.level.rawValue) level, the configuration says \(configuration.level.rawValue)")
        self.configuration = configuration
        self.corpus = corpus
        (trainingPairs, heldOutPairs) = try corpus.split(validationFraction: configuration.validationFraction, seed: configuration.seed)
        sourceVocabulary = try TranslationVocabulary(of: trainingPairs.map(\.source), level: configuration.level,
                                                     maxSize: configuration.maxVocabularySize)
        targetVocabulary = try TranslationVocabulary(of: trainingPairs.map(\.target), level: configuration.level,
                                                     maxSize: configuration.maxVocabularySize)
    }

    /// The number of training steps: `steps`, or `epochs` × ⌈training pairs / batch size⌉.
    public var totalSteps: Int {
        configuration.steps ?? configuration.epochs! * ((trainingPairs.count + configuration.batchSize - 1) / configuration.batchSize)
    }

    /// The output length limit of decoding: twice the longest training target plus 2 tokens (at most
    /// `Translator.maximumOutputLength`).
    public var maxOutputLength: Int {
        min(2 * (trainingPairs.map { configuration.level.tokens(of: $0.target).count }.max() ?? 0) + 2, Translator.maximumOutputLength)
    }

    /// Reported every `reportInterval` steps and after the last.
    public struct Progress: Sendable {
        public var step: Int
        public var totalSteps: Int
        /// Passes over the training pairs completed (fractional).
        public var epoch: Double
        /// The mean training loss (per target token) since the previous report.
        public var loss: Float
    }

    public struct Result {
        public var translator: Translator
        /// Greedy decoding of the held-out pairs; nil when nothing is held out.
        public var heldOut: TranslationScores?
        /// The mean training loss of the last report interval.
        public var finalLoss: Float
        public var steps: Int
    }

    /// Trains a fresh model (drawn from `seed`) for `totalSteps` steps.
    /// - Throws: `ConfigurationError` for an invalid model size; `TranslationTrainingError.diverged`
    ///   when the loss becomes non-finite.
    public func train(reportInterval: Int = 100, report: (Progress) -> Void = { _ in }) throws -> Result {
        let c = configuration
        var rng = RandomGenerator(seed: c.seed &+ 0x5EED)
        let model = try EncoderDecoder(Translator.modelConfiguration(source: sourceVocabulary, target: targetVocabulary,
                                                                     embeddingSize: c.embeddingSize, hiddenSize: c.hiddenSize,
                                                                     cell: c.cell, attention: c.attention), using: &rng)
        let optimizer = try Adam(model.parameters, learningRate: c.learningRate)
        let sources = trainingPairs.map { sourceVocabulary.encode($0.source) }
        let targets = trainingPairs.map { targetVocabulary.encode($0.target) }
        let n = sources.count, total = totalSteps
        var order = [Int](), position = n, epochsStarted = 0
        var lossSum: Float = 0, lossCount = 0, lastLoss: Float = .nan
        for step in 1...total {
            if position >= n {
                // A new epoch: the pairs in a fresh random order.
                order = Array(0..<n)
                for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.nextInt(below: i + 1)) }
                position = 0
                epochsStarted += 1
            }
            let batch = order[position..<min(position + c.batchSize, n)]
            position += batch.count
            let out = model.teacherForced(sources: batch.map { sources[$0] }, targets: batch.map { targets[$0] })
            let loss = crossEntropy(logits: out.logits, targets: out.targets, ignoreIndex: EncoderDecoder.ignoreIndex)
            guard loss.value.scalar.isFinite else { throw TranslationTrainingError.diverged(step: step) }
            optimizer.zeroGrad()
            loss.backward()
            if let clipNorm = c.clipNorm { _ = clipGradientNorm(model.parameters, maxNorm: clipNorm) }
            optimizer.step()
            lossSum += loss.value.scalar
            lossCount += 1
            if step % max(reportInterval, 1) == 0 || step == total {
                lastLoss = lossSum / Float(lossCount)
                report(Progress(step: step, totalSteps: total, epoch: Double(epochsStarted - 1) + Double(position) / Double(n),
                                loss: lastLoss))
                lossSum = 0
                lossCount = 0
            }
        }
        model.isTraining = false
        let translator = Translator(model: model, sourceVocabulary: sourceVocabulary, targetVocabulary: targetVocabulary,
                                    maxOutputLength: maxOutputLength)
        let heldOut = heldOutPairs.isEmpty ? nil : translator.evaluate(heldOutPairs)
        return Result(translator: translator, heldOut: heldOut, finalLoss: lastLoss, steps: total)
    }
}

/// Training stopped.
public enum TranslationTrainingError: Error, LocalizedError, Equatable, Sendable {
    case diverged(step: Int)

    public var errorDescription: String? {
        switch self {
        case let .diverged(step):
            return "the training loss became non-finite at step \(step); try a smaller --lr or a --clip bound"
        }
    }
}
