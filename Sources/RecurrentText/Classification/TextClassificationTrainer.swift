import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
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
/// batch holds texts of similar length and little padding) and shuffles the batches.
public final class TextClassificationTrainer {
    public let model: TextClassifier
    public let configuration: TextClassificationTrainingConfiguration
    public let optimizer: Adam
    private var rng: RandomGenerator

    public init(model: TextClassifier, configuration: TextClassificationTrainingConfiguration) throws {
        try configuration.validate()
        self.model = model
        self.configuration = configuration
        self.optimizer = try Adam(model.parameters, learningRate: configuration.learningRate)
        self.rng = RandomGenerator(seed: configuration.seed)
    }

    /// Runs all epochs; afterwards the model holds the best epoch's weights (in evaluation mode).
    /// `batchProgress` is called after every batch with (epoch, batch, batches, running mean loss).
    /// - Returns: every epoch's report.
    @discardableResult
    public func train(_ training: TextClassificationDataset, validation: TextClassificationDataset?,
                      batchProgress: ((Int, Int, Int, Double) -> Void)? = nil) throws -> [TextClassificationEpoch] {
        try train(training, validation: validation, batchProgress: batchProgress) { _ in }
    }

    /// `train(_:validation:batchProgress:)`, calling `onEpoch` after every epoch (e.g. to save a
    /// checkpoint when `isBest`); an error thrown there stops the run.
    @discardableResult
    public func train(_ training: TextClassificationDataset, validation: TextClassificationDataset?,
                      batchProgress: ((Int, Int, Int, Double) -> Void)? = nil,
                      onEpoch: (TextClassificationEpoch) throws -> Void) throws -> [TextClassificationEpoch] {
        precondition(training.labels == model.labels, "TextClassificationTrainer: the data's labels differ from the model's")
        var reports: [TextClassificationEpoch] = []
        var best: (accuracy: Double, loss: Double, weights: [String: Tensor])?
        for epoch in 1...configuration.epochs {
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
                if let clip = configuration.clipNorm { clipGradientNorm(model.parameters, maxNorm: clip) }
                optimizer.step()
                lossSum += Double(loss.value.scalar) * Double(indices.count)
                seen += indices.count
                correct += zip(Self.argmax(logits.value), batch.labels).filter { $0 == $1 }.count
                batchProgress?(epoch, k + 1, batches.count, lossSum / Double(seen))
            }
            var report = TextClassificationEpoch(epoch: epoch, trainingLoss: lossSum / Double(seen),
                                                 trainingAccuracy: Double(correct) / Double(seen),
                                                 validationLoss: nil, validation: nil, isBest: true, seconds: 0)
            if let validation, validation.count > 0 {
                let (metrics, loss) = Self.evaluate(model, on: validation)
                report.validation = metrics
                report.validationLoss = loss
                report.isBest = best.map { metrics.accuracy > $0.accuracy || (metrics.accuracy == $0.accuracy && loss < $0.loss) } ?? true
                if report.isBest { best = (metrics.accuracy, loss, Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor) })) }
            }
            report.seconds = Date().timeIntervalSince(started)
            model.isTraining = false
            reports.append(report)
            try onEpoch(report)
        }
        if let best { try model.loadStateDict(best.weights) }
        model.isTraining = false
        return reports
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
        for i in stride(from: array.count - 1, to: 0, by: -1) { array.swapAt(i, rng.nextInt(below: i + 1)) }
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
