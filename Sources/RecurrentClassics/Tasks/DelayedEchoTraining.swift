import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim

/// Settings for training a `LanguageModel` on a `DelayedEchoTask`.
public struct DelayedEchoTraining: Sendable {
    public var cell: LanguageModel.Cell = .lstm
    public var hiddenSize = 32
    public var embeddingSize = 16
    public var batchSize = 32
    public var learningRate: Float = 0.01
    public var clipNorm: Float = 5
    /// Training stops after this many steps, or earlier once `targetAccuracy` is reached.
    public var maxSteps = 1500
    /// Accuracy on a fresh evaluation batch at which training stops.
    public var targetAccuracy: Double = 1.0
    /// Evaluate every this many steps.
    public var evaluationInterval = 25
    public var seed: UInt64 = 1

    public init() {}

    /// One evaluation during training.
    public struct Progress: Sendable {
        public var step: Int
        public var loss: Float
        /// Fraction of targets predicted exactly on a fresh batch of 256 sequences.
        public var accuracy: Double
    }

    /// Trains a model with Adam, clipping the gradient norm, and returns it with its progress.
    /// Deterministic for a given seed.
    public func run(_ task: DelayedEchoTask, report: (Progress) -> Void = { _ in }) throws
        -> (model: LanguageModel, history: [Progress]) {
        var rng = RandomGenerator(seed: seed)
        let model = try LanguageModel(.init(cell: cell, vocabularySize: task.vocabularySize, embeddingSize: embeddingSize,
                                            hiddenSize: hiddenSize), using: &rng)
        let optimizer = try Adam(model.parameters, learningRate: learningRate)
        var evaluationRNG = RandomGenerator(seed: seed &+ 0x5EED)
        var history: [Progress] = []
        for step in 1...maxSteps {
            let batch = task.batch(size: batchSize, using: &rng)
            let (logits, _) = model(batch.inputs, batchSize: batchSize, sequenceLength: task.sequenceLength)
            let loss = crossEntropy(logits: logits, targets: batch.targets, ignoreIndex: DelayedEchoTask.ignoreIndex)
            optimizer.zeroGrad()
            loss.backward()
            clipGradientNorm(model.parameters, maxNorm: clipNorm)
            optimizer.step()
            if step % evaluationInterval == 0 || step == maxSteps {
                let progress = Progress(step: step, loss: loss.value.scalar,
                                        accuracy: Self.accuracy(of: model, on: task, batchSize: 256, using: &evaluationRNG))
                history.append(progress)
                report(progress)
                if progress.accuracy >= targetAccuracy { break }
            }
        }
        return (model, history)
    }

    /// The fraction of targets (steps at or after the delay) that `model` predicts exactly.
    public static func accuracy(of model: LanguageModel, on task: DelayedEchoTask, batchSize: Int,
                                using rng: inout RandomGenerator) -> Double {
        let batch = task.batch(size: batchSize, using: &rng)
        let wasTraining = model.isTraining
        model.isTraining = false
        defer { model.isTraining = wasTraining }
        let logits = GradientMode.withoutGradients {
            model(batch.inputs, batchSize: batchSize, sequenceLength: task.sequenceLength).logits.value
        }
        let classes = task.vocabularySize
        var correct = 0, total = 0
        logits.scalars.withUnsafeBufferPointer { p in
            for (position, target) in batch.targets.enumerated() where target != DelayedEchoTask.ignoreIndex {
                let row = p[(position * classes)..<((position + 1) * classes)]
                let predicted = row.indices.max { row[$0] < row[$1] }! - position * classes
                correct += predicted == target ? 1 : 0
                total += 1
            }
        }
        return Double(correct) / Double(total)
    }
}
