import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentFormats
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
/// and gradient-norm clipping. The held-out part is scored at the end by greedy decoding. Every
/// step is checked by `DivergenceMonitor`'s rule before its gradient is applied.
///
/// With an output directory the trainer writes a `TranslationTrainingCheckpoint` as `train` asks
/// and after the last step; `init(resuming:corpus:outputDirectory:changes:)` continues from one bit
/// for bit (weights, optimizer, batch order, the loss of the next report).
public struct TranslationTrainer {
    public let configuration: TranslationConfiguration
    public let corpus: ParallelCorpus
    public let trainingPairs: [TranslationPair]
    public let heldOutPairs: [TranslationPair]
    public let sourceVocabulary: TranslationVocabulary
    public let targetVocabulary: TranslationVocabulary
    /// Where checkpoints go; nil: the run writes none.
    public let checkpointStore: CheckpointStore?
    /// How the corpus was read (saved in checkpoints, e.g. `["pairs": path]`).
    public let dataSource: [String: String]
    /// The configuration fields a resumed run may change.
    public static let resumableFields: Set<String> = ["steps", "epochs"]
    /// The checkpoint a resumed trainer continues.
    private let resumed: TranslationTrainingCheckpoint?

    /// Splits the corpus and builds the vocabularies (nothing is trained yet).
    /// - Parameters:
    ///   - outputDirectory: the run directory for checkpoints (nil: none); it must not hold a run.
    ///   - dataSource: how the corpus was read, saved in checkpoints.
    /// - Throws: `ConfigurationError` for an invalid configuration; `ParallelCorpusError.tooFewPairs`;
    ///   `CheckpointError.outputDirectoryInUse`.
    public init(configuration: TranslationConfiguration, corpus: ParallelCorpus, outputDirectory: URL? = nil,
                dataSource: [String: String] = [:]) throws {
        let store = outputDirectory.map { CheckpointStore(runDirectory: $0) }
        try store?.requireNoRun()
        try self.init(configuration: configuration, corpus: corpus, store: store, dataSource: dataSource, resumed: nil)
    }

    /// Continues the run saved in `checkpoint` on `corpus`, which must be the corpus it trained on.
    /// - Parameters:
    ///   - outputDirectory: where to write from now on; nil: the checkpoint's run directory.
    ///   - changes: may change `steps` and `epochs`; any other change throws.
    /// - Throws: `CheckpointError.configurationChanged`, `.dataMismatch`, `.outputDirectoryInUse`.
    public init(resuming checkpoint: TranslationTrainingCheckpoint, corpus: ParallelCorpus, outputDirectory: URL? = nil,
                changes: (inout TranslationConfiguration) -> Void = { _ in }) throws {
        var configuration = checkpoint.configuration
        changes(&configuration)
        try checkpoint.checkResume(configuration: configuration, mayChange: Self.resumableFields,
                                   dataFingerprint: corpus.fingerprint, dataDescription: checkpoint.data["pairs"] ?? corpus.label)
        let store = CheckpointStore(runDirectory: outputDirectory ?? checkpoint.runDirectory)
        if store.runDirectory.path != checkpoint.runDirectory.standardizedFileURL.path { try store.requireNoRun() }
        try self.init(configuration: configuration, corpus: corpus, store: store, dataSource: checkpoint.data, resumed: checkpoint)
    }

    private init(configuration: TranslationConfiguration, corpus: ParallelCorpus, store: CheckpointStore?,
                 dataSource: [String: String], resumed: TranslationTrainingCheckpoint?) throws {
        try configuration.validate()
        try ConfigurationError.require(corpus.level == configuration.level, "level",
                                       "the corpus was read at \(corpus.level.rawValue) level, the configuration says \(configuration.level.rawValue)")
        self.configuration = configuration
        self.corpus = corpus
        self.checkpointStore = store
        self.dataSource = dataSource
        self.resumed = resumed
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
        /// The mean training loss (per target token) since the previous report on the interval.
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

    /// Trains a fresh model (drawn from `seed`), or the resumed one, up to `totalSteps` steps.
    /// - Parameter checkpoints: with an output directory, when to write a checkpoint (`.every(n)`:
    ///   every n steps), besides the one after the last step.
    /// - Throws: `ConfigurationError` for an invalid model size; `TrainingDivergence` (checkpoints
    ///   written before stay); `FileWriteError`; `CheckpointError` for a checkpoint that does not fit.
    public func train(reportInterval: Int = 100, checkpoints: CheckpointInterval = .default,
                      report: (Progress) -> Void = { _ in }) throws -> Result {
        let c = configuration
        let (model, optimizer, initial) = try start()
        var state = initial
        let sources = trainingPairs.map { sourceVocabulary.encode($0.source) }
        let targets = trainingPairs.map { targetVocabulary.encode($0.target) }
        let n = sources.count, total = totalSteps
        // The current epoch's order, drawn again from the generator saved at its start.
        var rng = state.progress.generator
        var order = state.progress.epoch > 0 ? Self.shuffled(n, using: &rng) : []
        var writer = CheckpointWriter(store: checkpointStore, monitor: state.progress.divergence, interval: checkpoints)
        while state.progress.step < total {
            if state.progress.epoch == 0 || state.position >= n {
                // A new epoch: the pairs in a fresh random order.
                state.progress.generator = rng
                order = Self.shuffled(n, using: &rng)
                state.position = 0
                state.progress.epoch += 1
            }
            let batch = order[state.position..<min(state.position + c.batchSize, n)]
            state.position += batch.count
            let out = model.teacherForced(sources: batch.map { sources[$0] }, targets: batch.map { targets[$0] })
            let loss = crossEntropy(logits: out.logits, targets: out.targets, ignoreIndex: EncoderDecoder.ignoreIndex)
            optimizer.zeroGrad()
            loss.backward()
            let norm = c.clipNorm.map { clipGradientNorm(model.parameters, maxNorm: $0) } ?? gradientNorm(model.parameters)
            try writer.check(step: state.progress.step + 1, loss: loss.value.scalar, gradientNorm: norm)
            optimizer.step()
            state.progress.step += 1
            let step = state.progress.step
            state.lossSum += loss.value.scalar
            state.lossCount += 1
            let onInterval = step % max(reportInterval, 1) == 0
            if onInterval || step == total {
                state.lastLoss = state.lossSum / Float(state.lossCount)
                report(Progress(step: step, totalSteps: total, epoch: Double(state.progress.epoch - 1) + Double(state.position) / Double(n),
                                loss: state.lastLoss!))
                // Only the intervals restart the mean, so that a run stopped here and resumed reports as an uninterrupted one.
                if onInterval { (state.lossSum, state.lossCount) = (0, 0) }
            }
            if writer.isDue(after: step) || step == total {
                let snapshot = state
                try writer.save(step: step, isFinal: step == total) { monitor in
                    var saved = snapshot
                    saved.progress.divergence = monitor
                    return try TranslationTrainingCheckpoint.files(
                        configuration: c, dataFingerprint: corpus.fingerprint, data: dataSource, state: saved,
                        weights: model.stateDict(), optimizerState: optimizer.stateDict(), bestWeights: nil)
                }
            }
        }
        model.isTraining = false
        let translator = Translator(model: model, sourceVocabulary: sourceVocabulary, targetVocabulary: targetVocabulary,
                                    maxOutputLength: maxOutputLength)
        let heldOut = heldOutPairs.isEmpty ? nil : translator.evaluate(heldOutPairs)
        return Result(translator: translator, heldOut: heldOut, finalLoss: state.lastLoss ?? .nan, steps: state.progress.step)
    }

    /// The model, optimizer and state to train from: a new run's, or the checkpoint's.
    private func start() throws -> (EncoderDecoder, Adam, TranslationTrainingState) {
        let c = configuration
        var rng = RandomGenerator(seed: c.seed &+ 0x5EED)
        let model = try EncoderDecoder(Translator.modelConfiguration(source: sourceVocabulary, target: targetVocabulary,
                                                                     embeddingSize: c.embeddingSize, hiddenSize: c.hiddenSize,
                                                                     cell: c.cell, attention: c.attention), using: &rng)
        let optimizer = try Adam(model.parameters, learningRate: c.learningRate)
        if let resumed {
            try resumed.restore(model, optimizer: optimizer)
            return (model, optimizer, resumed.state)
        }
        return (model, optimizer, TranslationTrainingState(progress: TrainingProgress(generator: rng), position: 0, lossSum: 0,
                                                           lossCount: 0, lastLoss: nil))
    }

    /// `0..<n` in a random order (Fisher–Yates from the end).
    private static func shuffled(_ n: Int, using rng: inout RandomGenerator) -> [Int] {
        var order = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.nextInt(below: i + 1)) }
        return order
    }
}
