import Foundation
import RecurrentCore

// Softmax and log-softmax over the last axis of a `(..., C)` tensor, one row of C classes at a time.
//
// Both subtract the row maximum before exponentiating, so no exp argument is positive and nothing
// overflows however large the logits are: softmax(x) = exp(x − m) / Σ exp(x − m), and
// logSoftmax(x) = x − m − log Σ exp(x − m) with m = max(x).

extension Variable {
    /// `softmax` over the last axis: `(..., C) → (..., C)`, every row summing to 1.
    ///
    /// Backward (per row, with output `y`): `dInput = y ⊙ (dOutput − Σ_c dOutput_c · y_c)`.
    public func softmax() -> Variable {
        let x = value
        precondition(x.rank >= 1, "softmax: needs at least one axis, got a scalar")
        let classes = x.shape[x.rank - 1]
        let y = Tensor(shape: x.shape) { out in
            x.scalars.withUnsafeBufferPointer { src in
                forEachRow(count: src.count, classes: classes) { base in
                    var m = -Float.infinity
                    for c in 0..<classes { m = Swift.max(m, src[base + c]) }
                    var total: Float = 0
                    for c in 0..<classes {
                        let e = Foundation.exp(src[base + c] - m)
                        out[base + c] = e
                        total += e
                    }
                    let inverse = 1 / total
                    for c in 0..<classes { out[base + c] *= inverse }
                }
            }
        }
        return Tape.record("softmax", inputs: [self], output: y) { g in
            [Tensor(shape: g.shape) { dx in
                g.scalars.withUnsafeBufferPointer { g in
                    y.scalars.withUnsafeBufferPointer { y in
                        forEachRow(count: g.count, classes: classes) { base in
                            var dot: Float = 0
                            for c in 0..<classes { dot += g[base + c] * y[base + c] }
                            for c in 0..<classes { dx[base + c] = y[base + c] * (g[base + c] - dot) }
                        }
                    }
                }
            }]
        }
    }

    /// `log(softmax)` over the last axis, computed directly (stable for large logits):
    /// `(..., C) → (..., C)`.
    ///
    /// Backward (per row, with output `y`): `dInput = dOutput − exp(y) · Σ_c dOutput_c`.
    public func logSoftmax() -> Variable {
        let x = value
        precondition(x.rank >= 1, "logSoftmax: needs at least one axis, got a scalar")
        let classes = x.shape[x.rank - 1]
        let y = Tensor(shape: x.shape) { out in
            x.scalars.withUnsafeBufferPointer { src in
                forEachRow(count: src.count, classes: classes) { base in
                    let lse = logSumExp(src, base: base, count: classes)
                    for c in 0..<classes { out[base + c] = src[base + c] - lse }
                }
            }
        }
        return Tape.record("logSoftmax", inputs: [self], output: y) { g in
            [Tensor(shape: g.shape) { dx in
                g.scalars.withUnsafeBufferPointer { g in
                    y.scalars.withUnsafeBufferPointer { y in
                        forEachRow(count: g.count, classes: classes) { base in
                            var total: Float = 0
                            for c in 0..<classes { total += g[base + c] }
                            for c in 0..<classes { dx[base + c] = g[base + c] - Foundation.exp(y[base + c]) * total }
                        }
                    }
                }
            }]
        }
    }
}

/// Calls `body` with the offset of each row of `classes` elements in a buffer of `count` elements.
@inline(__always)
private func forEachRow(count: Int, classes: Int, _ body: (Int) -> Void) {
    guard classes > 0 else { return }
    var base = 0
    while base < count {
        body(base)
        base += classes
    }
}

/// `log Σ exp(x[base ..< base + count])` with the maximum subtracted first, so no exponent is positive.
/// Returns `-inf` for an empty row or a row of `-inf`.
@inlinable
public func logSumExp(_ x: UnsafeBufferPointer<Float>, base: Int, count: Int) -> Float {
    var m = -Float.infinity
    for c in 0..<count { m = max(m, x[base + c]) }
    if m == -.infinity { return m }
    var total: Float = 0
    for c in 0..<count { total += Foundation.exp(x[base + c] - m) }
    return m + Foundation.log(total)
}
