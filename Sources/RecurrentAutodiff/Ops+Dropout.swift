import RecurrentCore

// Inverted dropout: while training each element is zeroed with probability p and the survivors are
// scaled by 1/(1 − p), so the expected value is unchanged and evaluation needs no rescaling.
// The mask is drawn once in forward and reused by backward: dInput = dOutput ⊙ mask.

extension Tensor {
    /// A dropout mask of `shape`: each element is 0 with probability `probability`, else 1/(1 − probability).
    /// With probability 1 every element is 0. An element is dropped when a uniform draw in [0, 1) is below p.
    public static func dropoutMask(shape: [Int], probability: Float, using rng: inout RandomGenerator) -> Tensor {
        precondition(probability >= 0 && probability <= 1, "dropoutMask: probability must be in [0, 1], got \(probability)")
        let keep: Float = probability < 1 ? 1 / (1 - probability) : 0
        return Tensor(shape: shape) { out in
            for i in 0..<out.count { out[i] = rng.nextUniform() < probability ? 0 : keep }
        }
    }
}

/// Inverted dropout of `x` with drop probability `probability`, drawing the mask from `rng`.
///
/// The identity (no draw, same variable) when `training` is false or `probability` is 0; all zeros
/// when `probability` is 1. Shapes: any; the result has the shape of `x`.
public func dropout(_ x: Variable, probability: Float, training: Bool, using rng: inout RandomGenerator) -> Variable {
    precondition(probability >= 0 && probability <= 1, "dropout: probability must be in [0, 1], got \(probability)")
    guard training, probability > 0 else { return x }
    let mask = Tensor.dropoutMask(shape: x.shape, probability: probability, using: &rng)
    return Tape.record("dropout", inputs: [x], output: x.value * mask) { g in [g * mask] }
}

/// Inverted dropout drawing its mask from the process-wide generator (`GlobalRandom`).
public func dropout(_ x: Variable, probability: Float, training: Bool) -> Variable {
    guard training, probability > 0 else {
        precondition(probability >= 0 && probability <= 1, "dropout: probability must be in [0, 1], got \(probability)")
        return x
    }
    return GlobalRandom.with { rng in dropout(x, probability: probability, training: training, using: &rng) }
}
