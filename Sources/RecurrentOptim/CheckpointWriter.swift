import Foundation

/// How often a trainer takes a resumable checkpoint while training (it always takes one at the end).
public enum CheckpointInterval: Equatable, Sendable {
    /// Every this many units: epochs for the forecasting and classification trainers, steps for
    /// the translation trainer.
    case every(Int)
    /// At the first unit boundary after this many seconds since the last checkpoint (or the start).
    case seconds(Double)

    /// The default: every 30 seconds. A checkpoint costs about 15 `fsync` calls (~0.1 s on a
    /// virtual disk), which a checkpoint per epoch of a small forecasting model would repeat every
    /// few milliseconds.
    public static let `default` = CheckpointInterval.seconds(30)
}

/// How the forecasting, classification and translation trainers check their steps and write their
/// `ResumableCheckpoint`s: every step goes through the `DivergenceGuard`, and a checkpoint taken
/// during training is written (through the `CheckpointStore`) only once the next step has passed;
/// one taken when training ends is written at once.
public struct CheckpointWriter {
    /// A checkpoint taken, not yet written.
    public struct Pending {
        public var files: [(name: String, data: Data)]
        public var step: Int
    }

    /// Where the checkpoints go; nil: the run writes none (the divergence rule still applies).
    public let store: CheckpointStore?
    /// The divergence rule and the checkpoint waiting for the next step.
    public private(set) var divergence: DivergenceGuard<Pending>

    /// When checkpoints are taken during training.
    public let interval: CheckpointInterval
    private var lastCheckpoint = ContinuousClock.now

    public init(store: CheckpointStore?, monitor: DivergenceMonitor, interval: CheckpointInterval = .default) {
        if case .every(let count) = interval { precondition(count >= 1, "CheckpointWriter: the interval must be positive") }
        self.store = store
        self.divergence = DivergenceGuard(monitor)
        self.interval = interval
    }

    /// Whether a checkpoint is due after unit `count` (an epoch or step count from the run's start).
    public func isDue(after count: Int) -> Bool {
        switch interval {
        case .every(let units): return count % units == 0
        case .seconds(let seconds): return ContinuousClock.now - lastCheckpoint >= .milliseconds(Int64(seconds * 1000))
        }
    }

    /// The divergence rule's state (what a checkpoint saves).
    public var monitor: DivergenceMonitor { divergence.monitor }

    /// Checks step `step` (see `DivergenceMonitor.check`), then writes the checkpoint it vouches for.
    /// - Throws: `TrainingDivergence`, or a `FileWriteError` from the write.
    public mutating func check(step: Int, loss: Float, gradientNorm: Float?) throws {
        if let pending = try divergence.check(step: step, loss: loss, gradientNorm: gradientNorm) { try write(pending) }
    }

    /// Takes a checkpoint of step `step`: `files` gets the divergence rule's state to save and is
    /// called only when there is a store. When `isFinal`, the checkpoint is written now, otherwise
    /// after the next step passes.
    public mutating func save(step: Int, isFinal: Bool,
                              files: (DivergenceMonitor) throws -> [(name: String, data: Data)]) throws {
        guard store != nil else { return }
        lastCheckpoint = ContinuousClock.now
        let pending = Pending(files: try files(divergence.monitor), step: step)
        if isFinal {
            try write(pending)
        } else {
            divergence.hold(pending)
        }
    }

    private func write(_ pending: Pending) throws {
        try store?.write(files: pending.files, step: pending.step, isBest: false)
    }
}
