import Foundation
import RecurrentCore
import RecurrentAutodiff

/// Rescales the gradients of `parameters` so that their joint norm is at most `maxNorm`, as
/// PyTorch's `torch.nn.utils.clip_grad_norm_`.
///
/// The norm is taken over all gradients together, as if they were concatenated into one vector
/// (parameters whose `grad` is `nil` and frozen ones, `requiresGrad == false`, are ignored):
/// `(Σ |g|^p)^(1/p)` for `normType` p, or `max |g|` for `normType == .infinity`. It is accumulated in Double. Then every gradient is
/// multiplied by `clipCoefficient = maxNorm / (totalNorm + 1e-6)` if that is below 1 (computed in
/// Float as PyTorch does); gradients whose norm is already within the bound are left unchanged.
/// A NaN or infinite norm is not treated specially, as in PyTorch: the gradients become NaN or 0.
///
/// - Parameters:
///   - maxNorm: the largest allowed norm; `>= 0`.
///   - normType: p of the p-norm; positive, or `.infinity`.
/// - Returns: the total norm **before** clipping (useful for logging).
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float, normType: Float = 2) -> Float {
    precondition(maxNorm >= 0, "clipGradientNorm: maxNorm must be non-negative, got \(maxNorm)")
    precondition(normType > 0, "clipGradientNorm: normType must be positive or .infinity, got \(normType)")
    let parameters = parameters.filter(\.requiresGrad)
    let grads = parameters.compactMap(\.grad)
    if grads.isEmpty { return 0 }
    let total = Float(totalNorm(grads, normType: Double(normType)))
    // PyTorch: clip_coef = max_norm / (total_norm + 1e-6), a float32 tensor computed as
    // reciprocal(total + 1e-6) * max_norm, then clamped to at most 1.
    let coefficient = (1 / (total + 1e-6)) * maxNorm
    if !(coefficient >= 1) {   // also scales by NaN when the norm is NaN, as PyTorch does
        for parameter in parameters where parameter.grad != nil {
            parameter.grad!.scale(by: coefficient)
        }
    }
    return total
}

/// The norm of all `grads` taken as one vector, accumulated in Double.
func totalNorm(_ grads: [Tensor], normType p: Double) -> Double {
    if p == .infinity {
        var largest = 0.0
        for grad in grads {
            grad.scalars.withUnsafeBufferPointer { g in
                for x in g {
                    let a = Double(abs(x))
                    if a > largest || a.isNaN { largest = a }   // NaN, once seen, stays
                }
            }
        }
        return largest
    }
    var sum = 0.0
    for grad in grads {
        grad.scalars.withUnsafeBufferPointer { g in
            if p == 2 {
                // Four partial sums break the dependency chain of one running Double sum.
                var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
                var j = 0
                while j + 4 <= g.count {
                    let a = Double(g[j]), b = Double(g[j + 1]), c = Double(g[j + 2]), d = Double(g[j + 3])
                    s0 += a * a; s1 += b * b; s2 += c * c; s3 += d * d
                    j += 4
                }
                while j < g.count { let a = Double(g[j]); s0 += a * a; j += 1 }
                sum += (s0 + s1) + (s2 + s3)
            } else if p == 1 {
                for x in g { sum += Double(abs(x)) }
            } else {
                for x in g { sum += pow(Double(abs(x)), p) }
            }
        }
    }
    if p == 2 { return sum.squareRoot() }
    if p == 1 { return sum }
    return pow(sum, 1 / p)
}

/// Clamps every gradient element of `parameters` into `[-clipValue, clipValue]`, as PyTorch's
/// `torch.nn.utils.clip_grad_value_` (NaN stays NaN; parameters without a gradient, and frozen
/// ones, are skipped).
///
/// - Parameter clipValue: the largest allowed magnitude; `>= 0`.
public func clipGradientValue(_ parameters: [Parameter], clipValue: Float) {
    precondition(clipValue >= 0, "clipGradientValue: clipValue must be non-negative, got \(clipValue)")
    for parameter in parameters where parameter.requiresGrad && parameter.grad != nil {
        parameter.grad!.scalars.withUnsafeMutableBufferPointer { g in
            for j in 0..<g.count {
                let x = g[j]
                if x > clipValue { g[j] = clipValue } else if x < -clipValue { g[j] = -clipValue }
            }
        }
    }
}
