import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim

/// Precision and recall of a detector that fires where its probability exceeds a threshold; a
/// detection counts as correct only at the exact step where the word ends.
public struct DetectionScore: Sendable, Equatable {
    public var truePositives = 0
    public var falsePositives = 0
    public var falseNegatives = 0
    public init() {}

    /// TP / (TP + FP); 1 when nothing was detected.
    public var precision: Double {
        truePositives + falsePositives == 0 ? 1 : Double(truePositives) / Double(truePositives + falsePositives)
    }
    /// TP / (TP + FN); 1 when there was nothing to detect.
    public var recall: Double {
        truePositives + falseNegatives == 0 ? 1 : Double(truePositives) / Double(truePositives + falseNegatives)
    }

    /// Adds the outcome of probabilities against 0/1 targets.
    public mutating func add(probabilities: [Float], targets: [Float], threshold: Float) {
        precondition(probabilities.count == targets.count, "DetectionScore: \(probabilities.count) probabilities for \(targets.count) targets")
        for (p, y) in zip(probabilities, targets) {
            switch (p > threshold, y > 0.5) {
            case (true, true): truePositives += 1
            case (true, false): falsePositives += 1
            case (false, true): falseNegatives += 1
            case (false, false): break
            }
        }
    }
}

/// Trains a `SequenceTagger` (letters → embedding → recurrent layer → one logit per step) to detect
/// the word: binary cross-entropy on every step, Adam, gradient-norm clipping. Each batch holds
/// `batchSize` independent streams of `sequenceLength` letters, each from the zero state.
public struct WordDetectionTraining: Sendable {
    public var cell: LanguageModel.Cell = .gru
    public var embeddingSize = 8
    public var hiddenSize = 32
    public var batchSize = 32
    public var sequenceLength = 40
    public var learningRate: Float = 0.01
    public var clipNorm: Float = 5
    public var steps = 400
    public var seed: UInt64 = 1
    /// The lecture's decision threshold on P(word just ended).
    public var threshold: Float = 0.9

    public init() {}

    /// A freshly trained detector.
    /// - Throws: `ConfigurationError` for an invalid size.
    public func train(_ task: WordDetectionTask, report: (_ step: Int, _ loss: Float) -> Void = { _, _ in }) throws -> SequenceTagger {
        var rng = RandomGenerator(seed: seed)
        let model = try SequenceTagger(cell: cell, vocabularySize: 26, embeddingSize: embeddingSize, hiddenSize: hiddenSize,
                                       outputSize: 1, using: &rng)
        let optimizer = try Adam(model.parameters, learningRate: learningRate)
        for step in 1...max(steps, 1) {
            let streams = (0..<batchSize).map { _ in task.stream(length: sequenceLength, using: &rng) }
            // Time-major (sequenceLength, batchSize).
            var letters = [Int](repeating: 0, count: sequenceLength * batchSize)
            var targets = [Float](repeating: 0, count: sequenceLength * batchSize)
            for (b, s) in streams.enumerated() {
                for t in 0..<sequenceLength {
                    letters[t * batchSize + b] = s.letters[t]
                    targets[t * batchSize + b] = s.targets[t]
                }
            }
            let (logits, _) = model(letters, sequenceLength: sequenceLength, batchSize: batchSize)
            let loss = binaryCrossEntropyWithLogits(logits: logits, targets: Tensor(shape: [sequenceLength, batchSize, 1], scalars: targets))
            optimizer.zeroGrad()
            loss.backward()
            _ = clipGradientNorm(model.parameters, maxNorm: clipNorm)
            optimizer.step()
            report(step, loss.value.scalar)
        }
        return model
    }

    /// P(word just ended) at every step of one long stream, run window by window with the state
    /// carried across windows (streaming, batch size 1).
    public static func probabilities(of model: SequenceTagger, letters: [Int], window: Int = 100) -> [Float] {
        GradientMode.withoutGradients {
            var state: RecurrentLayerState? = nil
            var result = [Float]()
            var start = 0
            while start < letters.count {
                let chunk = Array(letters[start..<min(start + window, letters.count)])
                let (logits, next) = model(chunk, sequenceLength: chunk.count, batchSize: 1, state: state)
                result += logits.value.scalars.map { Activation.sigmoid($0) }
                state = next
                start += chunk.count
            }
            return result
        }
    }

    /// Precision and recall at `threshold` on a fresh stream of `length` letters.
    public func evaluate(_ model: SequenceTagger, on task: WordDetectionTask, length: Int, seed: UInt64) -> DetectionScore {
        var rng = RandomGenerator(seed: seed)
        let (letters, targets) = task.stream(length: length, using: &rng)
        var score = DetectionScore()
        score.add(probabilities: Self.probabilities(of: model, letters: letters), targets: targets, threshold: threshold)
        return score
    }
}
