import Foundation
import RecurrentCore

// Layer normalisation over the last axis (Ba, Kiros & Hinton 2016), PyTorch's `F.layer_norm` with
// `normalized_shape` the last dimension.
//
// A tensor `(..., N)` is a stack of rows of N features. Each row x is normalised by its own mean and
// (biased) variance, then scaled and shifted feature by feature:
//
//     μ = (1/N) Σ_j x_j        σ² = (1/N) Σ_j (x_j − μ)²        x̂ = (x − μ) / √(σ² + ε)
//     y = γ ⊙ x̂ + β
//
// Backward, per row, with ĝ = dOutput ⊙ γ (or dOutput without a gain):
//
//     dInput = (1/√(σ² + ε)) · (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂))
//     dWeight = Σ_rows dOutput ⊙ x̂        dBias = Σ_rows dOutput
//
// The row statistics are accumulated in Double, so rows with a large mean lose no precision.

/// Layer normalisation of `x` over its last axis, with an optional per-feature gain `weight` (γ) and
/// shift `bias` (β): PyTorch's `F.layer_norm(x, (N,), weight, bias, eps=epsilon)`.
///
/// Shapes: `x` `(..., N)`; `weight` and `bias` `(N)`; the result has the shape of `x`. The variance
/// is the biased one (divided by N) and `epsilon` is added to it before the square root, as in PyTorch.
/// - Precondition: the last axis is non-empty; `weight` and `bias`, when given, are `(N)`.
public func layerNorm(_ x: Variable, weight: Variable? = nil, bias: Variable? = nil, epsilon: Float = 1e-5) -> Variable {
    precondition(x.shape.count >= 1 && x.shape[x.shape.count - 1] > 0,
                 "layerNorm: needs a non-empty last axis, got shape \(x.shape)")
    let n = x.shape[x.shape.count - 1]
    precondition(weight.map { $0.shape == [n] } ?? true, "layerNorm: weight must be (\(n)), got \(weight!.shape)")
    precondition(bias.map { $0.shape == [n] } ?? true, "layerNorm: bias must be (\(n)), got \(bias!.shape)")
    precondition(epsilon >= 0, "layerNorm: epsilon must not be negative, got \(epsilon)")
    let input = x.value
    let rows = input.count / n
    var inverseDeviation = [Float](repeating: 0, count: rows)
    // x̂, kept for backward.
    let normalized = Tensor(shape: input.shape) { out in
        input.scalars.withUnsafeBufferPointer { src in
            for r in 0..<rows {
                let base = r * n
                var total = 0.0
                for j in 0..<n { total += Double(src[base + j]) }
                let mean = total / Double(n)
                var squares = 0.0
                for j in 0..<n {
                    let d = Double(src[base + j]) - mean
                    squares += d * d
                }
                let inverse = 1 / (squares / Double(n) + Double(epsilon)).squareRoot()
                inverseDeviation[r] = Float(inverse)
                for j in 0..<n { out[base + j] = Float((Double(src[base + j]) - mean) * inverse) }
            }
        }
    }
    let gain = weight?.value, shift = bias?.value
    var y = normalized
    if gain != nil || shift != nil {
        y.scalars.withUnsafeMutableBufferPointer { y in
            for r in 0..<rows {
                let base = r * n
                if let gain { for j in 0..<n { y[base + j] *= gain.scalars[j] } }
                if let shift { for j in 0..<n { y[base + j] += shift.scalars[j] } }
            }
        }
    }
    let inputs = [x] + (weight.map { [$0] } ?? []) + (bias.map { [$0] } ?? [])
    return Tape.record("layerNorm", inputs: inputs, output: y) { g in
        var dInput: Tensor?
        if x.requiresGrad {
            dInput = Tensor(shape: g.shape) { dx in
                g.scalars.withUnsafeBufferPointer { g in
                    normalized.scalars.withUnsafeBufferPointer { xhat in
                        var scaled = [Float](repeating: 0, count: n)
                        for r in 0..<rows {
                            let base = r * n
                            var meanScaled: Float = 0, meanScaledXhat: Float = 0
                            for j in 0..<n {
                                let s = gain.map { g[base + j] * $0.scalars[j] } ?? g[base + j]
                                scaled[j] = s
                                meanScaled += s
                                meanScaledXhat += s * xhat[base + j]
                            }
                            meanScaled /= Float(n)
                            meanScaledXhat /= Float(n)
                            let inverse = inverseDeviation[r]
                            for j in 0..<n {
                                dx[base + j] = inverse * (scaled[j] - meanScaled - xhat[base + j] * meanScaledXhat)
                            }
                        }
                    }
                }
            }
        }
        var grads: [Tensor?] = [dInput]
        if let weight { grads.append(weight.requiresGrad ? (g * normalized).sumLeading(to: [n]) : nil) }
        if let bias { grads.append(bias.requiresGrad ? g.sumLeading(to: [n]) : nil) }
        return grads
    }
}
