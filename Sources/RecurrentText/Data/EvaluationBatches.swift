/// Batches that cover every position of a token stream exactly once, for a loss over a whole text.
///
/// Same layout as `StreamBatcher` (`TextBatch`, `(B, T)` batch-first, rows contiguous, hidden state
/// carried from window to window), but nothing is dropped: the `N − 1` predictions (target `k + 1`
/// from input `k`, for `k` in `0..<N−1`) are cut into `B` rows of `L = ⌈(N − 1) / B⌉` positions (the
/// last rows may be shorter or empty) and each row into `⌈L / T⌉` windows. Positions past the end of
/// a row are padding: input 0 and target `TextBatch.ignoreIndex`. Padding only ever follows the
/// real positions of its row, so it cannot disturb them.
///
/// The mean loss over the text is the sum of the per-batch summed losses (ignored targets excluded)
/// divided by `targetTotal`.
public struct EvaluationBatches: RandomAccessCollection, Sendable {
    /// Rows per batch (batchSize).
    public let batchSize: Int
    /// Steps per window (sequenceLength).
    public let sequenceLength: Int
    /// Positions per row, `⌈(N − 1) / B⌉`.
    public let rowLength: Int
    private let tokens: [Int]

    /// Preconditions: `batchSize > 0`, `sequenceLength > 0`. Fewer than 2 tokens give no batches.
    public init(tokens: [Int], batchSize: Int, sequenceLength: Int) {
        precondition(batchSize > 0 && sequenceLength > 0, "EvaluationBatches: batchSize and sequenceLength must be positive")
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.tokens = tokens
        let predictions = Swift.max(0, tokens.count - 1)
        self.rowLength = (predictions + batchSize - 1) / batchSize
    }

    /// The number of real targets, `N − 1`.
    public var targetTotal: Int { Swift.max(0, tokens.count - 1) }

    public var startIndex: Int { 0 }
    /// The number of windows, `⌈rowLength / T⌉`.
    public var endIndex: Int { (rowLength + sequenceLength - 1) / sequenceLength }

    /// Window `window`: rows `b` hold positions `b·L + window·T ..< b·L + (window+1)·T`, padded past
    /// the row's end and past the stream's end.
    public subscript(window: Int) -> TextBatch {
        precondition(window >= 0 && window < endIndex, "EvaluationBatches: window \(window) outside 0..<\(endIndex)")
        let (B, T, L) = (batchSize, sequenceLength, rowLength)
        let predictions = targetTotal
        var inputs = [Int](repeating: 0, count: B * T)
        var targets = [Int](repeating: TextBatch.ignoreIndex, count: B * T)
        for b in 0..<B {
            let rowEnd = Swift.min((b + 1) * L, predictions)
            for t in 0..<T {
                let k = b * L + window * T + t
                guard k < rowEnd else { break }
                inputs[b * T + t] = tokens[k]
                targets[b * T + t] = tokens[k + 1]
            }
        }
        return TextBatch(batchSize: B, sequenceLength: T, inputs: inputs, targets: targets,
                         startsEpoch: window == 0, position: StreamBatcher.Position(epoch: 0, window: window))
    }
}
