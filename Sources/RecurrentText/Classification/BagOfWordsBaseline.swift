import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim

/// The bag-of-words baseline: multinomial logistic regression on which words a text contains.
///
/// Features: one per word of a word-level `ClassificationVocabulary` built from the training texts
/// (lowercased words and punctuation, the `maxVocabularySize` most frequent; `<unk>` counts as a
/// word), 1 when the text contains the word and 0 otherwise — word order is invisible. The model is
/// `softmax(W x + b)`, trained by mini-batch Adam on the cross-entropy with a small L2 penalty,
/// keeping the epoch with the best validation accuracy, as the recurrent classifier is trained. A
/// linear model of the words present cannot represent "not good" against "not bad" (the sign flips
/// with the other word: an XOR) or which clause of "A but B" comes last, so the gap between this
/// baseline and a recurrent model measures what word order is worth on the data.
public final class BagOfWordsClassifier {
    public let vocabulary: ClassificationVocabulary
    public let labels: [String]
    let linear: Linear

    /// Trains on `training` (selecting the epoch on `validation` when given); `seed` draws the
    /// initial weights and the batch order.
    public init(training: TextClassificationDataset, validation: TextClassificationDataset?, maxVocabularySize: Int = 20_000,
                epochs: Int = 20, batchSize: Int = 32, learningRate: Float = 0.02, weightDecay: Float = 1e-4, seed: UInt64 = 1) throws {
        vocabulary = ClassificationVocabulary(level: .word, texts: training.texts, maxSize: max(maxVocabularySize, 3))
        labels = training.labels
        var rng = RandomGenerator(seed: seed)
        linear = try Linear(inputSize: vocabulary.count, outputSize: labels.count, using: &rng)
        let features = training.texts.map(featureIDs)
        let targets = training.examples.map(\.label)
        let validationFeatures = validation.map { $0.texts.map(featureIDs) }
        let optimizer = try Adam(linear.parameters, learningRate: learningRate, weightDecay: weightDecay)
        var best: (accuracy: Double, weights: [String: Tensor])?
        var order = Array(features.indices)
        for _ in 0..<epochs {
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.nextInt(below: i + 1)) }
            for start in stride(from: 0, to: order.count, by: batchSize) {
                let indices = Array(order[start..<min(start + batchSize, order.count)])
                optimizer.zeroGrad()
                let loss = crossEntropy(logits: linear(Variable(bag(indices.map { features[$0] }))), targets: indices.map { targets[$0] })
                loss.backward()
                optimizer.step()
            }
            if let validation, let validationFeatures, validation.count > 0 {
                let accuracy = metrics(features: validationFeatures, targets: validation.examples.map(\.label)).accuracy
                if accuracy > (best?.accuracy ?? -1) {
                    best = (accuracy, Dictionary(uniqueKeysWithValues: linear.stateDict().map { ($0.name, $0.tensor) }))
                }
            }
        }
        if let best { try linear.loadStateDict(best.weights) }
    }

    /// The distinct feature ids of a text.
    func featureIDs(_ text: String) -> [Int] { Array(Set(vocabulary.encode(text))).sorted() }

    /// `(B, V)` presence rows.
    func bag(_ rows: [[Int]]) -> Tensor {
        let V = vocabulary.count
        var scalars = [Float](repeating: 0, count: rows.count * V)
        for (b, ids) in rows.enumerated() { for id in ids { scalars[b * V + id] = 1 } }
        return Tensor(shape: [rows.count, V], scalars: scalars)
    }

    func metrics(features: [[Int]], targets: [Int]) -> ClassificationMetrics {
        var predictions: [Int] = []
        predictions.reserveCapacity(features.count)
        GradientMode.withoutGradients {
            for start in stride(from: 0, to: features.count, by: 256) {
                let logits = linear(Variable(bag(Array(features[start..<min(start + 256, features.count)])))).value
                predictions += TextClassificationTrainer.argmax(logits)
            }
        }
        return ClassificationMetrics(labels: labels, predictions: predictions, targets: targets)
    }

    /// The scores on `data` (whose labels must be this model's).
    public func evaluate(on data: TextClassificationDataset) -> ClassificationMetrics {
        precondition(data.labels == labels, "BagOfWordsClassifier: the data's labels differ from the model's")
        return metrics(features: data.texts.map(featureIDs), targets: data.examples.map(\.label))
    }
}
