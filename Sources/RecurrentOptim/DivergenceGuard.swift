import Foundation

/// A trainer's `DivergenceMonitor` together with the checkpoint that waits for its verdict.
///
/// A checkpoint taken after step t saves the weights that step t's update produced; only the loss
/// and gradient of step t + 1 show whether that update wrecked them. So a trainer `hold`s a
/// checkpoint taken during training (its files, already encoded), and the next step's `check`
/// hands it back for writing once that step has passed the rule. When the next step diverges, the
/// held checkpoint is dropped: the checkpoint and model already on disk stay as they were. A
/// checkpoint taken when training ends (no step follows to check it) is written directly, after
/// the trainer's final evaluation came out finite.
///
/// The monitor saved in a checkpoint is its state after the checkpoint's step, so a resumed run
/// checks the next step exactly as the uninterrupted run did.
public struct DivergenceGuard<Held> {
    /// The rule and its state so far.
    public var monitor: DivergenceMonitor
    private var held: Held?

    public init(_ monitor: DivergenceMonitor = DivergenceMonitor()) {
        self.monitor = monitor
    }

    /// Whether a checkpoint waits for the next step.
    public var isHolding: Bool { held != nil }

    /// Checks a step by the monitor's rule (see `DivergenceMonitor.check`).
    /// - Returns: the held checkpoint, now safe to write (nil when none was held).
    /// - Throws: `TrainingDivergence`; the held checkpoint is dropped.
    public mutating func check(step: Int, loss: Float, gradientNorm: Float?) throws -> Held? {
        do {
            try monitor.check(step: step, loss: loss, gradientNorm: gradientNorm)
        } catch {
            held = nil
            throw error
        }
        return release()
    }

    /// Holds `checkpoint` back until the next step passes.
    public mutating func hold(_ checkpoint: Held) {
        precondition(held == nil, "DivergenceGuard: a checkpoint is already held")
        held = checkpoint
    }

    /// Takes the held checkpoint out without a check (nil when none is held).
    public mutating func release() -> Held? {
        defer { held = nil }
        return held
    }
}
