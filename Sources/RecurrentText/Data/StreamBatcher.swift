import RecurrentCore

/// Training batches from one token stream as `batchSize` contiguous rows, window by window.
///
/// With `N` tokens, batchSize `B` and sequenceLength `T`, an epoch has `W = ⌊(N − 1) / (B·T)⌋`
/// windows and each row holds `L = W · T` input positions: row `b` reads the inputs
/// `tokens[b·L ..< (b+1)·L]` and the targets `tokens[b·L + 1 ..< (b+1)·L + 1]` (every target is the
/// true next token, also at the end of a row). Window `w` is the columns `w·T ..< (w+1)·T` of every
/// row, so row `b` of window `w + 1` continues row `b` of window `w` and a carried hidden state stays
/// valid. The last `N − 1 − B·L` positions (fewer than `B·T`) are dropped: every batch has the full
/// shape `(B, T)` and every position is in at most one batch per epoch. After the last window the next
/// epoch starts again at window 0 (`TextBatch.startsEpoch`); the order is the same every epoch.
///
/// Example (the lecture's): tokens 1...13, B = 2, T = 3 give rows `[1 … 6]` and `[7 … 12]`; window 0
/// has inputs `[1 2 3 | 7 8 9]` and targets `[2 3 4 | 8 9 10]`, window 1 inputs `[4 5 6 | 10 11 12]`
/// and targets `[5 6 7 | 11 12 13]`.
///
/// The whole iteration state is `position` (epoch and window), a small Codable value: saving it and
/// restoring it on a batcher over the same tokens continues exactly where it stopped.
public struct StreamBatcher: Sendable {
    /// Where the next batch comes from.
    public struct Position: Codable, Equatable, Sendable {
        /// Completed epochs (from 0).
        public var epoch: Int
        /// The window within the epoch, `0..<windowsPerEpoch`.
        public var window: Int

        public init(epoch: Int = 0, window: Int = 0) {
            self.epoch = epoch
            self.window = window
        }
    }

    /// Rows per batch (batchSize).
    public let batchSize: Int
    /// Steps per window (sequenceLength).
    public let sequenceLength: Int
    /// Windows (batches) per epoch, `W`.
    public let windowsPerEpoch: Int
    /// The next batch's epoch and window.
    public private(set) var position: Position
    private let tokens: [Int]

    /// Input positions per row, `L = windowsPerEpoch · sequenceLength`.
    public var rowLength: Int { windowsPerEpoch * sequenceLength }

    /// Throws `ConfigurationError` unless sizes are positive and `tokens.count ≥ batchSize · sequenceLength + 1`,
    /// or when `position` is outside the epoch.
    public init(tokens: [Int], batchSize: Int, sequenceLength: Int, position: Position = .init()) throws {
        try ConfigurationError.require(batchSize > 0, "batchSize", "must be positive, got \(batchSize)")
        try ConfigurationError.require(sequenceLength > 0, "sequenceLength", "must be positive, got \(sequenceLength)")
        let required = batchSize * sequenceLength + 1
        try ConfigurationError.require(tokens.count >= required, "batchSize × sequenceLength",
            "\(batchSize) × \(sequenceLength) needs at least \(required) tokens, the stream has \(tokens.count)")
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.windowsPerEpoch = (tokens.count - 1) / (batchSize * sequenceLength)
        self.tokens = tokens
        self.position = Position()
        try restore(position)
    }

    /// Continues from a saved `position` (throws `ConfigurationError` if it is not in this batcher's epoch,
    /// for example saved with another text, batchSize or sequenceLength).
    public mutating func restore(_ position: Position) throws {
        try ConfigurationError.require(position.epoch >= 0, "position.epoch", "must not be negative, got \(position.epoch)")
        try ConfigurationError.require(position.window >= 0 && position.window < windowsPerEpoch, "position.window",
            "must be in 0..<\(windowsPerEpoch) for this text, batch size and sequence length, got \(position.window)")
        self.position = position
    }

    /// The batch at `position` (without moving).
    public func batch(at position: Position) -> TextBatch {
        precondition(position.window >= 0 && position.window < windowsPerEpoch,
                     "StreamBatcher.batch: window \(position.window) outside 0..<\(windowsPerEpoch)")
        let (B, T, L) = (batchSize, sequenceLength, rowLength)
        var inputs = [Int](repeating: 0, count: B * T)
        var targets = [Int](repeating: 0, count: B * T)
        tokens.withUnsafeBufferPointer { stream in
            for b in 0..<B {
                let start = b * L + position.window * T
                for t in 0..<T {
                    inputs[b * T + t] = stream[start + t]
                    targets[b * T + t] = stream[start + t + 1]
                }
            }
        }
        return TextBatch(batchSize: B, sequenceLength: T, inputs: inputs, targets: targets,
                         startsEpoch: position.window == 0, position: position)
    }

    /// The batch at `position`, then moves to the next window (and epoch).
    public mutating func next() -> TextBatch {
        let batch = batch(at: position)
        position.window += 1
        if position.window == windowsPerEpoch {
            position.window = 0
            position.epoch += 1
        }
        return batch
    }
}
