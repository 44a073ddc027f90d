import Foundation
import RecurrentCore
import RecurrentAutodiff

/// Adam (Kingma & Ba) in PyTorch's form: `torch.optim.Adam`, same defaults, update and state names.
///
/// For each parameter `p` with gradient `g`, at its step `t` (counted per parameter, from 1):
///
///     p ← p · (1 − learningRate · weightDecay)        (decoupled weight decay: AdamW)
///     g ← g + weightDecay · p                         (L2 weight decay: Adam)
///     m ← m + (1 − β₁) · (g − m)                      (a lerp, as `exp_avg.lerp_`)
///     v ← β₂ · v + (1 − β₂) · g²
///     v̂ ← max(v̂, v)                                   (amsgrad; the denominator then uses v̂)
///     denom ← √v / √(1 − β₂ᵗ) + ε
///     p ← p − (learningRate / (1 − β₁ᵗ)) · m / denom
///
/// The scalar factors (bias corrections, step size) are computed in Double and rounded to Float
/// once, as PyTorch computes them in Python floats.
///
/// State per parameter: `state.<index>.step`, `exp_avg` (m), `exp_avg_sq` (v) and, with amsgrad,
/// `max_exp_avg_sq` (v̂).
public class Adam: OptimizerBase {
    public let betas: (Float, Float)
    public let epsilon: Float
    public let weightDecay: Float
    public let amsgrad: Bool
    /// Whether weight decay is decoupled (AdamW: `p *= 1 − lr·wd`) rather than added to the gradient.
    public let decoupledWeightDecay: Bool

    /// - Parameters:
    ///   - learningRate: `>= 0`.
    ///   - betas: decay rates of the first and second moment averages, each in `[0, 1)`.
    ///   - epsilon: added to the denominator; `>= 0`.
    ///   - weightDecay: `>= 0`; an L2 penalty added to the gradient (or decoupled, see below).
    ///   - amsgrad: normalise by the running maximum of the second moment.
    ///   - decoupledWeightDecay: apply weight decay as AdamW does (PyTorch's `decoupled_weight_decay`).
    /// - Throws: `ConfigurationError` naming the invalid argument.
    public init(_ parameters: [Parameter], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
                epsilon: Float = 1e-8, weightDecay: Float = 0, amsgrad: Bool = false,
                decoupledWeightDecay: Bool = false) throws {
        try requireNonNegative(epsilon, "epsilon")
        try ConfigurationError.require(betas.0 >= 0 && betas.0 < 1, "betas", "betas.0 must be in [0, 1), got \(betas.0)")
        try ConfigurationError.require(betas.1 >= 0 && betas.1 < 1, "betas", "betas.1 must be in [0, 1), got \(betas.1)")
        try requireNonNegative(weightDecay, "weightDecay")
        self.betas = betas
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
        self.decoupledWeightDecay = decoupledWeightDecay
        try super.init(parameters, learningRate: learningRate, name: decoupledWeightDecay ? "AdamW" : "Adam",
                       bufferNames: ["exp_avg", "exp_avg_sq"] + (amsgrad ? ["max_exp_avg_sq"] : []), countsSteps: true)
    }

    override func update(_ slot: inout OptimizerSlot, isNew: Bool, gradient: UnsafePointer<Float>,
                         parameter: UnsafeMutablePointer<Float>, count: Int) {
        // The scalar factors in Double, rounded to Float once.
        let beta1 = Double(betas.0), beta2 = Double(betas.1), lr = Double(learningRate), t = Double(slot.step)
        let decoupled = weightDecay != 0 && decoupledWeightDecay
        let l2: Float? = weightDecay != 0 && !decoupledWeightDecay ? weightDecay : nil
        let biasCorrection1 = 1 - pow(beta1, t), biasCorrection2 = 1 - pow(beta2, t)
        slot.withBuffers(count: count) { buffer in
            AdamUpdate(g: gradient, p: parameter, m: buffer(0), v: buffer(1), vMax: buffer(2), l2: l2, decoupled: decoupled,
                       amsgrad: amsgrad, decay: Float(1 - lr * Double(weightDecay)), lerpWeight: Float(1 - beta1),
                       beta2: Float(beta2), oneMinusBeta2: Float(1 - beta2), negativeStepSize: Float(-(lr / biasCorrection1)),
                       biasCorrection2Sqrt: Float(biasCorrection2.squareRoot()), epsilon: epsilon).run(count: count)
        }
    }
}

/// Adam with decoupled weight decay (Loshchilov & Hutter): PyTorch's `torch.optim.AdamW`, whose
/// default `weightDecay` is 1e-2. Each step first shrinks the parameter, `p ← p · (1 − lr · wd)`,
/// then applies the Adam update without weight decay in the gradient. Same state as `Adam`.
public final class AdamW: Adam {
    /// - Throws: `ConfigurationError` naming the invalid argument (same rules as `Adam`).
    public init(_ parameters: [Parameter], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
                epsilon: Float = 1e-8, weightDecay: Float = 1e-2, amsgrad: Bool = false) throws {
        try super.init(parameters, learningRate: learningRate, betas: betas, epsilon: epsilon,
                       weightDecay: weightDecay, amsgrad: amsgrad, decoupledWeightDecay: true)
    }
}

/// The Adam update of one parameter's elements (`vMax` is read and written only with amsgrad).
private struct AdamUpdate: ElementwiseUpdate {
    let g: UnsafePointer<Float>
    let p, m, v, vMax: UnsafeMutablePointer<Float>
    /// Weight decay as L2 in the gradient (`l2`, factor `weightDecay`) or decoupled (`p *= decay`).
    let l2: Float?, decoupled: Bool, amsgrad: Bool
    let decay, lerpWeight, beta2, oneMinusBeta2, negativeStepSize, biasCorrection2Sqrt, epsilon: Float

    @inline(__always)
    @_specialize(where L == Float)
    func apply<L: FloatLanes>(_: L.Type, at j: Int) {
        var grad = L.load(g, j)
        var param = L.load(p, j)
        if decoupled { param = param * L(repeating: decay) }
        if let l2 { grad = grad + L(repeating: l2) * param }
        let mean = lerp(L.load(m, j), grad, weight: lerpWeight, weightIsSmall: abs(lerpWeight) < 0.5)
        mean.store(m, j)
        var variance = L.load(v, j) * L(repeating: beta2) + L(repeating: oneMinusBeta2) * grad * grad
        variance.store(v, j)
        if amsgrad {
            variance = L.nanPropagatingMaximum(L.load(vMax, j), variance)
            variance.store(vMax, j)
        }
        let denominator = variance.laneSquareRoot / L(repeating: biasCorrection2Sqrt) + L(repeating: epsilon)
        (param + L(repeating: negativeStepSize) * mean / denominator).store(p, j)
    }
}
