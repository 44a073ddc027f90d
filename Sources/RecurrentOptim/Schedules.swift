import Foundation
import RecurrentCore

/// A learning-rate schedule: the learning rate for an epoch index, as a function of the base
/// (initial) learning rate. Epoch 0 is the first epoch.
///
/// Schedules are closed forms: `learningRate(epoch:baseLearningRate:)` can be asked for any epoch
/// in any order. They give the same values as PyTorch's schedulers stepped once per epoch (which
/// update the rate recursively; the tests compare the two). The arithmetic runs in Double and is
/// rounded to Float once. To drive an optimizer, wrap a schedule in a `LearningRateScheduler`.
public protocol LearningRateSchedule: Sendable {
    /// The learning rate during epoch `epoch` (`>= 0`), starting from `baseLearningRate`.
    func learningRate(epoch: Int, baseLearningRate: Float) -> Float
}

/// Multiplies the learning rate by `gamma` every `stepSize` epochs (PyTorch's `StepLR`):
/// `base · gamma^⌊epoch / stepSize⌋`.
public struct StepLR: LearningRateSchedule, Equatable {
    public let stepSize: Int
    public let gamma: Float

    /// - Throws: `ConfigurationError` unless `stepSize > 0` and `gamma` is finite and `>= 0`.
    public init(stepSize: Int, gamma: Float = 0.1) throws {
        try ConfigurationError.require(stepSize > 0, "stepSize", "must be positive, got \(stepSize)")
        try ConfigurationError.require(gamma >= 0 && gamma.isFinite, "gamma", "must be finite and non-negative, got \(gamma)")
        self.stepSize = stepSize
        self.gamma = gamma
    }

    public func learningRate(epoch: Int, baseLearningRate: Float) -> Float {
        precondition(epoch >= 0, "StepLR: epoch must be non-negative, got \(epoch)")
        return Float(Double(baseLearningRate) * pow(Double(gamma), Double(epoch / stepSize)))
    }
}

/// Multiplies the learning rate by `gamma` every epoch (PyTorch's `ExponentialLR`): `base · gamma^epoch`.
public struct ExponentialLR: LearningRateSchedule, Equatable {
    public let gamma: Float

    /// - Throws: `ConfigurationError` unless `gamma` is finite and `>= 0`.
    public init(gamma: Float) throws {
        try ConfigurationError.require(gamma >= 0 && gamma.isFinite, "gamma", "must be finite and non-negative, got \(gamma)")
        self.gamma = gamma
    }

    public func learningRate(epoch: Int, baseLearningRate: Float) -> Float {
        precondition(epoch >= 0, "ExponentialLR: epoch must be non-negative, got \(epoch)")
        return Float(Double(baseLearningRate) * pow(Double(gamma), Double(epoch)))
    }
}

/// Cosine annealing from the base learning rate down to `etaMin` over `tMax` epochs (PyTorch's
/// `CosineAnnealingLR`, without restarts):
/// `etaMin + (base − etaMin) · (1 + cos(π · epoch / tMax)) / 2`.
///
/// Like PyTorch's, the curve continues past `tMax` as a cosine: it rises back to the base rate at
/// epoch `2 · tMax`, and so on.
public struct CosineAnnealingLR: LearningRateSchedule, Equatable {
    public let tMax: Int
    public let etaMin: Float

    /// - Throws: `ConfigurationError` unless `tMax > 0` and `etaMin` is finite and `>= 0`.
    public init(tMax: Int, etaMin: Float = 0) throws {
        try ConfigurationError.require(tMax > 0, "tMax", "must be positive, got \(tMax)")
        try ConfigurationError.require(etaMin >= 0 && etaMin.isFinite, "etaMin", "must be finite and non-negative, got \(etaMin)")
        self.tMax = tMax
        self.etaMin = etaMin
    }

    public func learningRate(epoch: Int, baseLearningRate: Float) -> Float {
        precondition(epoch >= 0, "CosineAnnealingLR: epoch must be non-negative, got \(epoch)")
        let low = Double(etaMin), base = Double(baseLearningRate)
        return Float(low + (base - low) * (1 + cos(Double.pi * Double(epoch) / Double(tMax))) / 2)
    }
}

/// Applies a schedule to an optimizer's learning rate, epoch by epoch (PyTorch's `LRScheduler`).
///
/// ```swift
/// let scheduler = LearningRateScheduler(try CosineAnnealingLR(tMax: 100), optimizer: optimizer)
/// for epoch in 0..<100 {
///     ... train one epoch with optimizer ...
///     scheduler.step()
/// }
/// ```
///
/// Creating the scheduler records the optimizer's current learning rate as the base rate and sets
/// the rate for epoch 0 (`lastEpoch == 0`); each `step()` advances `lastEpoch` by one and assigns
/// the schedule's rate for it. The state (`last_epoch`, `base_lr`) is saved by `stateDict()`.
public final class LearningRateScheduler {
    public let schedule: any LearningRateSchedule
    public let optimizer: any Optimizer
    /// The learning rate the schedule starts from (PyTorch's `initial_lr` / `base_lrs`).
    public private(set) var baseLearningRate: Float
    /// The index of the current epoch: 0 after creation, +1 per `step()`.
    public private(set) var lastEpoch: Int

    public init(_ schedule: any LearningRateSchedule, optimizer: any Optimizer) {
        self.schedule = schedule
        self.optimizer = optimizer
        self.baseLearningRate = optimizer.learningRate
        self.lastEpoch = 0
        apply()
    }

    /// The learning rate the schedule gives for `lastEpoch` (what `step()` last assigned).
    public var lastLearningRate: Float {
        schedule.learningRate(epoch: lastEpoch, baseLearningRate: baseLearningRate)
    }

    /// Advances to the next epoch and sets the optimizer's learning rate for it.
    public func step() {
        lastEpoch += 1
        apply()
    }

    private func apply() { optimizer.learningRate = lastLearningRate }

    /// `last_epoch` and `base_lr` as one-element Float tensors of shape `[]` (the epoch is exact
    /// up to 2^24).
    public func stateDict() -> [(name: String, tensor: Tensor)] {
        [(name: "last_epoch", tensor: Tensor(Float(lastEpoch))), (name: "base_lr", tensor: Tensor(baseLearningRate))]
    }

    /// Restores `last_epoch` and `base_lr`, and sets the optimizer's learning rate to the
    /// schedule's value for that epoch (so the order of loading optimizer and scheduler does not matter).
    /// - Throws: `OptimizerStateError` naming the offending entry; on error nothing changes.
    public func loadStateDict(_ entries: [(name: String, tensor: Tensor)]) throws {
        let owner = "LearningRateScheduler"
        var values: [String: Float] = [:]
        for (name, tensor) in entries {
            guard name == "last_epoch" || name == "base_lr" else {
                throw OptimizerStateError(owner: owner, entry: name, problem: .unexpected)
            }
            guard values[name] == nil else { throw OptimizerStateError(owner: owner, entry: name, problem: .duplicate) }
            guard tensor.count == 1, tensor.rank <= 1 else {
                throw OptimizerStateError(owner: owner, entry: name, problem: .shapeMismatch(expected: [], found: tensor.shape))
            }
            values[name] = tensor.scalars[0]
        }
        guard let epoch = values["last_epoch"] else {
            throw OptimizerStateError(owner: owner, entry: "last_epoch", problem: .missing)
        }
        guard let base = values["base_lr"] else {
            throw OptimizerStateError(owner: owner, entry: "base_lr", problem: .missing)
        }
        guard epoch >= 0, epoch <= Float(1 << 24), epoch.rounded(.towardZero) == epoch else {
            throw OptimizerStateError(owner: owner, entry: "last_epoch",
                                      problem: .invalidValue("must be a whole number of epochs in 0...16777216, got \(epoch)"))
        }
        guard base >= 0, base.isFinite else {
            throw OptimizerStateError(owner: owner, entry: "base_lr",
                                      problem: .invalidValue("must be a finite non-negative learning rate, got \(base)"))
        }
        lastEpoch = Int(epoch)
        baseLearningRate = base
        apply()
    }

    /// Restores state from a dictionary (as read from a checkpoint file).
    public func loadStateDict(_ dictionary: [String: Tensor]) throws {
        try loadStateDict(dictionary.sorted { $0.key < $1.key }.map { (name: $0.key, tensor: $0.value) })
    }
}
