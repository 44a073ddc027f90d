import Foundation
import CRecurrentKernels

/// The element type of inference weights: Float32, bfloat16 (the top 16 bits of a Float, rounded to
/// nearest even) or int8 with one Float scale per output column. Products always accumulate in Float32.
public enum WeightPrecision: String, CaseIterable, Sendable {
    case float32
    case bfloat16 = "bf16"
    case int8

    /// Bytes per stored weight (4, 2 or 1; int8 adds one Float scale per column).
    public var bytesPerWeight: Int {
        switch self {
        case .float32: return 4
        case .bfloat16: return 2
        case .int8: return 1
        }
    }
}

/// The right operand `op(B)` (k × n) of batch-1 products held in bfloat16 or int8: the 32-column panel
/// layout of `PackedMatrix` with 2- or 1-byte elements (ceil(n/32)·32·k of them, zero-padded past n),
/// plus for int8 one scale per column, `scale_j = max_kk |op(B)(kk, j)| / 127` (ceil(n/32)·32 floats,
/// zero past n), so that `op(B)(kk, j) ≈ scale_j · q(kk, j)`.
///
/// The weights are converted once, here; `multiplyVector` reads the narrow elements, widens them to
/// Float in registers and accumulates in Float32 (`rk_gemv_packed_bf16` / `rk_gemv_packed_int8` of
/// `KernelFamily.current`, every family including `reference`).
package final class ReducedPrecisionMatrix: @unchecked Sendable {
    package let k: Int
    package let n: Int
    /// `.bfloat16` or `.int8`.
    package let precision: WeightPrecision
    /// ceil(n/32)·32·k elements of 2 (bf16) or 1 (int8) bytes.
    private let storage: UnsafeMutableRawPointer
    /// int8 only: ceil(n/32)·32 column scales (empty for bf16).
    private let scales: UnsafeMutablePointer<Float>
    private let elementCount: Int

    /// Converts `op(B)` to `precision` (`.bfloat16` or `.int8`; `.float32` is `PackedMatrix`): `B`
    /// stored (k × n) with row stride `ldb`, or (n × k) when `transposed` (a weight `W` of shape (n, k)
    /// used as `x · Wᵀ`).
    package init(_ precision: WeightPrecision, transposed: Bool, k: Int, n: Int, b: UnsafePointer<Float>, ldb: Int) {
        precondition(precision != .float32, "ReducedPrecisionMatrix: Float32 weights belong in a PackedMatrix")
        precondition(k >= 0 && n >= 0, "ReducedPrecisionMatrix: k and n must not be negative")
        self.k = k
        self.n = n
        self.precision = precision
        elementCount = Int(rk_packed_count(k, n))
        let panels = (n + 31) / 32
        storage = .allocate(byteCount: Swift.max(elementCount, 1) * precision.bytesPerWeight, alignment: 64)
        scales = .allocate(capacity: Swift.max(panels * 32, 1))
        scales.initialize(repeating: 0, count: Swift.max(panels * 32, 1))
        // Large weights are converted by several threads, each taking whole 32-column panels.
        let threads = k * n >= 1 << 17 ? Swift.min(ComputeThreads.count, panels) : 1
        let storage = self.storage, scales = self.scales, trans: Int32 = transposed ? 1 : 0
        ComputeThreads.run(threads) { part in
            let p0 = part * panels / threads, p1 = (part + 1) * panels / threads
            guard p0 < p1 else { return }
            let j0 = p0 * 32, columns = Swift.min(n, p1 * 32) - j0
            let source = transposed ? b + j0 * ldb : b + j0
            switch precision {
            case .bfloat16:
                rk_pack_b_bf16(trans, k, columns, source, ldb,
                               storage.assumingMemoryBound(to: UInt16.self) + p0 * k * 32)
            case .int8:
                rk_pack_b_int8(trans, k, columns, source, ldb,
                               storage.assumingMemoryBound(to: Int8.self) + p0 * k * 32, scales + j0)
            case .float32:
                preconditionFailure()
            }
        }
    }

    /// Converts a weight `W` stored (n × k) row-major, used as `x · Wᵀ`.
    package convenience init(_ precision: WeightPrecision, weight: [Float], n: Int, k: Int) {
        precondition(weight.count == n * k, "ReducedPrecisionMatrix: the weight must hold n·k = \(n * k) floats, got \(weight.count)")
        self.init(precision, transposed: true, k: k, n: n, b: weight, ldb: k)
    }

    deinit {
        storage.deallocate()
        scales.deallocate()
    }

    /// Bytes of weights (and scales) a product reads.
    package var byteCount: Int { elementCount * precision.bytesPerWeight + (precision == .int8 ? (n + 31) / 32 * 32 * 4 : 0) }

    /// The stored value of element (kk, j) of `op(B)` as a Float: the bf16 value, or `scale_j · q`.
    /// Preconditions: `0 ≤ kk < k`, `0 ≤ j < n`.
    package func element(_ kk: Int, _ j: Int) -> Float {
        precondition(kk >= 0 && kk < k && j >= 0 && j < n, "ReducedPrecisionMatrix.element: (\(kk), \(j)) is outside (\(k), \(n))")
        let index = (j / 32) * k * 32 + kk * 32 + j % 32
        switch precision {
        case .bfloat16:
            return Float(bitPattern: UInt32(storage.assumingMemoryBound(to: UInt16.self)[index]) << 16)
        case .int8:
            return Float(storage.assumingMemoryBound(to: Int8.self)[index]) * scales[j]
        case .float32:
            preconditionFailure()
        }
    }

    /// The int8 scale of column `j` (0 for bf16). Precondition: `0 ≤ j < n`.
    package func scale(_ j: Int) -> Float {
        precondition(j >= 0 && j < n, "ReducedPrecisionMatrix.scale: column \(j) is outside 0..<\(n)")
        return precision == .int8 ? scales[j] : 0
    }

    /// `y (n) = x (k) · op(B) + beta · y` (beta 0 or 1) in Float32 arithmetic on the stored weights.
    /// Large matrices (k·n ≥ 2¹⁸ elements, as `PackedMatrix.multiplyVector`) are split by panel pairs
    /// (64 columns) over up to `threads` threads.
    package func multiplyVector(_ x: UnsafePointer<Float>, beta: Float, into y: UnsafeMutablePointer<Float>, threads: Int = 1) {
        precondition(beta == 0 || beta == 1, "ReducedPrecisionMatrix.multiplyVector: beta must be 0 or 1, got \(beta)")
        let family = KernelFamily.current.code
        let pairs = (n + 63) / 64
        let threads = k * n >= 1 << 18 ? Swift.min(threads, pairs) : 1
        let storage = self.storage, scales = self.scales, n = self.n, k = self.k, precision = self.precision
        let part: (Int, Int) -> Void = { q0, q1 in
            let j0 = q0 * 64, columns = Swift.min(n, q1 * 64) - j0
            let offset = q0 * 2 * k * 32
            switch precision {
            case .bfloat16:
                rk_gemv_packed_bf16(family, columns, k, storage.assumingMemoryBound(to: UInt16.self) + offset, x, beta, y + j0)
            case .int8:
                rk_gemv_packed_int8(family, columns, k, storage.assumingMemoryBound(to: Int8.self) + offset, scales + j0,
                                    x, beta, y + j0)
            case .float32:
                preconditionFailure()
            }
        }
        if threads <= 1 {
            if n > 0 { part(0, pairs) }
            return
        }
        ComputeThreads.run(threads) { t in
            let q0 = t * pairs / threads, q1 = (t + 1) * pairs / threads
            guard q0 < q1 else { return }
            part(q0, q1)
        }
    }
}
