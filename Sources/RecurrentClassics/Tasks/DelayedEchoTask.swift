import RecurrentCore

/// A deterministic sequence task with a known answer: the target at step `t` is the input symbol
/// at step `t − delay`. The first `delay` steps have no target (they are marked `ignoreIndex`).
///
/// A network solves it only by remembering the last `delay` symbols, so it is a quick check that
/// a recurrent layer and its BPTT carry information across time.
public struct DelayedEchoTask: Sendable {
    /// The number of distinct symbols.
    public var vocabularySize: Int
    /// How many steps the echo lags behind the input.
    public var delay: Int
    /// Steps per sequence.
    public var sequenceLength: Int
    /// The target value of steps without a target.
    public static let ignoreIndex = -100

    public init(vocabularySize: Int, delay: Int, sequenceLength: Int) throws {
        try ConfigurationError.require(vocabularySize >= 2, "vocabularySize", "must be at least 2, got \(vocabularySize)")
        try ConfigurationError.require(delay >= 0, "delay", "must not be negative, got \(delay)")
        try ConfigurationError.require(sequenceLength > delay, "sequenceLength",
                                       "must exceed the delay \(delay), got \(sequenceLength)")
        self.vocabularySize = vocabularySize
        self.delay = delay
        self.sequenceLength = sequenceLength
    }

    /// One batch, batch-first: `inputs` and `targets` both hold `batchSize · sequenceLength` symbols,
    /// row `b` being sequence `b`.
    public func batch(size batchSize: Int, using rng: inout RandomGenerator) -> (inputs: [Int], targets: [Int]) {
        var inputs = [Int](repeating: 0, count: batchSize * sequenceLength)
        var targets = [Int](repeating: Self.ignoreIndex, count: batchSize * sequenceLength)
        for b in 0..<batchSize {
            let row = b * sequenceLength
            for t in 0..<sequenceLength { inputs[row + t] = rng.nextInt(below: vocabularySize) }
            for t in delay..<sequenceLength { targets[row + t] = inputs[row + t - delay] }
        }
        return (inputs, targets)
    }
}
