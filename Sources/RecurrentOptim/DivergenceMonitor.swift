import Foundation
import RecurrentCore
import RecurrentAutodiff

/// Decides, step by step, whether a training run has diverged. Every trainer of the package
/// (language model, forecasting, classification, translation) checks each step with it before the
/// optimizer applies the step's gradient.
///
/// The rule: step t has diverged when
/// - its loss L_t is NaN or infinite, or
/// - the global norm of its gradient (before clipping) is NaN or infinite, or
/// - the smoothed loss S_t = (1 − α)·S_{t−1} + α·L_t, with α = 0.1 (about the last ten steps) and
///   S_0 = L_ref, exceeds `factor` × L_ref (`factor` 10 by default).
///
/// L_ref, the loss at the start, is the first step's loss (the initial model's loss on the first
/// batch; for a cross-entropy that is close to ln(number of classes) whatever the batch), or a
/// reference the trainer gives when one batch is too noisy for that (the forecasting trainer gives
/// the initial model's loss over the whole training part: a regression loss of a small batch can be
/// far below the typical one). Smoothing keeps one bad batch from stopping a run: a single loss
/// must exceed about 91 × L_ref to trip the rule alone.
///
/// The margin of the factor over normal training is measured in docs/training.md ("Divergence").
///
/// The state is `Codable`: a checkpoint saves it, so that a resumed run takes the same decisions.
public struct DivergenceMonitor: Codable, Equatable, Sendable {
    /// The default `factor`.
    public static let defaultFactor = 10.0
    /// The weight α of the newest loss in the smoothed loss.
    public static let smoothing = 0.1

    /// How far above L_ref the smoothed loss may go.
    public let factor: Double
    /// L_ref; nil until the first step (unless given).
    public private(set) var referenceLoss: Double?
    /// S_t after the last checked step; nil before the first.
    public private(set) var smoothedLoss: Double?
    /// The largest S_t / L_ref so far (for reports and for measuring the margin of the rule).
    public private(set) var largestRatio: Double?

    /// - Parameters:
    ///   - factor: the threshold on S_t / L_ref; greater than 1.
    ///   - referenceLoss: L_ref when the trainer measures it itself (positive and finite); nil: the first step's loss.
    public init(factor: Double = DivergenceMonitor.defaultFactor, referenceLoss: Double? = nil) {
        precondition(factor > 1 && factor.isFinite, "DivergenceMonitor: factor must be finite and above 1, got \(factor)")
        precondition(referenceLoss.map { $0.isFinite && $0 >= 0 } ?? true,
                     "DivergenceMonitor: the reference loss must be finite and non-negative")
        self.factor = factor
        self.referenceLoss = referenceLoss
    }

    /// Checks step `step`: its loss and the global norm of its gradient (nil when not measured).
    /// - Throws: `TrainingDivergence` when the step has diverged by the rule.
    public mutating func check(step: Int, loss: Float, gradientNorm: Float?) throws {
        guard loss.isFinite else { throw TrainingDivergence(step: step, reason: .lossNotFinite(loss)) }
        if let gradientNorm, !gradientNorm.isFinite {
            throw TrainingDivergence(step: step, reason: .gradientNotFinite(gradientNorm))
        }
        let value = Double(loss)
        let reference = referenceLoss ?? value
        referenceLoss = reference
        let smoothed = (1 - Self.smoothing) * (smoothedLoss ?? reference) + Self.smoothing * value
        smoothedLoss = smoothed
        guard reference > 0 else { return }   // a perfect start: only non-finite values count
        let ratio = smoothed / reference
        largestRatio = max(largestRatio ?? ratio, ratio)
        if ratio > factor {
            throw TrainingDivergence(step: step, reason: .lossGrew(smoothed: smoothed, reference: reference, factor: factor))
        }
    }

    /// Checks a loss measured outside the training steps (a validation loss) for finiteness.
    /// - Throws: `TrainingDivergence` when it is NaN or infinite.
    public static func checkFinite(step: Int, validationLoss: Double) throws {
        guard validationLoss.isFinite else { throw TrainingDivergence(step: step, reason: .validationLossNotFinite(validationLoss)) }
    }
}

/// Training stopped because it diverged (`DivergenceMonitor`'s rule). Nothing was saved from the
/// diverging step on: the last checkpoint and model written stay as they were.
public struct TrainingDivergence: Error, LocalizedError, Equatable, Sendable {
    /// What the rule saw.
    public enum Reason: Equatable, Sendable {
        case lossNotFinite(Float)
        case gradientNotFinite(Float)
        case lossGrew(smoothed: Double, reference: Double, factor: Double)
        case validationLossNotFinite(Double)
    }

    /// The step (1 = the first) at which the rule tripped.
    public var step: Int
    public var reason: Reason

    public init(step: Int, reason: Reason) {
        self.step = step
        self.reason = reason
    }

    public var errorDescription: String? {
        let what: String
        switch reason {
        case .lossNotFinite(let loss): what = "the loss is \(loss)"
        case .gradientNotFinite(let norm): what = "the gradient norm is \(norm)"
        case let .lossGrew(smoothed, reference, factor):
            what = "the smoothed loss \(Self.format(smoothed)) is more than \(Self.format(factor)) × the initial loss \(Self.format(reference))"
        case .validationLossNotFinite(let loss): what = "the validation loss is \(loss)"
        }
        return "training diverged at step \(step): \(what); nothing after the last checkpoint was saved; "
            + "try a lower learning rate or gradient clipping"
    }

    private static func format(_ value: Double) -> String { String(format: "%.4g", value) }
}

/// The global L2 norm of the gradients of `parameters` (those that have one and are not frozen),
/// accumulated in Double; NaN or infinite when any element is. The same norm `clipGradientNorm`
/// returns, for runs without norm clipping.
public func gradientNorm(_ parameters: [Parameter]) -> Float {
    Float(totalNorm(parameters.filter(\.requiresGrad).compactMap(\.grad), normType: 2))
}
