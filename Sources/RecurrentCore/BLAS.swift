#if canImport(Accelerate)
import Accelerate
#else
import COpenBLAS
#endif

/// Thin, row-major wrappers over the system BLAS (OpenBLAS on Linux, Accelerate on macOS).
///
/// All matrices are row-major. `transposeA` means the stored matrix `A` is `(k, m)` and is used as `Aᵀ`.
public enum BLAS {
    /// `C = alpha · op(A) · op(B) + beta · C` with `op(A)` of shape `(m, k)` and `op(B)` of shape `(k, n)`.
    ///
    /// `lda`, `ldb`, `ldc` are row strides in elements of the stored matrices.
    @inlinable
    public static func gemm(
        transposeA: Bool, transposeB: Bool,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        _ = ComputeThreads.defaultCount  // applies RECURRENT_THREADS to the BLAS before its first product
        if k == 0 {
            // BLAS leaves C untouched only when beta == 1; make k == 0 mean "scale C by beta".
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `y = alpha · op(A) · x + beta · y` with `A` stored `(rows, columns)` row-major.
    @inlinable
    public static func gemv(
        transpose: Bool, rows: Int, columns: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float = 0,
        y: UnsafeMutablePointer<Float>
    ) {
        if rows == 0 || columns == 0 { return }
        _ = ComputeThreads.defaultCount  // applies RECURRENT_THREADS to the BLAS before its first product
        cblas_sgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans,
                    Int32(rows), Int32(columns), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }

    /// Sets the number of threads the BLAS may use (no effect on Accelerate).
    public static func setThreads(_ count: Int) {
        #if !canImport(Accelerate)
        openblas_set_num_threads(Int32(max(1, count)))
        #endif
    }

    /// The number of threads the BLAS uses.
    public static var threads: Int {
        #if canImport(Accelerate)
        return 1
        #else
        return Int(openblas_get_num_threads())
        #endif
    }
}

extension Tensor {
    /// The matrix product `op(self) · op(other)` of two rank-2 tensors (on `FastGEMM`'s path when
    /// enabled, else the BLAS).
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Tensor {
        precondition(rank == 2 && other.rank == 2, "Tensor.matmul: needs rank-2 tensors, got \(shape) and \(other.shape)")
        let m = transposeSelf ? shape[1] : shape[0]
        let k = transposeSelf ? shape[0] : shape[1]
        let k2 = transposeOther ? other.shape[1] : other.shape[0]
        let n = transposeOther ? other.shape[0] : other.shape[1]
        precondition(k == k2, "Tensor.matmul: inner dimensions differ: \(shape)\(transposeSelf ? "ᵀ" : "") · \(other.shape)\(transposeOther ? "ᵀ" : "")")
        var result = Tensor(zeros: [m, n])
        scalars.withUnsafeBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in
                result.scalars.withUnsafeMutableBufferPointer { c in
                    FastGEMM.gemm(transposeA: transposeSelf, transposeB: transposeOther, m: m, n: n, k: k,
                                  a: a.baseAddress!, lda: shape[1], b: b.baseAddress!, ldb: other.shape[1],
                                  c: c.baseAddress!, ldc: n)
                }
            }
        }
        return result
    }
}
