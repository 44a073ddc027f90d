import Foundation
import RecurrentCore

// Vectorisable exp, sigmoid and tanh over contiguous spans of Float, used by the fused gate loops.
//
// exp: range reduction x = k·ln2 + r with |r| ≤ ln2/2 (ln2 split into a high part exact in Float and
// a low correction), a degree-6 polynomial for e^r (Cephes' expf coefficients, relative error about
// 1e-7 on the reduced range) and 2^k assembled in the exponent bits. The argument is clamped to
// [-87.3, 88.37], so results stay finite and normal (88.37 keeps k ≤ 127; e^88.37 ≈ 2.4e38).
// sigmoid(x) = 1 / (1 + e^−x); tanh(x) = 1 − 2 / (e^2x + 1). Both saturate exactly at their limits and
// carry an absolute error of a few Float ulps of 1 (tested against Foundation in FusedLayerTests:
// below 5e-7 on [−20, 20]); near 0 tanh keeps that absolute (not relative) accuracy, which is what a
// gate needs.
//
// The functions are written as branch-free scalar code (min/max are selects, 2^k is a bit shift) so
// that LLVM vectorises the loops that call them; explicit SIMD types were slower here because their
// generic clamping did not inline.

@inline(__always)
func fastExp(_ x: Float) -> Float {
    let x = Swift.min(Swift.max(x, -87.3), 88.37)
    // k = round(x / ln2) by the 1.5·2^23 trick (exact for |k| < 2^22).
    let k = (x * 1.442_695_04 + 12_582_912) - 12_582_912
    let r = x - k * 0.693_359_375 + k * 2.121_944_4e-4
    var p: Float = 1.987_569_15e-4
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let y = p * (r * r) + r + 1
    // 2^k: the bits of (k + 2^23 + 127) hold k + 127 in the low mantissa bits; shift them into the exponent.
    return y * Float(bitPattern: (k + 8_388_735).bitPattern << 23)
}

@inline(__always)
func fastSigmoid(_ x: Float) -> Float {
    // Below the smallest normal Float (x < −87.3) the result is 0: no subnormal gates.
    let s = 1 / (1 + fastExp(-x))
    return s >= .leastNormalMagnitude ? s : 0
}

@inline(__always)
func fastTanh(_ x: Float) -> Float { 1 - 2 / (fastExp(x + x) + 1) }

/// Elementwise activations over contiguous spans, vectorised (see the file comment for the error bounds).
/// On the SIMD kernel families (while `FastGEMM.isEnabled`) the same algorithm runs 16 (AVX-512),
/// 8 (AVX2) or 4 (NEON) lanes wide in `FastElementwise`; on the reference family these portable loops run.
/// `source` and `destination` may be the same pointer.
public enum VectorizedActivation {
    /// `destination[i] = e^source[i]` for `i < count` (arguments clamped to [−87.3, 88.37]: e^88.37 ≈ 2.4e38 is the largest power the 2^k construction reaches, k ≤ 127).
    public static func exp(_ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, count: Int) {
        if FastGEMM.isEnabled { return FastElementwise.apply(.exp, source, destination, count: count) }
        for i in 0..<count { destination[i] = fastExp(source[i]) }
    }

    /// `destination[i] = 1 / (1 + e^−source[i])` for `i < count`.
    public static func sigmoid(_ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, count: Int) {
        if FastGEMM.isEnabled { return FastElementwise.apply(.sigmoid, source, destination, count: count) }
        for i in 0..<count { destination[i] = fastSigmoid(source[i]) }
    }

    /// `destination[i] = tanh(source[i])` for `i < count`.
    public static func tanh(_ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, count: Int) {
        if FastGEMM.isEnabled { return FastElementwise.apply(.tanh, source, destination, count: count) }
        for i in 0..<count { destination[i] = fastTanh(source[i]) }
    }

    /// `destination[i] = max(source[i], 0)` for `i < count`.
    public static func relu(_ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { destination[i] = Swift.max(source[i], 0) }
    }
}
