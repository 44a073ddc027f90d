import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim

/// Truncated back-propagation through time, BPTT(k1, k2), over the B parallel streams of a
/// language-model run: every window brings k1 new tokens per row (one optimizer step), and the loss of
/// the positions it counts is back-propagated through the last k2 steps.
///
/// - k2 = k1 (the default, char-rnn's scheme): one fused forward over the window from the carried state.
/// - k2 > k1: the window is preceded by the last k2 − k1 tokens of each row (its history), run again
///   from the state that entered them: the losses of the k1 new positions flow back k2 steps (the
///   newest) to k2 − k1 + 1 steps (the oldest). The history is recomputed with the current weights
///   (one fused forward of k2 steps per update); `TruncatedBPTT` (RecurrentClassics) keeps the values
///   of the steps' own time instead, so the two agree exactly while the weights do not change between
///   updates.
/// - k2 < k1: the first k1 − k2 tokens only advance the state (no gradient, their losses not counted);
///   the loss of the last k2 positions flows back through them.
///
/// The loss is the mean cross-entropy over the counted positions: B · min(k1, k2) per window.
/// Sizes: B = batchSize rows, tokens row-major `(B, k1)`.
public struct TruncatedBackpropagation {
    /// New tokens per row and window (steps between updates).
    public let k1: Int
    /// Steps back-propagated.
    public let k2: Int
    public let batchSize: Int
    /// The state entering the history (k2 > k1) or the next window; nil: the zero state.
    public var state: RecurrentLayerState?
    /// k2 > k1: the last (at most k2 − k1) input tokens of every row before the next window,
    /// row-major `(batchSize, historyLength)`; empty otherwise.
    public private(set) var history: [Int] = []
    public private(set) var historyLength = 0

    public init(k1: Int, k2: Int, batchSize: Int) {
        precondition(k1 > 0 && k2 > 0 && batchSize > 0, "TruncatedBackpropagation: k1, k2 and batchSize must be positive")
        self.k1 = k1
        self.k2 = k2
        self.batchSize = batchSize
    }

    /// Forgets the state and the history (the start of an epoch).
    public mutating func reset() {
        state = nil
        history = []
        historyLength = 0
    }

    /// Restores a saved history (`(batchSize, length)` row-major, length ≤ k2 − k1).
    public mutating func restore(state: RecurrentLayerState?, history: [Int], length: Int) {
        precondition(history.count == batchSize * length && length <= Swift.max(0, k2 - k1),
                     "TruncatedBackpropagation: a history of \(history.count) tokens is not (\(batchSize), \(length)) with length ≤ k2 − k1")
        self.state = state
        self.history = history
        historyLength = length
    }

    /// The loss of one window: `inputs` and `targets` `(batchSize, k1)` row-major. Runs the model
    /// (recording on the tape), and advances the state and history to the next window.
    public mutating func loss(_ model: LanguageModel, inputs: [Int], targets: [Int]) -> Variable {
        let B = batchSize
        precondition(inputs.count == B * k1 && targets.count == B * k1,
                     "TruncatedBackpropagation: a window is (\(B), \(k1)) tokens, got \(inputs.count) inputs and \(targets.count) targets")
        if k2 == k1 {
            let (logits, next) = model(inputs, batchSize: B, sequenceLength: k1, state: state)
            state = next.detached()
            return crossEntropy(logits: logits, targets: targets)
        }
        if k2 < k1 {
            // The first k1 − k2 steps only carry the state forward.
            let skipped = k1 - k2
            let (_, advanced) = GradientMode.withoutGradients {
                model(columns(inputs, width: k1, 0..<skipped), batchSize: B, sequenceLength: skipped, state: state)
            }
            let (logits, next) = model(columns(inputs, width: k1, skipped..<k1), batchSize: B, sequenceLength: k2,
                                       state: advanced.detached())
            state = next.detached()
            return crossEntropy(logits: logits, targets: columns(targets, width: k1, skipped..<k1))
        }
        // k2 > k1: history then window, from the state that entered the history.
        let h = historyLength, length = h + k1
        var sequence = [Int](repeating: 0, count: B * length)
        var counted = [Int](repeating: Self.ignored, count: B * length)
        for b in 0..<B {
            for j in 0..<h { sequence[b * length + j] = history[b * h + j] }
            for j in 0..<k1 {
                sequence[b * length + h + j] = inputs[b * k1 + j]
                counted[b * length + h + j] = targets[b * k1 + j]
            }
        }
        // The next window's history is the last min(k2 − k1, length) tokens; the state entering it
        // comes out of the first part.
        let nextLength = Swift.min(k2 - k1, length), first = length - nextLength
        var logits: [Variable] = []
        var entering = state
        if first > 0 {
            let (part, after) = model(columns(sequence, width: length, 0..<first), batchSize: B, sequenceLength: first,
                                      state: state)
            logits.append(part)
            entering = after
        }
        let (part, _) = model(columns(sequence, width: length, first..<length), batchSize: B, sequenceLength: nextLength,
                              state: entering)
        logits.append(part)
        state = entering?.detached()
        history = columns(sequence, width: length, first..<length)
        historyLength = nextLength
        let all = logits.count == 1 ? logits[0] : Variable.concatenated(logits, axis: 1)
        return crossEntropy(logits: all, targets: counted, ignoreIndex: Self.ignored)
    }

    private static let ignored = -100

    /// Columns `range` of a row-major `(batchSize, width)` token array.
    private func columns(_ tokens: [Int], width: Int, _ range: Range<Int>) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(batchSize * range.count)
        for b in 0..<batchSize { result.append(contentsOf: tokens[(b * width + range.lowerBound)..<(b * width + range.upperBound)]) }
        return result
    }
}
