import Foundation
import XCTest
import RecurrentCore
import RecurrentTestSupport

/// The packed GEMM and GEMVs of every kernel family this CPU supports (AVX-512, AVX2, NEON) against the
/// system BLAS (the reference path) on shapes with every kind of tail: rows not a multiple of the panel
/// height, columns not a multiple of 32 or of the vector width, k across the 256 block.
final class FastGEMMTests: XCTestCase {
    /// The SIMD families of this CPU (skips on a CPU with none).
    private func simdFamilies() throws -> [KernelFamily] {
        let families = KernelFamily.supported.filter(\.hasFastKernels)
        try XCTSkipIf(families.isEmpty, "no SIMD kernel family on this CPU")
        return families
    }

    private func randomMatrix(_ count: Int, _ rng: inout RandomGenerator) -> [Float] {
        (0..<count).map { _ in Float(Double(rng.next() >> 40) / Double(1 << 24)) * 2 - 1 }
    }

    /// Σ|aᵢbᵢ| + |beta·c| of every element of `C (m × n) = op(A) · op(B) + beta · C`: the magnitude of
    /// each sum, for `Float32Tolerance`.
    private func magnitudes(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: [Float], lda: Int,
                            b: [Float], ldb: Int, beta: Float, c: [Float], ldc: Int) -> [Double] {
        var result = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = abs(Double(beta) * Double(c[i * ldc + j]))
                for p in 0..<k {
                    let x = transposeA ? a[p * lda + i] : a[i * lda + p], y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += abs(Double(x) * Double(y))
                }
                result[i * n + j] = sum
            }
        }
        return result
    }

    func testPackedProductEqualsBLASForAllTranspositionsAndTails() throws {
        for family in try simdFamilies() { try KernelFamily.with(family) { try packedProductEqualsBLAS(family) } }
    }

    private func packedProductEqualsBLAS(_ family: KernelFamily) throws {
        var rng = RandomGenerator(seed: 7)
        let shapes = [(1, 1, 1), (3, 17, 5), (13, 33, 40), (32, 1024, 256), (25, 65, 300), (100, 50, 513), (2, 96, 16),
                      (7, 9, 3), (6, 24, 8), (12, 48, 17), (19, 15, 260)]
        for (m, n, k) in shapes {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    for beta: Float in [0, 1] {
                        let a = randomMatrix(m * k, &rng), b = randomMatrix(k * n, &rng), c0 = randomMatrix(m * n, &rng)
                        let lda = transposeA ? m : k, ldb = transposeB ? k : n
                        var expected = c0, actual = c0
                        BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda,
                                  b: b, ldb: ldb, beta: beta, c: &expected, ldc: n)
                        let packed = PackedMatrix(transposed: transposeB, k: k, n: n, b: b, ldb: ldb)
                        let sizes = magnitudes(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda,
                                               b: b, ldb: ldb, beta: beta, c: c0, ldc: n)
                        for threads in [1, 2] {
                            actual = c0
                            packed.multiply(transposeA: transposeA, m: m, a: a, lda: lda, beta: beta, c: &actual, ldc: n,
                                            threads: threads)
                            assertClose(actual, expected.map(Double.init), within: Float32Tolerance(reductionLength: k + 1),
                                        magnitudes: sizes,
                                        "\(family) m \(m) n \(n) k \(k) tA \(transposeA) tB \(transposeB) beta \(beta) threads \(threads)")
                        }
                    }
                }
            }
        }
    }

    func testRowStridesAreHonoured() throws {
        for family in try simdFamilies() {
            var rng = RandomGenerator(seed: 8)
            let m = 7, n = 40, k = 20, lda = 29, ldb = 45, ldc = 50
            let a = randomMatrix(m * lda, &rng), b = randomMatrix(k * ldb, &rng)
            let c0 = randomMatrix(m * ldc, &rng)
            var expected = c0, actual = c0
            BLAS.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                      beta: 1, c: &expected, ldc: ldc)
            KernelFamily.with(family) {
                PackedMatrix(transposed: false, k: k, n: n, b: b, ldb: ldb)
                    .multiply(transposeA: false, m: m, a: a, lda: lda, beta: 1, c: &actual, ldc: ldc, threads: 1)
            }
            // Columns past n (40 ..< 50 of each row) are left as they were.
            for i in 0..<m { XCTAssertEqual(actual[(i * ldc + n)..<((i + 1) * ldc)], expected[(i * ldc + n)..<((i + 1) * ldc)]) }
            let sizes = magnitudes(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                                   beta: 1, c: c0, ldc: ldc)
            let columns = { (matrix: [Float]) in (0..<m).flatMap { matrix[($0 * ldc)..<($0 * ldc + n)] } }
            assertClose(columns(actual), columns(expected).map(Double.init), within: Float32Tolerance(reductionLength: k + 1),
                        magnitudes: sizes, "\(family)")
        }
    }

    func testGEMVEqualsBLASForBothLayoutsAndTails() throws {
        for family in try simdFamilies() { KernelFamily.with(family) { gemvEqualsBLAS(family) } }
    }

    private func gemvEqualsBLAS(_ family: KernelFamily) {
        var rng = RandomGenerator(seed: 9)
        for (n, k) in [(1, 1), (3, 17), (65, 128), (512, 128), (70, 33), (4, 64), (9, 7), (37, 12)] {
            for transposeB in [false, true] {
                for beta: Float in [0, 1] {
                    let x = randomMatrix(k, &rng), b = randomMatrix(k * n, &rng), y0 = randomMatrix(n, &rng)
                    let ldb = transposeB ? k : n
                    var expected = y0, actual = y0
                    BLAS.gemm(transposeA: false, transposeB: transposeB, m: 1, n: n, k: k, a: x, lda: k, b: b, ldb: ldb,
                              beta: beta, c: &expected, ldc: n)
                    FastGEMM.gemv(transposeB: transposeB, n: n, k: k, x: x, b: b, ldb: ldb, beta: beta, y: &actual)
                    let sizes = magnitudes(transposeA: false, transposeB: transposeB, m: 1, n: n, k: k, a: x, lda: k, b: b, ldb: ldb,
                                           beta: beta, c: y0, ldc: n)
                    assertClose(actual, expected.map(Double.init), within: Float32Tolerance(reductionLength: k + 1), magnitudes: sizes,
                                "\(family) n \(n) k \(k) transposeB \(transposeB) beta \(beta)")
                }
            }
        }
    }

    /// Every family has the packed vector product (the batch-1 sampling path), the reference family too.
    func testPackedVectorProductEqualsBLASOnEveryTailAndThreadCount() throws {
        for family in KernelFamily.supported { KernelFamily.with(family) { packedVectorProductEqualsBLAS(family) } }
    }

    private func packedVectorProductEqualsBLAS(_ family: KernelFamily) {
        var rng = RandomGenerator(seed: 10)
        // 1 to 3 panels (odd and even pair counts), tails inside a panel, and one large matrix that splits over threads.
        for (n, k) in [(1, 1), (17, 5), (32, 9), (33, 40), (65, 128), (96, 7), (2048, 512)] {
            for transposeB in [false, true] {
                for beta: Float in [0, 1] {
                    let x = randomMatrix(k, &rng), b = randomMatrix(k * n, &rng), y0 = randomMatrix(n, &rng)
                    let ldb = transposeB ? k : n
                    var expected = y0
                    BLAS.gemm(transposeA: false, transposeB: transposeB, m: 1, n: n, k: k, a: x, lda: k, b: b, ldb: ldb,
                              beta: beta, c: &expected, ldc: n)
                    let packed = PackedMatrix(transposed: transposeB, k: k, n: n, b: b, ldb: ldb)
                    let sizes = magnitudes(transposeA: false, transposeB: transposeB, m: 1, n: n, k: k, a: x, lda: k, b: b, ldb: ldb,
                                           beta: beta, c: y0, ldc: n)
                    for threads in [1, 2, 3] {
                        var actual = y0
                        packed.multiplyVector(x, beta: beta, into: &actual, threads: threads)
                        assertClose(actual, expected.map(Double.init), within: Float32Tolerance(reductionLength: k + 1), magnitudes: sizes,
                                    "\(family) n \(n) k \(k) tB \(transposeB) beta \(beta) threads \(threads)")
                    }
                }
            }
        }
    }

    func testTheEnvironmentVariableChoosesAFamilyOrFailsWithOneClearReason() throws {
        XCTAssertEqual(try KernelFamily.fromEnvironment([:]), KernelFamily.best)
        XCTAssertEqual(try KernelFamily.fromEnvironment(["RECURRENT_KERNELS": ""]), KernelFamily.best)
        XCTAssertEqual(try KernelFamily.fromEnvironment(["RECURRENT_KERNELS": "reference"]), .reference)
        XCTAssertEqual(try KernelFamily.fromEnvironment(["RECURRENT_KERNELS": "Reference"]), .reference)
        XCTAssertThrowsError(try KernelFamily.fromEnvironment(["RECURRENT_KERNELS": "sse9"])) { error in
            XCTAssertEqual(error.localizedDescription,
                           "invalid RECURRENT_KERNELS: expected one of reference, avx2, avx512, neon, got 'sse9'")
        }
        // Exactly one of the two instruction-set groups exists on any CPU.
        let foreign: KernelFamily
        #if arch(x86_64)
        foreign = .neon
        XCTAssertFalse(KernelFamily.neon.isSupported)
        #else
        foreign = .avx2
        XCTAssertFalse(KernelFamily.avx2.isSupported || KernelFamily.avx512.isSupported)
        #endif
        XCTAssertThrowsError(try KernelFamily.fromEnvironment(["RECURRENT_KERNELS": foreign.rawValue])) { error in
            XCTAssertTrue(error.localizedDescription.hasPrefix("invalid RECURRENT_KERNELS: this CPU does not support"),
                          error.localizedDescription)
        }
        XCTAssertEqual(KernelFamily.supported.last, .reference)
        XCTAssertEqual(KernelFamily.supported.first, KernelFamily.best)
    }

    /// The fused LSTM row kernels of every SIMD family against the formulas in Double, for hidden sizes
    /// that are and are not multiples of the vector width.
    func testLSTMRowKernelsOfEveryFamilyAgainstTheFormulas() throws {
        func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
        for family in try simdFamilies() {
            for H in [1, 5, 8, 16, 19, 37, 64] {
                var rng = RandomGenerator(seed: UInt64(H))
                let pre = randomMatrix(4 * H, &rng).map { $0 * 4 }, cPrev = randomMatrix(H, &rng), dh = randomMatrix(H, &rng)
                let dcIn = randomMatrix(H, &rng)
                var gates = pre, c = [Float](repeating: .nan, count: H), h = c, dc = dcIn
                var dGates = [Float](repeating: .nan, count: 4 * H)
                KernelFamily.with(family) {
                    FastElementwise.lstmForwardRow(hiddenSize: H, gates: &gates, cPrev: cPrev, c: &c, h: &h)
                    FastElementwise.lstmBackwardRow(hiddenSize: H, gates: gates, c: c, cPrev: cPrev, dh: dh, dc: &dc, dGates: &dGates)
                }
                for j in 0..<H {
                    let i = sigmoid(Double(pre[j])), f = sigmoid(Double(pre[H + j]))
                    let g = Foundation.tanh(Double(pre[2 * H + j])), o = sigmoid(Double(pre[3 * H + j]))
                    let cn = f * Double(cPrev[j]) + i * g, tc = Foundation.tanh(cn)
                    XCTAssertEqual(Double(c[j]), cn, accuracy: 2e-6, "\(family) H \(H) c[\(j)]")
                    XCTAssertEqual(Double(h[j]), o * tc, accuracy: 2e-6, "\(family) H \(H) h[\(j)]")
                    let dcj = Double(dcIn[j]) + Double(dh[j]) * o * (1 - tc * tc)
                    let expected = [dcj * g * i * (1 - i), dcj * Double(cPrev[j]) * f * (1 - f),
                                    dcj * i * (1 - g * g), Double(dh[j]) * tc * o * (1 - o)]
                    for (q, value) in expected.enumerated() {
                        XCTAssertEqual(Double(dGates[q * H + j]), value, accuracy: 1e-5, "\(family) H \(H) dGates[\(q)][\(j)]")
                    }
                    XCTAssertEqual(Double(dc[j]), dcj * f, accuracy: 1e-5, "\(family) H \(H) dc[\(j)]")
                }
            }
        }
    }
}
