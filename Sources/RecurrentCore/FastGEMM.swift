import Foundation
import CRecurrentKernels

// Matrix products for the recurrent kernels: our packed GEMM (Sources/CRecurrentKernels, the family of
// `KernelFamily.current`: AVX-512, AVX2 or NEON), split over `ComputeThreads.count` threads by this
// code (not by the BLAS), and the system BLAS on the reference family. Results equal BLAS's up to the
// order of the Float additions.

/// The packed GEMM and the switch between it and the system BLAS.
package enum FastGEMM {
    /// Whether the current kernel family has the packed GEMM (every family but `reference`).
    package static var isSupported: Bool { KernelFamily.current.hasFastKernels }

    nonisolated(unsafe) private static var enabled = true

    /// `y (n) = x (k) · op(B) + beta · y`, beta 0 or 1, with the SIMD kernel (fast path only):
    /// `B` stored (n × k) when `transposeB` (a weight used as `x · Wᵀ`), else (k × n).
    @inline(__always)
    package static func gemv(transposeB: Bool, n: Int, k: Int, x: UnsafePointer<Float>, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, y: UnsafeMutablePointer<Float>) {
        let family = KernelFamily.current.code
        // Large weights (beyond L2) are bandwidth-bound: split the outputs over the threads.
        let threads = n * k >= 1 << 18 && n >= 128 ? Swift.min(ComputeThreads.count, 4) : 1
        if threads > 1 {
            let share = ((n + threads - 1) / threads + 63) / 64 * 64
            ComputeThreads.run(threads) { t in
                let j0 = t * share, j1 = Swift.min(n, j0 + share)
                guard j0 < j1 else { return }
                if transposeB {
                    rk_gemv_rows(family, j1 - j0, k, b + j0 * ldb, ldb, x, beta, y + j0)
                } else {
                    rk_gemv_columns(family, j1 - j0, k, b + j0, ldb, x, beta, y + j0)
                }
            }
        } else if transposeB {
            rk_gemv_rows(family, n, k, b, ldb, x, beta, y)
        } else {
            rk_gemv_columns(family, n, k, b, ldb, x, beta, y)
        }
    }

    /// Whether packing a weight once pays off for `rows` rows multiplied by it in one call (a layer
    /// call with T·B rows); below this, products go to the BLAS (GEMV for batch-1 sampling).
    package static func worthPacking(rows: Int) -> Bool { isEnabled && rows >= 16 }

    /// Whether kernels use the fast path. Tests turn it off to compare against the BLAS reference path.
    package static var isEnabled: Bool {
        get { enabled && isSupported }
        set { enabled = newValue }
    }

    /// `C = op(A) · op(B) + beta · C` (row-major, like `BLAS.gemm`), on the fast path when enabled and
    /// beta is 0 or 1 and the product is large enough to pay for packing; split over `ComputeThreads`.
    package static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if isEnabled && m == 1 && !transposeA && (beta == 0 || beta == 1) {
            // One row (batch-1 inference): a matrix-vector product on the calling thread, no packing.
            gemv(transposeB: transposeB, n: n, k: k, x: a, b: b, ldb: ldb, beta: beta, y: c)
            return
        }
        guard isEnabled, beta == 0 || beta == 1, m >= 2, n >= 16, k >= 16 else {
            BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda,
                      b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        let packed = PackedMatrix(transposed: transposeB, k: k, n: n, b: b, ldb: ldb)
        packed.multiply(transposeA: transposeA, m: m, a: a, lda: lda, beta: beta, c: c, ldc: ldc,
                        threads: ComputeThreads.count)
    }
}

/// The right operand `op(B)` (k × n) of many products, packed once into 32-column panels.
package final class PackedMatrix: @unchecked Sendable {
    package let k: Int
    package let n: Int
    let storage: UnsafeMutablePointer<Float>
    let storageCount: Int

    /// Packs `op(B)`: `B` stored (k × n) with row stride `ldb`, or (n × k) when `transposed`
    /// (a weight `W` of shape (n, k) used as `x · Wᵀ`). Every family (the reference family included)
    /// can pack and multiply vectors; matrix products need `FastGEMM.isSupported`.
    package init(transposed: Bool, k: Int, n: Int, b: UnsafePointer<Float>, ldb: Int) {
        self.k = k
        self.n = n
        storageCount = Int(rk_packed_count(k, n))
        storage = .allocate(capacity: Swift.max(storageCount, 1))
        // Large weights are packed by both threads, each taking whole 32-column panels.
        let panels = (n + 31) / 32
        let threads = k * n >= 1 << 17 ? Swift.min(ComputeThreads.count, panels) : 1
        let destination = storage
        ComputeThreads.run(threads) { part in
            let p0 = part * panels / threads, p1 = (part + 1) * panels / threads
            guard p0 < p1 else { return }
            let j0 = p0 * 32, columns = Swift.min(n, p1 * 32) - j0
            rk_pack_b(transposed ? 1 : 0, k, columns, transposed ? b + j0 * ldb : b + j0, ldb, destination + p0 * k * 32)
        }
    }

    deinit { storage.deallocate() }

    /// `C (m × n) = op(A) · op(B) + beta · C` on the calling thread (beta 0 or 1), with `A` read in
    /// place: stored (m × k) with row stride `lda`, or (k × m) when `transposeA`.
    @inline(__always)
    package func multiplyUnthreaded(transposeA: Bool = false, m: Int, a: UnsafePointer<Float>, lda: Int, beta: Float,
                                   c: UnsafeMutablePointer<Float>, ldc: Int) {
        rk_sgemm(KernelFamily.current.code, transposeA ? 1 : 0, m, n, k, a, lda, storage, beta, c, ldc)
    }

    /// `C (m × n) = op(A) · op(B) + beta · C` split over up to `threads` threads (by column panels
    /// when there are enough, otherwise by rows), beta 0 or 1.
    package func multiply(transposeA: Bool, m: Int, a: UnsafePointer<Float>, lda: Int, beta: Float,
                         c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
        precondition(beta == 0 || beta == 1, "PackedMatrix.multiply: beta must be 0 or 1, got \(beta)")
        precondition(FastGEMM.isSupported, "PackedMatrix.multiply: the reference kernel family has no packed GEMM")
        if m == 0 || n == 0 { return }
        let panels = (n + 31) / 32
        let work = m * n * k
        let threads = work < 1 << 20 ? 1 : Swift.min(threads, 2 * Swift.max(1, Swift.min(panels, m)))
        if threads <= 1 || (panels < 2 * threads && m < 2 * threads) {
            multiplyUnthreaded(transposeA: transposeA, m: m, a: a, lda: lda, beta: beta, c: c, ldc: ldc)
            return
        }
        if m < 32 * threads {
            // Column split.
            let share = (panels + threads - 1) / threads
            ComputeThreads.run(threads) { t in
                let p0 = t * share, p1 = Swift.min(panels, p0 + share)
                guard p0 < p1 else { return }
                let columns = Swift.min(n, p1 * 32) - p0 * 32
                PackedMatrix.kernel(transposeA, m, columns, k, a, lda, storage + p0 * k * 32, beta, c + p0 * 32, ldc)
            }
        } else {
            // Row split.
            let share = (m + threads - 1) / threads
            ComputeThreads.run(threads) { t in
                let i0 = t * share, i1 = Swift.min(m, i0 + share)
                guard i0 < i1 else { return }
                PackedMatrix.kernel(transposeA, i1 - i0, n, k, transposeA ? a + i0 : a + i0 * lda, lda, storage,
                                    beta, c + i0 * ldc, ldc)
            }
        }
    }

    /// `y (n) = x (k) · op(B) + beta · y` (beta 0 or 1): a batch-1 product that reads each 32-column
    /// panel as one contiguous stream. Large matrices (k·n ≥ 2¹⁸) are split by panel pairs over up to
    /// `threads` threads.
    package func multiplyVector(_ x: UnsafePointer<Float>, beta: Float, into y: UnsafeMutablePointer<Float>, threads: Int = 1) {
        precondition(beta == 0 || beta == 1, "PackedMatrix.multiplyVector: beta must be 0 or 1, got \(beta)")
        let family = KernelFamily.current.code
        let pairs = (n + 63) / 64
        let threads = k * n >= 1 << 18 ? Swift.min(threads, pairs) : 1
        if threads <= 1 {
            rk_gemv_packed(family, n, k, storage, x, beta, y)
            return
        }
        let storage = self.storage, n = self.n, k = self.k
        ComputeThreads.run(threads) { t in
            let q0 = t * pairs / threads, q1 = (t + 1) * pairs / threads
            guard q0 < q1 else { return }
            let j0 = q0 * 64, columns = Swift.min(n, q1 * 64) - j0
            rk_gemv_packed(family, columns, k, storage + q0 * 2 * k * 32, x, beta, y + j0)
        }
    }

    @inline(__always)
    static func kernel(_ transposeA: Bool, _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ lda: Int,
                       _ packed: UnsafePointer<Float>, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        rk_sgemm(KernelFamily.current.code, transposeA ? 1 : 0, m, n, k, a, lda, packed, beta, c, ldc)
    }
}
