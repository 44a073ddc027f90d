import Foundation
import RecurrentCore
import RecurrentAutodiff

// Loss functions with PyTorch semantics (`F.cross_entropy`, `F.mse_loss`,
// `F.binary_cross_entropy_with_logits`). Each is one tape node with a fused backward.
//
// Invalid targets (a class index outside `0..<C`, a count or shape that does not match) are
// programmer errors here: they stop with a precondition failure whose message names the problem.
// Data from users (text files, CSV) should be validated when it is loaded, where a typed error
// can point at the file and line.

/// How per-element losses are combined (PyTorch's `reduction`).
public enum Reduction: String, Sendable, CaseIterable {
    /// The average over the counted elements (for cross-entropy: over the targets that are not ignored).
    case mean
    /// The sum over the elements.
    case sum
    /// No reduction: one loss per element (per position for cross-entropy).
    case none
}

/// The cross-entropy of class logits against integer class targets (PyTorch's `F.cross_entropy`
/// with class probabilities from a softmax over the last axis).
///
/// Shapes: `logits` is `(N, C)` or more generally `(..., C)` with the classes on the LAST axis
/// (PyTorch puts them on axis 1 for rank > 2; reshape or permute PyTorch-layout logits first).
/// `targets` holds `N` = the product of the leading dimensions, in row-major order.
///
/// Per position `loss_n = logSumExp(logits_n) − logits_n[target_n]`, computed with the row maximum
/// subtracted so that logits of any size (e.g. 1e4) neither overflow nor lose the answer.
/// - `.mean` divides by the number of positions whose target is not `ignoreIndex` (`nan` if all
///   are ignored, as PyTorch);
/// - `.sum` adds them;
/// - `.none` returns the leading shape `(...)`, with 0 at ignored positions.
///
/// Backward (fused): `dLogits_n = dLoss_n · (softmax(logits_n) − onehot(target_n))`, zero at ignored
/// positions; for `.mean` `dLoss_n = dLoss / count`. Targets get no gradient.
///
/// - Precondition: `targets.count == N`, and every target that is not `ignoreIndex` is in `0..<C`.
public func crossEntropy(logits: Variable, targets: [Int], ignoreIndex: Int? = nil,
                         reduction: Reduction = .mean) -> Variable {
    let shape = logits.shape
    precondition(shape.count >= 1 && shape[shape.count - 1] > 0,
                 "crossEntropy: logits must be (..., C) with C > 0, got shape \(shape)")
    let classes = shape[shape.count - 1]
    let leading = Array(shape.dropLast())
    let positions = leading.reduce(1, *)
    precondition(targets.count == positions,
                 "crossEntropy: \(targets.count) targets for \(positions) positions of logits \(shape)")
    for (n, t) in targets.enumerated() where t != ignoreIndex && (t < 0 || t >= classes) {
        preconditionFailure("crossEntropy: target \(t) at position \(n) is out of range 0..<\(classes)")
    }
    let counted = targets.reduce(0) { $0 + ($1 == ignoreIndex ? 0 : 1) }

    // Per-position loss, and the log-sum-exp needed for the backward softmax.
    let x = logits.value
    var losses = [Float](repeating: 0, count: positions)
    var lse = [Float](repeating: 0, count: positions)
    x.scalars.withUnsafeBufferPointer { x in
        for n in 0..<positions where targets[n] != ignoreIndex {
            let base = n * classes
            lse[n] = logSumExp(x, base: base, count: classes)
            losses[n] = lse[n] - x[base + targets[n]]
        }
    }
    let output: Tensor
    switch reduction {
    case .none: output = Tensor(shape: leading, scalars: losses)
    case .sum: output = Tensor(Float(losses.reduce(0.0) { $0 + Double($1) }))
    case .mean: output = Tensor(Float(losses.reduce(0.0) { $0 + Double($1) } / Double(counted)))
    }

    return Tape.record("crossEntropy", inputs: [logits], output: output) { g in
        // The weight of each position's loss in the result.
        func weight(_ n: Int) -> Float {
            switch reduction {
            case .none: return g.scalars[n]
            case .sum: return g.scalars[0]
            case .mean: return g.scalars[0] / Float(counted)
            }
        }
        return [Tensor(shape: shape) { dx in
            x.scalars.withUnsafeBufferPointer { x in
                for n in 0..<positions {
                    let base = n * classes
                    guard targets[n] != ignoreIndex else {
                        for c in 0..<classes { dx[base + c] = 0 }
                        continue
                    }
                    let w = weight(n)
                    for c in 0..<classes { dx[base + c] = w * Foundation.exp(x[base + c] - lse[n]) }
                    dx[base + targets[n]] -= w
                }
            }
        }]
    }
}

/// The mean squared error `(prediction − target)²` (PyTorch's `F.mse_loss`).
///
/// Shapes: `prediction` and `target` are equal. `.mean` averages over all elements, `.sum` adds
/// them, `.none` keeps the shape. Backward: `dPrediction = dLoss · 2 (prediction − target)`
/// (divided by the element count for `.mean`), and `dTarget = −dPrediction` when the target
/// requires a gradient.
public func mseLoss(_ prediction: Variable, _ target: Variable, reduction: Reduction = .mean) -> Variable {
    let p = prediction.value, t = target.value
    precondition(p.shape == t.shape, "mseLoss: prediction shape \(p.shape) differs from target shape \(t.shape)")
    let difference = p - t
    let squares = difference * difference
    let output: Tensor
    switch reduction {
    case .none: output = squares
    case .sum: output = Tensor(squares.sum())
    case .mean: output = Tensor(squares.mean())
    }
    let count = Float(p.count)
    return Tape.record("mseLoss", inputs: [prediction, target], output: output) { g in
        var dPrediction: Tensor
        switch reduction {
        case .none: dPrediction = difference * g * 2
        case .sum: dPrediction = difference * (2 * g.scalar)
        case .mean: dPrediction = difference * (2 * g.scalar / count)
        }
        return [prediction.requiresGrad ? dPrediction : nil, target.requiresGrad ? -dPrediction : nil]
    }
}

/// The mean squared error against a constant target tensor of the prediction's shape.
public func mseLoss(_ prediction: Variable, _ target: Tensor, reduction: Reduction = .mean) -> Variable {
    mseLoss(prediction, Variable(target), reduction: reduction)
}

/// Binary cross-entropy on logits (PyTorch's `F.binary_cross_entropy_with_logits`): the sigmoid
/// and the log-loss in one stable expression.
///
/// Shapes: `logits` and `targets` are equal; targets are probabilities in [0, 1] (usually 0 or 1).
/// Per element `loss = max(x, 0) − x·y + log(1 + exp(−|x|))`, which equals
/// `−[y log σ(x) + (1 − y) log(1 − σ(x))]` but never exponentiates a positive number.
/// `.mean` averages over all elements, `.sum` adds them, `.none` keeps the shape.
/// Backward: `dLogits = dLoss · (σ(x) − y)` (divided by the element count for `.mean`).
public func binaryCrossEntropyWithLogits(logits: Variable, targets: Tensor,
                                         reduction: Reduction = .mean) -> Variable {
    let x = logits.value
    precondition(x.shape == targets.shape,
                 "binaryCrossEntropyWithLogits: logits shape \(x.shape) differs from targets shape \(targets.shape)")
    let losses = x.zipWith(targets) { x, y in Swift.max(x, 0) - x * y + Foundation.log1p(Foundation.exp(-Swift.abs(x))) }
    let output: Tensor
    switch reduction {
    case .none: output = losses
    case .sum: output = Tensor(losses.sum())
    case .mean: output = Tensor(losses.mean())
    }
    let count = Float(x.count)
    return Tape.record("binaryCrossEntropyWithLogits", inputs: [logits], output: output) { g in
        let residual = x.zipWith(targets) { x, y in Activation.sigmoid(x) - y }
        switch reduction {
        case .none: return [residual * g]
        case .sum: return [residual * g.scalar]
        case .mean: return [residual * (g.scalar / count)]
        }
    }
}
