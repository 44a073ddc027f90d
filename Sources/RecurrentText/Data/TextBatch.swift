/// One batch of a language model: inputs and their next-token targets, batch-first.
///
/// Layout (batchSize B, sequenceLength T): `inputs` and `targets` are flat arrays of `B · T` ids,
/// row-major `(B, T)`: the element of batch row `b` at step `t` is at index `b · T + t`. Row `b`
/// of consecutive batches is one contiguous stretch of text, so the hidden state of row `b` at the
/// end of one batch is the right initial state of row `b` in the next (truncated BPTT). The
/// target at `(b, t)` is the token that follows the input at `(b, t)` in the text. Use
/// `timeMajor(_:)` for the `(T, B)` order of sequence-first layers.
public struct TextBatch: Equatable, Sendable {
    /// The target of padded positions (evaluation only), as PyTorch's `ignore_index` default.
    public static let ignoreIndex = -100

    /// Rows (batchSize).
    public var batchSize: Int
    /// Steps (sequenceLength).
    public var sequenceLength: Int
    /// Input ids, `(batchSize, sequenceLength)` batch-first.
    public var inputs: [Int]
    /// Next-token ids, `(batchSize, sequenceLength)` batch-first; `ignoreIndex` where padded.
    public var targets: [Int]
    /// True for the first window of an epoch (of an evaluation pass): the rows start a new stretch of
    /// text, so a carried hidden state no longer continues it; reset it to zero here.
    public var startsEpoch: Bool
    /// The epoch and window of this batch (epoch 0 for evaluation batches).
    public var position: StreamBatcher.Position
    /// The number of targets that are not `ignoreIndex` (B · T for training batches).
    public var targetCount: Int

    public init(batchSize: Int, sequenceLength: Int, inputs: [Int], targets: [Int], startsEpoch: Bool,
                position: StreamBatcher.Position) {
        precondition(inputs.count == batchSize * sequenceLength && targets.count == inputs.count,
                     "TextBatch: inputs and targets must hold batchSize · sequenceLength ids")
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.inputs = inputs
        self.targets = targets
        self.startsEpoch = startsEpoch
        self.position = position
        self.targetCount = targets.reduce(0) { $0 + ($1 == Self.ignoreIndex ? 0 : 1) }
    }

    /// `values` in `(B, T)` batch-first order rearranged to `(T, B)` time-major order
    /// (element `(t, b)` at index `t · B + b`).
    public func timeMajor(_ values: [Int]) -> [Int] {
        precondition(values.count == batchSize * sequenceLength, "TextBatch.timeMajor: expected \(batchSize * sequenceLength) values")
        var result = [Int](repeating: 0, count: values.count)
        for b in 0..<batchSize {
            for t in 0..<sequenceLength { result[t * batchSize + b] = values[b * sequenceLength + t] }
        }
        return result
    }
}
