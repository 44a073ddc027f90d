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
public class Adam: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float {
        didSet { precondition(learningRate >= 0, "\(name): learningRate must be non-negative, got \(learningRate)") }
    }
    public let betas: (Float, Float)
    public let epsilon: Float
    public let weightDecay: Float
    public let amsgrad: Bool
    /// Whether weight decay is decoupled (AdamW: `p *= 1 − lr·wd`) rather than added to the gradient.
    public let decoupledWeightDecay: Bool

    private struct Moments {
        var step: Float
        var expAvg: [Float]
        var expAvgSq: [Float]
        /// Empty unless amsgrad.
        var maxExpAvgSq: [Float]
    }

    private var moments: [Moments?]
    private var name: String { self is AdamW ? "AdamW" : "Adam" }

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
        self.parameters = try validatedParameters(parameters)
        try requireNonNegative(learningRate, "learningRate")
        try requireNonNegative(epsilon, "epsilon")
        try ConfigurationError.require(betas.0 >= 0 && betas.0 < 1, "betas", "betas.0 must be in [0, 1), got \(betas.0)")
        try ConfigurationError.require(betas.1 >= 0 && betas.1 < 1, "betas", "betas.1 must be in [0, 1), got \(betas.1)")
        try requireNonNegative(weightDecay, "weightDecay")
        self.learningRate = learningRate
        self.betas = betas
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
        self.decoupledWeightDecay = decoupledWeightDecay
        self.moments = Array(repeating: nil, count: parameters.count)
    }

    public func step() {
        let beta1 = Double(betas.0), beta2 = Double(betas.1), lr = Double(learningRate)
        let weightDecay = self.weightDecay, amsgrad = self.amsgrad
        let decoupled = weightDecay != 0 && decoupledWeightDecay
        let l2: Float? = weightDecay != 0 && !decoupledWeightDecay ? weightDecay : nil
        let eps = epsilon
        // Factors shared by all parameters.
        let lerpWeight = Float(1 - beta1)
        let b2 = Float(beta2), oneMinusB2 = Float(1 - beta2)
        let decay = Float(1 - lr * Double(weightDecay))
        for (index, parameter) in parameters.enumerated() {
            guard parameter.requiresGrad, let grad = parameter.grad else { continue }   // frozen or unused: skipped
            precondition(grad.shape == parameter.value.shape,
                         "\(name): gradient shape \(grad.shape) differs from parameter \(index) shape \(parameter.value.shape)")
            let count = grad.count
            var state = moments[index] ?? Moments(step: 0, expAvg: .init(repeating: 0, count: count),
                                                  expAvgSq: .init(repeating: 0, count: count),
                                                  maxExpAvgSq: amsgrad ? .init(repeating: 0, count: count) : [])
            moments[index] = nil   // keep the buffers uniquely referenced while they are mutated
            state.step += 1
            let t = Double(state.step)
            let biasCorrection1 = 1 - pow(beta1, t)
            let biasCorrection2 = 1 - pow(beta2, t)
            let negativeStepSize = Float(-(lr / biasCorrection1))
            let biasCorrection2Sqrt = Float(biasCorrection2.squareRoot())

            grad.scalars.withUnsafeBufferPointer { g in
                parameter.value.scalars.withUnsafeMutableBufferPointer { p in
                    state.expAvg.withUnsafeMutableBufferPointer { m in
                        state.expAvgSq.withUnsafeMutableBufferPointer { v in
                            state.maxExpAvgSq.withUnsafeMutableBufferPointer { vMax in
                                AdamUpdate(g: baseAddress(g), p: baseAddress(p), m: baseAddress(m), v: baseAddress(v),
                                           vMax: baseAddress(vMax), l2: l2, decoupled: decoupled, amsgrad: amsgrad,
                                           decay: decay, lerpWeight: lerpWeight, beta2: b2, oneMinusBeta2: oneMinusB2,
                                           negativeStepSize: negativeStepSize, biasCorrection2Sqrt: biasCorrection2Sqrt,
                                           epsilon: eps).run(count: count)
                            }
                        }
                    }
                }
            }
            moments[index] = state
        }
    }

    public func stateDict() -> [(name: String, tensor: Tensor)] {
        var writer = OptimizerStateWriter()
        for (index, state) in moments.enumerated() {
            guard let state else { continue }
            let shape = parameters[index].value.shape
            writer.step(index, state.step)
            writer.buffer(index, "exp_avg", state.expAvg, shape: shape)
            writer.buffer(index, "exp_avg_sq", state.expAvgSq, shape: shape)
            if amsgrad { writer.buffer(index, "max_exp_avg_sq", state.maxExpAvgSq, shape: shape) }
        }
        writer.learningRate(learningRate)
        return writer.entries
    }

    public func loadStateDict(_ entries: [(name: String, tensor: Tensor)]) throws {
        var reader = try OptimizerStateReader(owner: name, parameters: parameters, entries: entries)
        let keys = ["exp_avg", "exp_avg_sq"] + (amsgrad ? ["max_exp_avg_sq"] : [])
        var loaded: [Moments?] = Array(repeating: nil, count: parameters.count)
        for index in parameters.indices {
            guard let slot = try reader.slot(index, hasStep: true, keys: keys) else { continue }
            loaded[index] = Moments(step: slot.step, expAvg: slot.buffers[0], expAvgSq: slot.buffers[1],
                                    maxExpAvgSq: amsgrad ? slot.buffers[2] : [])
        }
        let lr = try reader.learningRate()
        try reader.finish()
        moments = loaded
        learningRate = lr
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
