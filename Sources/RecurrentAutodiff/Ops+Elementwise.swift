import Foundation
import RecurrentCore

// Elementwise functions beyond the activations: exp, log, division, scalar offsets, and
// multiplication by an operand broadcast over the leading axes. Each backward sits next to its forward.

extension Variable {
    /// `eˣ` elementwise. Backward: `dInput = dOutput ⊙ eˣ` (reuses the saved output).
    public func exp() -> Variable {
        let y = value.map { Foundation.exp($0) }
        return Tape.record("exp", inputs: [self], output: y) { g in [g * y] }
    }

    /// The natural logarithm elementwise (`-inf` at 0, `nan` below 0, as in PyTorch).
    /// Backward: `dInput = dOutput / x`.
    public func log() -> Variable {
        let x = value
        return Tape.record("log", inputs: [self], output: x.map { Foundation.log($0) }) { g in [g / x] }
    }

    /// Multiplies by `factor`, whose shape is a trailing part of this shape, at every leading
    /// position: `(..., *S) ⊙ (*S)`. For example `c ⊙ w` with `c` `(batchSize, hiddenSize)` and a
    /// diagonal peephole weight `w` `(hiddenSize)`. Backward: `dSelf = dOutput ⊙ factor` (broadcast),
    /// `dFactor = Σ_leading dOutput ⊙ self`.
    public func multiplyingBroadcast(_ factor: Variable) -> Variable {
        let x = value, f = factor.value
        let n = f.count
        precondition(n > 0 && Array(x.shape.suffix(f.rank)) == f.shape,
                     "multiplyingBroadcast: \(f.shape) is not a trailing shape of \(x.shape)")
        func broadcastProduct(_ a: Tensor) -> Tensor {
            Tensor(shape: a.shape) { out in
                a.scalars.withUnsafeBufferPointer { a in
                    f.scalars.withUnsafeBufferPointer { f in
                        var base = 0
                        while base < a.count {
                            for j in 0..<n { out[base + j] = a[base + j] * f[j] }
                            base += n
                        }
                    }
                }
            }
        }
        let factorShape = f.shape
        return Tape.record("multiplyingBroadcast", inputs: [self, factor], output: broadcastProduct(x)) { g in
            [self.requiresGrad ? broadcastProduct(g) : nil,
             factor.requiresGrad ? (g * x).sumLeading(to: factorShape) : nil]
        }
    }
}

/// Elementwise quotient of equal shapes. Backward: `dLhs = dOutput / rhs`, `dRhs = −dOutput · lhs / rhs²`.
public func / (lhs: Variable, rhs: Variable) -> Variable {
    let a = lhs.value, b = rhs.value
    let q = a / b
    return Tape.record("divide", inputs: [lhs, rhs], output: q) { g in
        let dLhs = g / b
        // −g·a/b² = −(g/b)·(a/b), computed from the saved quotient to avoid squaring b.
        return [lhs.requiresGrad ? dLhs : nil, rhs.requiresGrad ? -(dLhs * q) : nil]
    }
}

/// Division by a constant.
public func / (lhs: Variable, rhs: Float) -> Variable {
    Tape.record("divideByScalar", inputs: [lhs], output: lhs.value / rhs) { g in [g / rhs] }
}

/// A constant divided elementwise by a variable. Backward: `dRhs = −dOutput · lhs / rhs²`.
public func / (lhs: Float, rhs: Variable) -> Variable {
    let b = rhs.value
    let q = b.map { lhs / $0 }
    return Tape.record("scalarDivide", inputs: [rhs], output: q) { g in [-(g * q / b)] }
}

/// Adds a constant to every element.
public func + (lhs: Variable, rhs: Float) -> Variable {
    Tape.record("addScalar", inputs: [lhs], output: lhs.value + rhs) { g in [g] }
}

/// Adds a constant to every element.
public func + (lhs: Float, rhs: Variable) -> Variable { rhs + lhs }

/// Subtracts a constant from every element.
public func - (lhs: Variable, rhs: Float) -> Variable { lhs + (-rhs) }

/// A constant minus every element, e.g. `1 − z` for a GRU's update gate.
public func - (lhs: Float, rhs: Variable) -> Variable {
    Tape.record("scalarSubtract", inputs: [rhs], output: rhs.value.map { lhs - $0 }) { g in [-g] }
}
