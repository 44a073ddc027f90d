import Foundation

// Elementwise arithmetic and reductions on whole tensors. Binary operators need equal shapes,
// except where a function names its broadcasting rule.

extension Tensor {
    /// Applies `body` to every element.
    @inlinable
    public func map(_ body: (Float) -> Float) -> Tensor {
        Tensor(shape: shape) { out in
            scalars.withUnsafeBufferPointer { src in
                for i in 0..<src.count { out[i] = body(src[i]) }
            }
        }
    }

    /// Combines two tensors of equal shape element by element.
    @inlinable
    public func zipWith(_ other: Tensor, _ body: (Float, Float) -> Float) -> Tensor {
        precondition(shape == other.shape, "Tensor: shapes \(shape) and \(other.shape) differ")
        return Tensor(shape: shape) { out in
            scalars.withUnsafeBufferPointer { a in
                other.scalars.withUnsafeBufferPointer { b in
                    for i in 0..<a.count { out[i] = body(a[i], b[i]) }
                }
            }
        }
    }

    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.zipWith(rhs, +) }
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.zipWith(rhs, -) }
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.zipWith(rhs, *) }
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.zipWith(rhs, /) }
    public static func + (lhs: Tensor, rhs: Float) -> Tensor { lhs.map { $0 + rhs } }
    public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs.map { $0 - rhs } }
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs.map { $0 * rhs } }
    public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs.map { lhs * $0 } }
    public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs.map { $0 / rhs } }
    public static prefix func - (x: Tensor) -> Tensor { x.map { -$0 } }

    /// `self += other` in place (equal shapes).
    @inlinable
    public mutating func add(_ other: Tensor) {
        precondition(shape == other.shape, "Tensor.add: shapes \(shape) and \(other.shape) differ")
        other.scalars.withUnsafeBufferPointer { b in
            scalars.withUnsafeMutableBufferPointer { a in
                for i in 0..<a.count { a[i] += b[i] }
            }
        }
    }

    /// `self += alpha * other` in place (equal shapes).
    @inlinable
    public mutating func add(_ other: Tensor, scaledBy alpha: Float) {
        precondition(shape == other.shape, "Tensor.add: shapes \(shape) and \(other.shape) differ")
        other.scalars.withUnsafeBufferPointer { b in
            scalars.withUnsafeMutableBufferPointer { a in
                for i in 0..<a.count { a[i] += alpha * b[i] }
            }
        }
    }

    /// Multiplies every element by `factor` in place.
    @inlinable
    public mutating func scale(by factor: Float) {
        scalars.withUnsafeMutableBufferPointer { a in
            for i in 0..<a.count { a[i] *= factor }
        }
    }

    /// Adds `row` (shape = the trailing dimensions of `self`) to every leading position.
    public func addingBroadcast(_ row: Tensor) -> Tensor {
        precondition(row.count > 0 && count % row.count == 0 && Array(shape.suffix(row.rank)) == row.shape,
                     "Tensor.addingBroadcast: \(row.shape) is not a trailing shape of \(shape)")
        var result = self
        let n = row.count
        row.scalars.withUnsafeBufferPointer { r in
            result.scalars.withUnsafeMutableBufferPointer { a in
                var base = 0
                while base < a.count {
                    for j in 0..<n { a[base + j] += r[j] }
                    base += n
                }
            }
        }
        return result
    }

    /// The sum over the leading positions, leaving the trailing shape `trailingShape` (inverse of broadcasting).
    public func sumLeading(to trailingShape: [Int]) -> Tensor {
        let n = trailingShape.reduce(1, *)
        precondition(n > 0 && Array(shape.suffix(trailingShape.count)) == trailingShape,
                     "Tensor.sumLeading: \(trailingShape) is not a trailing shape of \(shape)")
        var result = Tensor(zeros: trailingShape)
        scalars.withUnsafeBufferPointer { a in
            result.scalars.withUnsafeMutableBufferPointer { r in
                var base = 0
                while base < a.count {
                    for j in 0..<n { r[j] += a[base + j] }
                    base += n
                }
            }
        }
        return result
    }

    /// The sum of all elements (accumulated in Double).
    public func sum() -> Float {
        var total = 0.0
        for x in scalars { total += Double(x) }
        return Float(total)
    }

    /// The mean of all elements.
    public func mean() -> Float { count == 0 ? .nan : sum() / Float(count) }

    /// The largest element.
    public func max() -> Float { scalars.max() ?? -.infinity }

    /// The Euclidean norm of all elements (accumulated in Double).
    public func norm() -> Float {
        var total = 0.0
        for x in scalars { total += Double(x) * Double(x) }
        return Float(total.squareRoot())
    }

    /// The largest absolute difference to `other` (equal shapes).
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "Tensor.maxAbsDifference: shapes \(shape) and \(other.shape) differ")
        var worst: Float = 0
        for (a, b) in zip(scalars, other.scalars) { worst = Swift.max(worst, abs(a - b)) }
        return worst
    }

    /// Whether every element is within `atol + rtol · |other|` of `other`.
    public func isClose(to other: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6) -> Bool {
        guard shape == other.shape else { return false }
        return zip(scalars, other.scalars).allSatisfy { abs($0 - $1) <= atol + rtol * abs($1) }
    }
}

/// Scalar activation functions shared by the kernels and the autodiff ops.
public enum Activation {
    @inlinable public static func sigmoid(_ x: Float) -> Float {
        // Stable for large |x|: exp of a non-positive number never overflows.
        if x >= 0 { return 1 / (1 + exp(-x)) }
        let e = exp(x)
        return e / (1 + e)
    }
    @inlinable public static func tanh(_ x: Float) -> Float { Foundation.tanh(x) }
    @inlinable public static func relu(_ x: Float) -> Float { x > 0 ? x : 0 }
}
