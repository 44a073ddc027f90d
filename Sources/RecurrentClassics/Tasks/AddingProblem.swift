import RecurrentCore

/// The adding problem (Hochreiter & Schmidhuber 1997, in the form of Le, Jaitly & Hinton 2015): a
/// long-range memory benchmark.
///
/// Each sequence has `sequenceLength` steps of two input channels: a value uniform in [0, 1] and a
/// marker that is 1 at exactly two steps — one in the first half, one in the second half — and 0
/// elsewhere. The target, read after the last step, is the sum of the two marked values. Always
/// predicting 1 (the mean of the target) gives a mean squared error of Var(u₁ + u₂) = 2/12 ≈ 0.167
/// (`baselineMSE`); solving the task means an error well below it (0.01 is the usual bar).
///
/// Shapes (time-major): inputs `(sequenceLength, batchSize, 2)` with channel 0 the value and
/// channel 1 the marker; targets `(batchSize, 1)`.
public struct AddingProblem: Sendable, Equatable {
    public let sequenceLength: Int

    /// The error of the constant prediction 1: the variance of the sum of two uniform values.
    public static let baselineMSE: Double = 1.0 / 6.0

    /// - Throws: `ConfigurationError` naming `sequenceLength` when it is below 2.
    public init(sequenceLength: Int) throws {
        try ConfigurationError.require(sequenceLength >= 2, "sequenceLength",
                                       "must be at least 2 (one marker in each half), got \(sequenceLength)")
        self.sequenceLength = sequenceLength
    }

    /// `batchSize` fresh sequences.
    public func batch(size batchSize: Int, using rng: inout RandomGenerator) -> (inputs: Tensor, targets: Tensor) {
        precondition(batchSize > 0, "AddingProblem.batch: batchSize must be positive, got \(batchSize)")
        let T = sequenceLength, half = T / 2
        var inputs = Tensor(zeros: [T, batchSize, 2])
        var targets = Tensor(zeros: [batchSize, 1])
        for b in 0..<batchSize {
            for t in 0..<T { inputs.scalars[(t * batchSize + b) * 2] = rng.nextUniform() }
            let first = rng.nextInt(below: half)
            let second = half + rng.nextInt(below: T - half)
            inputs.scalars[(first * batchSize + b) * 2 + 1] = 1
            inputs.scalars[(second * batchSize + b) * 2 + 1] = 1
            targets.scalars[b] = inputs.scalars[(first * batchSize + b) * 2] + inputs.scalars[(second * batchSize + b) * 2]
        }
        return (inputs, targets)
    }
}
