import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentFormats
import RecurrentOptim

/// Trains a `LanguageModel` on a `TextCorpus` with truncated backpropagation through time, and
/// evaluates, samples and checkpoints it on the way (`recurrent train`).
///
/// Each step takes the next `(batchSize, sequenceLength)` window of the `StreamBatcher` (row `b` of
/// every window continues row `b` of the previous one), runs the model forward from the hidden state
/// carried from the previous window (detached: gradients stop at the window's start), takes the mean
/// cross-entropy over the window's `B · T` targets, backpropagates, clips (value, then global norm)
/// and steps the optimizer; the window's final hidden state is carried to the next window. With
/// `backpropagationLength` k2 ≠ T the window is run as truncated BPTT(T, k2)
/// (`TruncatedBackpropagation`). At the start of every epoch the carried state is reset to zero, as
/// char-rnn does (unless `continuousState`): the first window of an epoch starts each row at the
/// beginning of its stretch of text, which the state left at the end of the previous epoch (the end
/// of the row) does not precede. The learning rate is
/// `learningRate · learningRateDecay^epoch`.
///
/// Every `evaluateEvery` steps, and once more when training stops, the trainer measures the
/// validation loss (`LanguageModel.evaluate`, evaluation mode, no gradients, state carried across the
/// validation windows), calls `sampleHook`, and — with an output directory — writes a checkpoint,
/// `metrics.csv` and `loss.svg` (`CheckpointStore`). It reports through the event callback of
/// `train(onEvent:)` and prints nothing.
///
/// Divergence: every step is checked by `DivergenceMonitor`'s rule before its gradient is applied;
/// a checkpoint taken during training is written only once the next step has passed
/// (`DivergenceGuard`), so a diverging run stops with `TrainingDivergence` and leaves the last
/// sound checkpoint as `latest`.
///
/// Determinism: initialisation, dropout masks and the sample hook's generator all derive from
/// `seed`; evaluations and samples do not disturb the training computation. A run resumed from any of
/// its checkpoints (`init(resuming:corpus:outputDirectory:changes:)`) produces the same weights, bit
/// for bit, as the uninterrupted run. The run's dropout generator is the model's own
/// (`LanguageModel.dropoutGenerator`), so several trainers can run in one process.
public final class LanguageModelTrainer {
    /// Called at each evaluation with the model in evaluation mode (no dropout; no gradients are
    /// recorded), the vocabulary and a generator that is saved in checkpoints, so that samples are
    /// reproducible across resumes. Returns the text to report in `TrainingEvaluationReport.sample`.
    /// Nothing the hook draws affects training (dropout draws from the model's own generator).
    public typealias SampleHook = (_ model: LanguageModel, _ vocabulary: Vocabulary,
                                   _ generator: inout RandomGenerator) throws -> String

    /// A thread-safe request to stop (for example from a signal handler): training stops after the
    /// current step, with the usual final evaluation and checkpoint.
    public final class StopRequest: @unchecked Sendable {
        private let lock = NSLock()
        private var requested = false
        public init() {}
        public func request() { lock.lock(); requested = true; lock.unlock() }
        public var isRequested: Bool { lock.lock(); defer { lock.unlock() }; return requested }
        func clear() { lock.lock(); requested = false; lock.unlock() }
    }

    /// The run's configuration (`model.vocabularySize` is the vocabulary's size).
    public internal(set) var configuration: TrainingConfiguration
    /// The text, split into training and validation parts.
    public let corpus: TextCorpus
    /// The model being trained.
    public let model: LanguageModel
    /// The optimizer over `model`'s parameters.
    public let optimizer: any Optimizer
    /// Applies `learningRateDecay` once per epoch.
    public let scheduler: LearningRateScheduler
    /// Step, data position, training time, generators, best loss and metrics so far.
    public private(set) var state: TrainingState
    /// Where checkpoints, metrics and the plot go; nil when the run writes nothing.
    public let checkpointStore: CheckpointStore?
    /// See `SampleHook`; nil: no samples.
    public var sampleHook: SampleHook?
    /// Request a stop through it (from any thread) to end training cleanly after the current step;
    /// a request made before `train` is called ends it before the first step. Cleared when honoured.
    public let stopRequest = StopRequest()
    /// True when the trainer continues a checkpoint.
    public let isResumed: Bool

    private var batcher: StreamBatcher
    /// The divergence rule, and the checkpoint that waits for the next step's verdict.
    private var divergence: DivergenceGuard<PendingCheckpoint>
    /// The carried state (and, with k2 > k1, the history) between windows.
    private var truncation: TruncatedBackpropagation
    private let parameters: [Parameter]

    /// A new run: a model initialised from `configuration.seed`, the chosen optimizer, nothing trained yet.
    /// - Parameters:
    ///   - corpus: the text, read with `configuration.corpusConfiguration`.
    ///   - outputDirectory: the run directory for checkpoints, `metrics.csv` and `loss.svg` (created at
    ///     the first checkpoint, so that a run that fails to start writes nothing); nil: write nothing.
    /// - Throws: `ConfigurationError` for an invalid configuration, a corpus read with another
    ///   batch geometry or an output directory that cannot be written; `CheckpointError.outputDirectoryInUse`
    ///   when the directory already holds a run.
    public init(configuration: TrainingConfiguration, corpus: TextCorpus, outputDirectory: URL?) throws {
        var configuration = configuration
        configuration.model.vocabularySize = corpus.vocabulary.count
        try configuration.validate()
        try Self.requireMatching(corpus, configuration)
        let store = outputDirectory.map { CheckpointStore(runDirectory: $0) }
        try store?.checkWritable()
        try store?.requireNoRun()
        var rng = RandomGenerator(seed: configuration.seed)
        let model = try LanguageModel(configuration.model, using: &rng)
        try Self.prepare(model, for: configuration, using: &rng)
        model.isTraining = true
        let dropout = RandomGenerator(seed: rng.next())
        let sampling = RandomGenerator(seed: rng.next())
        (optimizer, scheduler) = try Self.makeOptimizer(configuration, parameters: model.parameters)
        self.configuration = configuration
        self.corpus = corpus
        self.model = model
        self.parameters = model.parameters
        self.state = TrainingState(dropoutGenerator: dropout, samplingGenerator: sampling)
        self.checkpointStore = store
        self.batcher = try corpus.trainingBatcher()
        self.divergence = DivergenceGuard()
        let (k1, k2) = configuration.truncation
        self.truncation = TruncatedBackpropagation(k1: k1, k2: k2, batchSize: configuration.batchSize)
        self.isResumed = false
    }

    /// Continues the run saved in `checkpoint` on `corpus`, which must be the same text read with the
    /// checkpoint's vocabulary (`TextCorpus.load(from:configuration:vocabulary:)` with
    /// `checkpoint.configuration.corpusConfiguration` and `checkpoint.vocabulary`). The trainer takes
    /// over the checkpoint's model and optimizer.
    ///
    /// The time budget counts the training time before the resume too: a 300 s budget stopped at
    /// 120 s trains 180 s more.
    /// - Parameters:
    ///   - outputDirectory: where to write from now on; nil: the checkpoint's run directory.
    ///   - changes: may change the stopping limits (`epochs`, `timeBudget`, `maxSteps`) and
    ///     `evaluateEvery`; any other change throws `CheckpointError.configurationChanged`.
    /// - Throws: `CheckpointError` when the text is not the one the checkpoint trained on, or the
    ///   output directory holds another run; `ConfigurationError` for invalid changes.
    public init(resuming checkpoint: TrainingCheckpoint, corpus: TextCorpus, outputDirectory: URL? = nil,
                changes: (inout TrainingConfiguration) -> Void = { _ in }) throws {
        var configuration = checkpoint.configuration
        changes(&configuration)
        configuration.model.vocabularySize = checkpoint.configuration.model.vocabularySize
        if let conflict = checkpoint.configuration.firstResumeConflict(with: configuration) { throw conflict.error }
        try configuration.validate()
        let directoryPath = checkpoint.directory.path
        guard corpus.vocabulary == checkpoint.vocabulary else {
            throw CheckpointError.vocabularyMismatch(path: directoryPath, reason:
                "the text '\(corpus.source)' was read with another vocabulary; pass the checkpoint's vocabulary")
        }
        guard corpus.fingerprint == checkpoint.corpusFingerprint else {
            throw CheckpointError.vocabularyMismatch(path: directoryPath, reason:
                "the text '\(corpus.source)' is not the text the checkpoint was trained on ('\(ErrorMessage.excerpt(checkpoint.corpusSource))')")
        }
        try Self.requireMatching(corpus, configuration)
        let run = outputDirectory ?? checkpoint.runDirectory
        let store = run.map { CheckpointStore(runDirectory: $0) }
        try store?.checkWritable()
        if let store, checkpoint.runDirectory?.standardizedFileURL.path != store.runDirectory.path {
            try store.requireNoRun()
        }
        do {
            batcher = try corpus.trainingBatcher(position: checkpoint.state.position)
        } catch {
            throw CheckpointError.invalidState(path: checkpoint.directory.appendingPathComponent(TrainingCheckpoint.File.state).path,
                                               reason: TrainingCheckpoint.describe(error))
        }
        self.configuration = configuration
        self.corpus = corpus
        self.model = checkpoint.model
        self.model.isTraining = true
        self.model.embedding.weight.requiresGrad = configuration.freezeEmbeddings != true
        self.optimizer = checkpoint.optimizer
        self.scheduler = checkpoint.scheduler
        self.parameters = checkpoint.optimizer.parameters
        self.state = checkpoint.state
        self.divergence = DivergenceGuard(checkpoint.state.divergence ?? DivergenceMonitor())
        self.checkpointStore = store
        let (k1, k2) = configuration.truncation
        self.truncation = TruncatedBackpropagation(k1: k1, k2: k2, batchSize: configuration.batchSize)
        truncation.restore(state: checkpoint.carriedState, history: checkpoint.carriedHistory,
                           length: checkpoint.carriedHistory.count / configuration.batchSize)
        self.isResumed = true
    }

    /// Trains until a stopping limit of the configuration is reached (or `stopRequest`), then
    /// evaluates and checkpoints a last time. Calling it again continues the run if no limit has been
    /// reached (after a requested stop).
    /// - Parameter onEvent: receives every `TrainingEvent`; throwing from it stops training and is rethrown.
    /// - Returns: the summary also sent as `.finished`.
    /// - Throws: `TrainingDivergence` when a step diverges (`DivergenceMonitor`) or a validation loss
    ///   is not finite, file errors from checkpointing, and whatever `onEvent` or `sampleHook` throw.
    @discardableResult
    public func train(onEvent: (TrainingEvent) throws -> Void = { _ in }) throws -> TrainingSummary {
        let wallStart = ContinuousClock.now
        model.dropoutGenerator = state.dropoutGenerator
        defer { state.dropoutGenerator = model.dropoutGenerator! }
        model.isTraining = true
        let tokensPerStep = configuration.batchSize * configuration.sequenceLength
        try onEvent(.started(TrainingStart(resumed: isResumed, step: state.step, windowsPerEpoch: batcher.windowsPerEpoch,
                                           tokensPerStep: tokensPerStep, parameterCount: model.parameterCount,
                                           trainingTokens: corpus.training.count, validationTokens: corpus.validation.count)))
        var lossSum = 0.0, lossCount = 0
        var lastCheckpoint: URL? = nil
        var reason = stopReason()

        while reason == nil {
            let start = ContinuousClock.now
            let batch = batcher.next()
            if batch.startsEpoch && configuration.continuousState != true { truncation.reset() }
            while scheduler.lastEpoch < batch.position.epoch { scheduler.step() }
            let learningRate = optimizer.learningRate
            optimizer.zeroGrad()
            let loss = truncation.loss(model, inputs: batch.inputs, targets: batch.targets)
            loss.backward()
            if let clipValue = configuration.clipValue { clipGradientValue(parameters, clipValue: clipValue) }
            let norm = configuration.clipNorm.map { clipGradientNorm(parameters, maxNorm: $0) } ?? gradientNorm(parameters)
            let lossValue = loss.value.scalar
            // This step's loss judges the weights of the checkpoint held since the previous step.
            if let sound = try divergence.check(step: state.step + 1, loss: lossValue, gradientNorm: norm) {
                lastCheckpoint = try write(sound, onEvent: onEvent)
            }
            optimizer.step()
            state.step += 1
            state.divergence = divergence.monitor
            state.position = batcher.position
            state.trainingSeconds += Self.seconds(ContinuousClock.now - start)
            lossSum += Double(lossValue)
            lossCount += 1

            try onEvent(.step(TrainingStepReport(
                epoch: batch.position.epoch, step: state.step, window: batch.position.window,
                windowsPerEpoch: batcher.windowsPerEpoch, trainLoss: lossValue, learningRate: learningRate,
                tokensPerSecond: tokensPerSecond, trainingSeconds: state.trainingSeconds, fractionComplete: fractionComplete)))
            reason = stopReason()
            if state.step % configuration.evaluateEvery == 0 || reason != nil {
                let checkpoint = try evaluate(trainLoss: lossSum / Double(lossCount), learningRate: learningRate, onEvent: onEvent)
                if let checkpoint, reason == nil {
                    divergence.hold(checkpoint)
                } else if let checkpoint {
                    // At the end no step follows to judge the last update; the final evaluation was finite.
                    lastCheckpoint = try write(checkpoint, onEvent: onEvent)
                }
                lossSum = 0
                lossCount = 0
            }
        }

        if reason == .requested { stopRequest.clear() }   // a later call to train goes on
        let last = state.history.last
        let summary = TrainingSummary(
            validationLoss: last?.validationLoss, validationBitsPerToken: last?.validationBitsPerToken,
            bestValidationLoss: state.bestValidationLoss, bestStep: state.bestStep, trainLoss: last?.trainLoss,
            tokensPerSecond: tokensPerSecond, steps: state.step, epochs: epochsDone, seconds: state.trainingSeconds,
            wallSeconds: Self.seconds(ContinuousClock.now - wallStart), stopReason: reason ?? .requested,
            checkpoint: (lastCheckpoint ?? (try? checkpointStore?.checkpoint(.latest)) ?? nil)?.path)
        try onEvent(.finished(summary))
        return summary
    }

    /// A checkpoint taken, not yet written.
    private struct PendingCheckpoint {
        var files: [(name: String, data: Data)]
        var step: Int
        var isBest: Bool
        var history: [TrainingMetricsRow]
    }

    /// Writes `checkpoint` (with `metrics.csv` and `loss.svg`) and reports it. Returns its directory.
    private func write(_ checkpoint: PendingCheckpoint, onEvent: (TrainingEvent) throws -> Void) throws -> URL? {
        guard let checkpointStore else { return nil }
        let directory = try checkpointStore.write(files: checkpoint.files, step: checkpoint.step, isBest: checkpoint.isBest,
                                                  history: checkpoint.history)
        try onEvent(.checkpointWritten(CheckpointReport(directory: directory, step: checkpoint.step, isBest: checkpoint.isBest)))
        return directory
    }

    /// Evaluates the current model on the validation part, samples and records a metrics row.
    /// Returns the checkpoint of this moment, to be written (nil without an output directory).
    private func evaluate(trainLoss: Double, learningRate: Float,
                          onEvent: (TrainingEvent) throws -> Void) throws -> PendingCheckpoint? {
        let start = ContinuousClock.now
        var evaluation: LanguageModelEvaluation? = nil
        if !corpus.validation.isEmpty {
            let result = try model.evaluate(tokens: corpus.validation, batchSize: configuration.batchSize,
                                            sequenceLength: configuration.sequenceLength)
            try DivergenceMonitor.checkFinite(step: state.step, validationLoss: result.loss)
            evaluation = result
        }
        var isBest = false
        if let loss = evaluation?.loss, loss < (state.bestValidationLoss ?? .infinity) {
            isBest = true
            state.bestValidationLoss = loss
            state.bestStep = state.step
        }
        var sample: String? = nil
        if let sampleHook {
            model.isTraining = false
            defer { model.isTraining = true }
            var generator = state.samplingGenerator
            sample = try GradientMode.withoutGradients { try sampleHook(model, corpus.vocabulary, &generator) }
            state.samplingGenerator = generator
        }
        let row = TrainingMetricsRow(step: state.step, epoch: epochsDone, trainLoss: trainLoss,
                                     validationLoss: evaluation?.loss, validationBitsPerToken: evaluation?.bitsPerToken,
                                     tokensPerSecond: tokensPerSecond, trainingSeconds: state.trainingSeconds,
                                     learningRate: learningRate)
        state.history.append(row)
        try onEvent(.evaluated(TrainingEvaluationReport(
            step: state.step, epoch: epochsDone, trainLoss: trainLoss, validationLoss: evaluation?.loss,
            validationBitsPerToken: evaluation?.bitsPerToken, isBest: isBest, bestValidationLoss: state.bestValidationLoss,
            learningRate: learningRate, tokensPerSecond: tokensPerSecond, trainingSeconds: state.trainingSeconds,
            evaluationSeconds: Self.seconds(ContinuousClock.now - start), sample: sample)))
        guard checkpointStore != nil else { return nil }
        return PendingCheckpoint(files: try checkpointFiles(), step: state.step, isBest: isBest, history: state.history)
    }

    /// The files of a checkpoint of the current state (see `TrainingCheckpoint`).
    func checkpointFiles() throws -> [(name: String, data: Data)] {
        var current = state
        if let generator = model.dropoutGenerator { current.dropoutGenerator = generator }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let configurationFile = TrainingCheckpoint.ConfigurationFile(
            format: TrainingCheckpoint.format, formatVersion: TrainingCheckpoint.formatVersion, training: configuration,
            corpusFingerprint: Fingerprint.hexadecimal(corpus.fingerprint),
            corpusSource: corpus.source, step: state.step)
        let optimizerEntries = optimizer.stateDict().map { (name: "optimizer." + $0.name, tensor: $0.tensor) }
            + scheduler.stateDict().map { (name: "scheduler." + $0.name, tensor: $0.tensor) }
        var carried: [(name: String, tensor: Tensor)] = []
        if let carriedState = truncation.state {
            carried.append((name: "h", tensor: carriedState.h.value))
            if let c = carriedState.c { carried.append((name: "c", tensor: c.value)) }
        }
        if truncation.historyLength > 0 {
            carried.append((name: "history", tensor: Tensor(shape: [configuration.batchSize, truncation.historyLength],
                                                            scalars: truncation.history.map(Float.init))))
        }
        typealias File = TrainingCheckpoint.File
        return [
            (File.model, try Safetensors.encode(model.stateDict(), metadata: ["format": "pt"])),
            (File.optimizer, try Safetensors.encode(optimizerEntries)),
            (File.carriedState, try Safetensors.encode(carried)),
            (File.vocabulary, try corpus.vocabulary.jsonData()),
            (File.state, try encoder.encode(current)),
            (File.configuration, try encoder.encode(configurationFile)),
        ]
    }

    // MARK: - Progress

    /// Why training should stop now, or nil to go on.
    private func stopReason() -> StopReason? {
        if let maxSteps = configuration.maxSteps, state.step >= maxSteps { return .maxSteps }
        if let epochs = configuration.epochs, state.position.epoch >= epochs { return .epochs }
        if let budget = configuration.timeBudget, state.trainingSeconds >= budget { return .timeBudget }
        if stopRequest.isRequested { return .requested }
        return nil
    }

    /// Epochs done, with the fraction of the current epoch.
    private var epochsDone: Double {
        Double(state.position.epoch) + Double(state.position.window) / Double(batcher.windowsPerEpoch)
    }

    private var tokensPerSecond: Double {
        state.trainingSeconds > 0
            ? Double(state.step * configuration.batchSize * configuration.sequenceLength) / state.trainingSeconds : 0
    }

    private var fractionComplete: Double {
        var fraction = 0.0
        if let maxSteps = configuration.maxSteps { fraction = max(fraction, Double(state.step) / Double(maxSteps)) }
        if let epochs = configuration.epochs { fraction = max(fraction, epochsDone / Double(epochs)) }
        if let budget = configuration.timeBudget { fraction = max(fraction, state.trainingSeconds / budget) }
        return min(fraction, 1)
    }

    private static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }

    // MARK: - Building

    /// The optimizer and per-epoch scheduler that `configuration` describes, over `parameters`.
    static func makeOptimizer(_ configuration: TrainingConfiguration,
                              parameters: [Parameter]) throws -> (any Optimizer, LearningRateScheduler) {
        let rate = configuration.learningRate
        let optimizer: any Optimizer
        switch configuration.optimizer {
        case .adam: optimizer = try Adam(parameters, learningRate: rate)
        case .sgd: optimizer = try SGD(parameters, learningRate: rate)
        case .rmsprop: optimizer = try RMSprop(parameters, learningRate: rate)
        case .adagrad: optimizer = try Adagrad(parameters, learningRate: rate)
        }
        let scheduler = LearningRateScheduler(try ExponentialLR(gamma: configuration.learningRateDecay), optimizer: optimizer)
        return (optimizer, scheduler)
    }

    /// The corpus must have been read with the configuration's level and batch geometry.
    private static func requireMatching(_ corpus: TextCorpus, _ configuration: TrainingConfiguration) throws {
        let c = corpus.configuration
        try ConfigurationError.require(c.batchSize == configuration.batchSize && c.sequenceLength == configuration.sequenceLength,
                                       "corpus", "was read for batches of \(c.batchSize) × \(c.sequenceLength), the configuration has \(configuration.batchSize) × \(configuration.sequenceLength)")
        try ConfigurationError.require(corpus.vocabulary.level == configuration.level, "corpus",
                                       "is \(corpus.vocabulary.level.rawValue) level, the configuration asks for \(configuration.level.rawValue)")
        try ConfigurationError.require(c.validationFraction == configuration.validationFraction, "corpus",
                                       "was split with validation fraction \(c.validationFraction), the configuration has \(configuration.validationFraction)")
    }

    /// `LanguageModel.evaluate`: the mean cross-entropy of `model` over `tokens` (nats and bits per token).
    public static func evaluate(model: LanguageModel, tokens: [Int], batchSize: Int,
                                sequenceLength: Int) throws -> LanguageModelEvaluation {
        try model.evaluate(tokens: tokens, batchSize: batchSize, sequenceLength: sequenceLength)
    }
}
