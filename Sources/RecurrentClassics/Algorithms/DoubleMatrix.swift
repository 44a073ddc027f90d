import RecurrentCore

/// A small dense Double matrix, row-major, for the algorithms that need more precision than the
/// Float32 `Tensor` gives (RTRL sensitivities, EKF covariances) and whose matrices are small.
///
/// Products are plain loops (O(rows · inner · columns)); these matrices have at most a few
/// hundred rows, where a BLAS call would gain little.
public struct DoubleMatrix: Equatable, Sendable, CustomStringConvertible {
    public let rows: Int
    public let columns: Int
    /// The elements in row-major order, `rows · columns` of them.
    public var elements: [Double]

    /// A matrix of the given size filled with `value`.
    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        precondition(rows >= 0 && columns >= 0, "DoubleMatrix: negative size \(rows)×\(columns)")
        self.rows = rows
        self.columns = columns
        elements = [Double](repeating: value, count: rows * columns)
    }

    /// A matrix from row-major `elements`.
    public init(rows: Int, columns: Int, elements: [Double]) {
        precondition(elements.count == rows * columns,
                     "DoubleMatrix: \(rows)×\(columns) needs \(rows * columns) elements, got \(elements.count)")
        self.rows = rows
        self.columns = columns
        self.elements = elements
    }

    /// `scale · I` of size `size × size`.
    public static func identity(_ size: Int, scale: Double = 1) -> DoubleMatrix {
        var m = DoubleMatrix(rows: size, columns: size)
        for i in 0..<size { m.elements[i * size + i] = scale }
        return m
    }

    /// The single-precision tensor `(rows, columns)` with the same elements (rounded).
    public var tensor: Tensor { Tensor(shape: [rows, columns], scalars: elements.map { Float($0) }) }

    /// The matrix of a rank-2 tensor (or a rank-1 tensor as one column).
    public init(_ tensor: Tensor) {
        precondition(tensor.rank == 1 || tensor.rank == 2, "DoubleMatrix: needs a rank-1 or rank-2 tensor, got \(tensor.shape)")
        self.init(rows: tensor.shape[0], columns: tensor.rank == 2 ? tensor.shape[1] : 1,
                  elements: tensor.scalars.map { Double($0) })
    }

    public subscript(row: Int, column: Int) -> Double {
        get { elements[row * columns + column] }
        set { elements[row * columns + column] = newValue }
    }

    public var description: String { "DoubleMatrix(\(rows)×\(columns): \(elements))" }

    /// The transpose.
    public var transposed: DoubleMatrix {
        var t = DoubleMatrix(rows: columns, columns: rows)
        for i in 0..<rows { for j in 0..<columns { t.elements[j * rows + i] = elements[i * columns + j] } }
        return t
    }

    /// `self · other`.
    public static func * (lhs: DoubleMatrix, rhs: DoubleMatrix) -> DoubleMatrix {
        precondition(lhs.columns == rhs.rows, "DoubleMatrix *: \(lhs.rows)×\(lhs.columns) times \(rhs.rows)×\(rhs.columns)")
        var out = DoubleMatrix(rows: lhs.rows, columns: rhs.columns)
        let n = rhs.columns, k = lhs.columns
        lhs.elements.withUnsafeBufferPointer { a in
            rhs.elements.withUnsafeBufferPointer { b in
                out.elements.withUnsafeMutableBufferPointer { c in
                    for i in 0..<lhs.rows {
                        for p in 0..<k {
                            let aip = a[i * k + p]
                            if aip == 0 { continue }
                            for j in 0..<n { c[i * n + j] += aip * b[p * n + j] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// `self · v` for a vector `v` of `columns` elements.
    public func times(_ v: [Double]) -> [Double] {
        precondition(v.count == columns, "DoubleMatrix.times: vector of \(v.count) for \(columns) columns")
        var out = [Double](repeating: 0, count: rows)
        for i in 0..<rows {
            var s = 0.0
            for j in 0..<columns { s += elements[i * columns + j] * v[j] }
            out[i] = s
        }
        return out
    }

    /// `selfᵀ · v` for a vector `v` of `rows` elements.
    public func transposedTimes(_ v: [Double]) -> [Double] {
        precondition(v.count == rows, "DoubleMatrix.transposedTimes: vector of \(v.count) for \(rows) rows")
        var out = [Double](repeating: 0, count: columns)
        for i in 0..<rows where v[i] != 0 {
            for j in 0..<columns { out[j] += elements[i * columns + j] * v[i] }
        }
        return out
    }

    public static func + (lhs: DoubleMatrix, rhs: DoubleMatrix) -> DoubleMatrix {
        precondition(lhs.rows == rhs.rows && lhs.columns == rhs.columns, "DoubleMatrix +: sizes differ")
        return DoubleMatrix(rows: lhs.rows, columns: lhs.columns, elements: zip(lhs.elements, rhs.elements).map(+))
    }

    public static func - (lhs: DoubleMatrix, rhs: DoubleMatrix) -> DoubleMatrix {
        precondition(lhs.rows == rhs.rows && lhs.columns == rhs.columns, "DoubleMatrix -: sizes differ")
        return DoubleMatrix(rows: lhs.rows, columns: lhs.columns, elements: zip(lhs.elements, rhs.elements).map(-))
    }

    /// `(self + selfᵀ) / 2`: removes the asymmetry rounding leaves in a covariance update.
    public var symmetrized: DoubleMatrix {
        precondition(rows == columns, "DoubleMatrix.symmetrized: not square (\(rows)×\(columns))")
        var s = self
        for i in 0..<rows {
            for j in (i + 1)..<max(i + 1, columns) {
                let mean = 0.5 * (elements[i * columns + j] + elements[j * columns + i])
                s.elements[i * columns + j] = mean
                s.elements[j * columns + i] = mean
            }
        }
        return s
    }

    /// The inverse of a square matrix by Gauss–Jordan elimination with partial pivoting, or `nil`
    /// when it is singular to working precision.
    public var inverse: DoubleMatrix? {
        precondition(rows == columns, "DoubleMatrix.inverse: not square (\(rows)×\(columns))")
        let n = rows
        var a = self
        var inv = DoubleMatrix.identity(n)
        for col in 0..<n {
            var pivot = col
            for r in (col + 1)..<max(col + 1, n) where abs(a[r, col]) > abs(a[pivot, col]) { pivot = r }
            guard abs(a[pivot, col]) > 1e-300 else { return nil }
            if pivot != col {
                for j in 0..<n {
                    a.elements.swapAt(col * n + j, pivot * n + j)
                    inv.elements.swapAt(col * n + j, pivot * n + j)
                }
            }
            let d = 1 / a[col, col]
            for j in 0..<n {
                a[col, j] *= d
                inv[col, j] *= d
            }
            for r in 0..<n where r != col {
                let f = a[r, col]
                if f == 0 { continue }
                for j in 0..<n {
                    a[r, j] -= f * a[col, j]
                    inv[r, j] -= f * inv[col, j]
                }
            }
        }
        return inv
    }
}
