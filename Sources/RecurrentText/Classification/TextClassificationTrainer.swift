import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentFormats
import RecurrentOptim

/// How a `TextClassificationTrainer` trains.
public struct TextClassificationTrainingConfiguration: Codable, Equatable, Sendable {
    public var epochs: Int
    public var batchSize: Int
    /// Adam's learning rate.
    public var learningRate: Float
    /// Clip the global gradient norm to this value; nil: no clipping.
    public var clipNorm: Float?
    /// Batch order (the model's initialisation is drawn by whoever builds it).
    public var seed: UInt64

    public init(epochs: Int = 10, batchSize: Int = 32, learningRate: Float = 0.003, clipNorm: Float? = 1, seed: UInt64 = 1) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.clipNorm = clipNorm
        self.seed = seed
    }

    /// Throws a `ConfigurationError` naming the first invalid field.
    public func validate() throws {
        try ConfigurationError.require(epochs >= 1, "epochs", "must be positive, got \(epochs)")
        try ConfigurationError.require(batchSize >= 1, "batchSize", "must be positive, got \(batchSize)")
        try ConfigurationError.require(learningRate > 0 && learningRate.isFinite, "learningRate", "must be positive, got \(learningRate)")
        try ConfigurationError.require(clipNorm.map { $0 > 0 } ?? true, "clipNorm", "must be positive, got \(clipNorm ?? 0)")
    }
}

/// What the trainer reports after each epoch.
public struct TextClassificationEpoch: Sendable {
    public var epoch: Int
    /// Mean cross-entropy of the epoch's batches (while training, so with dropout).
    public var trainingLoss: Double
    public var trainingAccuracy: Double
    /// Scores on the validation set (nil without one).
    public var validationLoss: Double?
    public var validation: ClassificationMetrics?
    /// Whether this epoch's weights are the best so far (highest validation accuracy, then lowest
    /// validation loss; every epoch without a validation set).
    public var isBest: Bool
    public var seconds: Double
}

/// Trains a `TextClassifier` by mini-batch Adam on the cross-entropy, with gradient-norm clipping,
/// keeping the weights of the best validation epoch.
///
/// Batches: each epoch shuffles the examples, sorts each run of 16 batches' worth by length (so a
/// batch holds texts of similar length and little padding) and shuffles the batches. Every step is
/// checked by `DivergenceMonitor`'s rule before its gradient is applied.
///
/// With an output directory the trainer writes a `TextClassificationTrainingCheckpoint` at epoch
/// ends (as `train` asks, and after the last); `init(resuming:outputDirectory:changes:)` continues
/// from one bit for bit (weights, optimizer, batch order, dropout masks, best epoch).
public final class TextClassificationTrainer {
    public let model: TextClassifier
    public let configuration: TextClassificationTrainingConfiguration
    public let optimizer: Adam
    /// Where checkpoints go; nil: the run writes none.
    public let checkpointStore: CheckpointStore?
    /// How the data was read and split (saved in checkpoints, for the caller to read it again).
    public let dataSource: [String: String]
    /// The configuration fields a resumed run may change.
    public static let resumableFields: Set<String> = ["training.epochs"]
    /// The epoch with the best validation scores so far (nil without a validation set).
    public var bestEpoch: Int? { state.best?.epoch }

    private var state: TextClassificationTrainingState
    private var bestWeights: [String: Tensor]?
    /// The checkpoint a resumed trainer continues (its data is checked by `train`).
    private let resumed: TextClassificationTrainingCheckpoint?

    /// A new run on `model` (initialised by the caller; its dropout generators are taken over).
    /// - Parameters:
    ///   - outputDirectory: the run directory for checkpoints (nil: none); it must not hold a run.
    ///   - dataSource: how the data was read, saved in checkpoints.
    /// - Throws: `ConfigurationError`; `CheckpointError.outputDirectoryInUse`.
    public init(model: TextClassifier, configuration: TextClassificationTrainingConfiguration, outputDirectory: URL? = nil,
                dataSource: [String: String] = [:]) throws {
        try configuration.validate()
        let store = outputDirectory.map { CheckpointStore(runDirectory: $0) }
        try store?.requireNoRun()
        self.model = model
        self.configuration = configuration
        self.optimizer = try Adam(model.parameters, learningRate: configuration.learningRate)
        self.checkpointStore = store
        self.dataSource = dataSource
        let dropout = model.dropoutGenerators
        self.state = TextClassificationTrainingState(progress: TrainingProgress(generator: RandomGenerator(seed: configuration.seed)),
                                                     pooledDropout: dropout.pooled, layerDropout: dropout.layers, best: nil)
        self.resumed = nil
    }

    /// Continues the run saved in `checkpoint`: the model is built from it. `train` must then get
    /// the same training and validation sets.
    /// - Parameters:
    ///   - outputDirectory: where to write from now on; nil: the checkpoint's run directory.
    ///   - changes: may change `training.epochs`; any other change throws.
    /// - Throws: `CheckpointError` (a changed field, weights or optimizer state that do not fit,
    ///   `.outputDirectoryInUse`).
    public init(resuming checkpoint: TextClassificationTrainingCheckpoint, outputDirectory: URL? = nil,
                changes: (inout TextClassificationRun) -> Void = { _ in }) throws {
        var run = checkpoint.configuration
        changes(&run)
        try checkpoint.checkConfiguration(run, mayChange: Self.resumableFields)
        try run.training.validate()
        let store = CheckpointStore(runDirectory: outputDirectory ?? checkpoint.runDirectory)
        if store.runDirectory.path != checkpoint.runDirectory.standardizedFileURL.path { try store.requireNoRun() }
        var scratch = RandomGenerator(seed: 0)
        let model: TextClassifier
        do {
            model = try TextClassifier(run.model, vocabulary: run.vocabulary, labels: run.labels, maxLength: run.maxLength, using: &scratch)
        } catch {
            throw CheckpointError.malformed(path: checkpoint.directory.appendingPathComponent(ResumableCheckpointFile.configuration).path,
                                            reason: CheckpointError.describe(error))
        }
        self.model = model
        self.configuration = run.training
        self.optimizer = try Adam(model.parameters, learningRate: run.training.learningRate)
        try checkpoint.restore(model, optimizer: optimizer)
        self.bestWeights = try checkpoint.checkedBestWeights(for: model)
        self.checkpointStore = store
        self.dataSource = checkpoint.data
        self.state = checkpoint.state
        self.resumed = checkpoint
    }

    /// Runs the remaining epochs; afterwards the model holds the best epoch's weights (in evaluation mode).
    /// `batchProgress` is called after every batch with (epoch, batch, batches, running mean loss).
    /// - Returns: the report of every epoch run.
    @discardableResult
    public func train(_ training: TextClassificationDataset, validation: TextClassificationDataset?,
                      batchProgress: ((Int, Int, Int, Double) -> Void)? = nil) throws -> [TextClassificationEpoch] {
        try train(training, validation: validation, batchProgress: batchProgress) { _ in }
    }

    /// `train(_:validation:batchProgress:)`, calling `onEpoch` after every epoch; an error thrown
    /// there stops the run.
    /// - Parameter checkpoints: with an output directory, when to write a checkpoint (`.every(n)`:
    ///   every n epochs), besides the one after the last epoch.
    /// - Throws: `TrainingDivergence` (checkpoints written before stay); `FileWriteError`;
    ///   `CheckpointError.dataMismatch` when a resumed run gets other data.
    @discardableResult
    public func train(_ training: TextClassificationDataset, validation: TextClassificationDataset?,
                      checkpoints: CheckpointInterval = .default, batchProgress: ((Int, Int, Int, Double) -> Void)? = nil,
                      onEpoch: (TextClassificationEpoch) throws -> Void) throws -> [TextClassificationEpoch] {
        precondition(training.labels == model.labels, "TextClassificationTrainer: the data's labels differ from the model's")
        let validation = validation.flatMap { $0.count > 0 ? $0 : nil }
        let fingerprint = TextClassificationDataset.fingerprint(training, validation)
        try resumed?.checkData(fingerprint: fingerprint, description: dataSource["data"] ?? "the texts")
        var writer = CheckpointWriter(store: checkpointStore, monitor: state.progress.divergence, interval: checkpoints)
        var reports: [TextClassificationEpoch] = []
        model.dropoutGenerators = (state.pooledDropout, state.layerDropout)
        while state.progress.epoch < configuration.epochs {
            let epoch = state.progress.epoch + 1
            let started = Date()
            model.isTraining = true
            let batches = batchOrder(training)
            var lossSum = 0.0, correct = 0, seen = 0
            for (k, indices) in batches.enumerated() {
                let batch = training.batch(indices)
                optimizer.zeroGrad()
                let logits = model.logits(batch)
                let loss = crossEntropy(logits: logits, targets: batch.labels)
                loss.backward()
                let norm = configuration.clipNorm.map { clipGradientNorm(model.parameters, maxNorm: $0) } ?? gradientNorm(model.parameters)
                try writer.check(step: state.progress.step + 1, loss: loss.value.scalar, gradientNorm: norm)
                optimizer.step()
                state.progress.step += 1
                lossSum += Double(loss.value.scalar) * Double(indices.count)
                seen += indices.count
                correct += zip(Self.argmax(logits.value), batch.labels).filter { $0 == $1 }.count
                batchProgress?(epoch, k + 1, batches.count, lossSum / Double(seen))
            }
            var report = TextClassificationEpoch(epoch: epoch, trainingLoss: lossSum / Double(seen),
                                                 trainingAccuracy: Double(correct) / Double(seen),
                                                 validationLoss: nil, validation: nil, isBest: true, seconds: 0)
            if let validation {
                let (metrics, loss) = Self.evaluate(model, on: validation)
                try DivergenceMonitor.checkFinite(step: state.progress.step, validationLoss: loss)
                report.validation = metrics
                report.validationLoss = loss
                report.isBest = state.best.map { metrics.accuracy > $0.accuracy || (metrics.accuracy == $0.accuracy && loss < $0.loss) } ?? true
                if report.isBest {
                    state.best = .init(epoch: epoch, accuracy: metrics.accuracy, loss: loss)
                    bestWeights = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor) })
                }
            }
            report.seconds = Date().timeIntervalSince(started)
            model.isTraining = false
            state.progress.epoch = epoch
            (state.pooledDropout, state.layerDropout) = model.dropoutGenerators
            reports.append(report)
            try onEpoch(report)
            if writer.isDue(after: epoch) || epoch == configuration.epochs {
                try writer.save(step: state.progress.step, isFinal: epoch == configuration.epochs) { try checkpointFiles(fingerprint: fingerprint, monitor: $0) }
            }
        }
        if let bestWeights { try model.loadStateDict(bestWeights) }
        model.isTraining = false
        return reports
    }

    /// The files of a checkpoint of the state after the current epoch.
    private func checkpointFiles(fingerprint: UInt64, monitor: DivergenceMonitor) throws -> [(name: String, data: Data)] {
        var saved = state
        saved.progress.divergence = monitor
        let run = TextClassificationRun(model: model.configuration, vocabulary: model.vocabulary, labels: model.labels,
                                        maxLength: model.maxLength, training: configuration)
        let names = model.stateDict().map(\.name)
        return try TextClassificationTrainingCheckpoint.files(configuration: run, dataFingerprint: fingerprint,
            data: dataSource, state: saved, weights: model.stateDict(), optimizerState: optimizer.stateDict(),
            bestWeights: bestWeights.map { weights in names.map { ($0, weights[$0]!) } })
    }

    /// The batches of one epoch, as example indices.
    func batchOrder(_ data: TextClassificationDataset) -> [[Int]] {
        var order = Array(0..<data.count)
        shuffle(&order)
        let size = configuration.batchSize, run = size * 16
        var batches: [[Int]] = []
        for start in stride(from: 0, to: order.count, by: run) {
            let part = order[start..<min(start + run, order.count)].sorted { data.examples[$0].ids.count < data.examples[$1].ids.count }
            for b in stride(from: 0, to: part.count, by: size) { batches.append(Array(part[b..<min(b + size, part.count)])) }
        }
        shuffle(&batches)
        return batches
    }

    private func shuffle<T>(_ array: inout [T]) {
        for i in stride(from: array.count - 1, to: 0, by: -1) { array.swapAt(i, state.progress.generator.nextInt(below: i + 1)) }
    }

    /// The index of the largest logit of each row of `(B, C)`.
    static func argmax(_ logits: Tensor) -> [Int] {
        let C = logits.shape[1]
        return (0..<logits.shape[0]).map { b in
            var best = 0
            for c in 1..<C where logits.scalars[b * C + c] > logits.scalars[b * C + best] { best = c }
            return best
        }
    }

    /// The metrics and mean cross-entropy of `model` on `data` (evaluation mode, no gradients).
    public static func evaluate(_ model: TextClassifier, on data: TextClassificationDataset,
                                batchSize: Int = 128) -> (metrics: ClassificationMetrics, loss: Double) {
        GradientMode.withoutGradients {
            let wasTraining = model.isTraining
            model.isTraining = false
            defer { model.isTraining = wasTraining }
            // Sorted by length, so that batches carry little padding; the scores do not depend on order.
            let order = data.examples.indices.sorted { data.examples[$0].ids.count < data.examples[$1].ids.count }
            var predictions = [Int](repeating: 0, count: data.count)
            var lossSum = 0.0
            for start in stride(from: 0, to: order.count, by: batchSize) {
                let indices = Array(order[start..<min(start + batchSize, order.count)])
                let batch = data.batch(indices)
                let logits = model.logits(batch)
                lossSum += Double(crossEntropy(logits: logits, targets: batch.labels, reduction: .sum).value.scalar)
                for (i, p) in zip(indices, argmax(logits.value)) { predictions[i] = p }
            }
            let metrics = ClassificationMetrics(labels: data.labels, predictions: predictions, targets: data.examples.map(\.label))
            return (metrics, data.count == 0 ? 0 : lossSum / Double(data.count))
        }
    }
}
