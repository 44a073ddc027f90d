import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim

/// A generated many-to-one task: classify a string of symbols `0..<modulus` of random length by the
/// sum of its symbols modulo `modulus`. The answer depends on every symbol, so the final state must
/// summarise the whole string, and reading padding as symbols would change it — a check that each
/// sequence's final state is taken at its own last step.
public struct ModularSumTask: Sendable, Equatable {
    public var modulus: Int
    public var lengths: ClosedRange<Int>

    /// - Throws: `ConfigurationError` naming `modulus` (2–20) or `lengths` (starting at 1 or more).
    public init(modulus: Int = 3, lengths: ClosedRange<Int>) throws {
        try ConfigurationError.require(modulus >= 2 && modulus <= 20, "modulus", "must be in 2...20, got \(modulus)")
        try ConfigurationError.require(lengths.lowerBound >= 1, "lengths", "must start at 1 or more, got \(lengths)")
        self.modulus = modulus
        self.lengths = lengths
    }

    /// The class of a string: the sum of its symbols modulo `modulus`.
    public func label(_ sequence: [Int]) -> Int { sequence.reduce(0, +) % modulus }

    /// `size` strings of lengths drawn uniformly from `lengths` (or exactly `length`) and their classes.
    public func batch(size: Int, length: Int? = nil, using rng: inout RandomGenerator) -> (sequences: [[Int]], labels: [Int]) {
        let sequences = (0..<size).map { _ in
            (0..<(length ?? (lengths.lowerBound + rng.nextInt(below: lengths.count)))).map { _ in rng.nextInt(below: modulus) }
        }
        return (sequences, sequences.map(label))
    }

    /// Trains a `SequenceClassifier` (cross-entropy, Adam) on padded batches of mixed lengths.
    /// - Throws: `ConfigurationError` for an invalid size.
    public func train(cell: GatedCellKind = .gru, hiddenSize: Int = 16, embeddingSize: Int = 8, batchSize: Int = 32,
                      steps: Int = 300, learningRate: Float = 0.02, seed: UInt64 = 1) throws -> SequenceClassifier {
        var rng = RandomGenerator(seed: seed)
        let model = try SequenceClassifier(cell: cell, vocabularySize: modulus, embeddingSize: embeddingSize,
                                           hiddenSize: hiddenSize, outputSize: modulus, using: &rng)
        let optimizer = try Adam(model.parameters, learningRate: learningRate)
        for _ in 0..<steps {
            let (sequences, labels) = batch(size: batchSize, using: &rng)
            let loss = crossEntropy(logits: model(sequences), targets: labels)
            optimizer.zeroGrad()
            loss.backward()
            _ = clipGradientNorm(model.parameters, maxNorm: 5)
            optimizer.step()
        }
        return model
    }

    /// The fraction of `count` fresh strings of `length` symbols classified correctly.
    public func accuracy(of model: SequenceClassifier, length: Int, count: Int, using rng: inout RandomGenerator) -> Double {
        GradientMode.withoutGradients {
            let (sequences, labels) = batch(size: count, length: length, using: &rng)
            let logits = model(sequences).value
            let m = modulus
            let correct = labels.indices.filter { b in
                let row = Array(logits.scalars[(b * m)..<((b + 1) * m)])
                return row.firstIndex(of: row.max()!) == labels[b]
            }.count
            return Double(correct) / Double(count)
        }
    }
}
