import XCTest
import RecurrentCore

/// The AVX-512 packed GEMM against the system BLAS (the reference path) on shapes with every kind of
/// tail: rows not a multiple of the panel height, columns not a multiple of 32, k across the 256 block.
final class FastGEMMTests: XCTestCase {
    private func randomMatrix(_ count: Int, _ rng: inout RandomGenerator) -> [Float] {
        (0..<count).map { _ in Float(Double(rng.next() >> 40) / Double(1 << 24)) * 2 - 1 }
    }

    func testPackedProductEqualsBLASForAllTranspositionsAndTails() throws {
        try XCTSkipUnless(FastGEMM.isSupported, "no AVX-512 on this CPU")
        var rng = RandomGenerator(seed: 7)
        let shapes = [(1, 1, 1), (3, 17, 5), (13, 33, 40), (32, 1024, 256), (25, 65, 300), (100, 50, 513), (2, 96, 16)]
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
                        for threads in [1, 2] {
                            actual = c0
                            packed.multiply(transposeA: transposeA, m: m, a: a, lda: lda, beta: beta, c: &actual, ldc: n,
                                            threads: threads)
                            var worst: Float = 0
                            for i in 0..<(m * n) { worst = max(worst, abs(actual[i] - expected[i])) }
                            // Inputs in [−1, 1]: rounding differences grow like √k · ulp(k).
                            XCTAssertLessThan(worst, 1e-6 * Float(k) + 1e-6,
                                              "m \(m) n \(n) k \(k) tA \(transposeA) tB \(transposeB) beta \(beta) threads \(threads)")
                        }
                    }
                }
            }
        }
    }

    func testRowStridesAreHonoured() throws {
        try XCTSkipUnless(FastGEMM.isSupported, "no AVX-512 on this CPU")
        var rng = RandomGenerator(seed: 8)
        let m = 7, n = 40, k = 20, lda = 29, ldb = 45, ldc = 50
        let a = randomMatrix(m * lda, &rng), b = randomMatrix(k * ldb, &rng)
        var expected = randomMatrix(m * ldc, &rng)
        var actual = expected
        BLAS.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                  beta: 1, c: &expected, ldc: ldc)
        PackedMatrix(transposed: false, k: k, n: n, b: b, ldb: ldb)
            .multiply(transposeA: false, m: m, a: a, lda: lda, beta: 1, c: &actual, ldc: ldc, threads: 1)
        for i in 0..<(m * ldc) { XCTAssertEqual(actual[i], expected[i], accuracy: 1e-5, "element \(i)") }
    }

    func testGEMVEqualsBLASForBothLayoutsAndTails() throws {
        try XCTSkipUnless(FastGEMM.isSupported, "no AVX-512 on this CPU")
        var rng = RandomGenerator(seed: 9)
        for (n, k) in [(1, 1), (3, 17), (65, 128), (512, 128), (70, 33), (4, 64)] {
            for transposeB in [false, true] {
                for beta: Float in [0, 1] {
                    let x = randomMatrix(k, &rng), b = randomMatrix(k * n, &rng), y0 = randomMatrix(n, &rng)
                    let ldb = transposeB ? k : n
                    var expected = y0, actual = y0
                    BLAS.gemm(transposeA: false, transposeB: transposeB, m: 1, n: n, k: k, a: x, lda: k, b: b, ldb: ldb,
                              beta: beta, c: &expected, ldc: n)
                    FastGEMM.gemv(transposeB: transposeB, n: n, k: k, x: x, b: b, ldb: ldb, beta: beta, y: &actual)
                    for i in 0..<n {
                        XCTAssertEqual(actual[i], expected[i], accuracy: 1e-6 * Float(k) + 1e-6,
                                       "n \(n) k \(k) transposeB \(transposeB) beta \(beta) element \(i)")
                    }
                }
            }
        }
    }

    func testPackedVectorProductEqualsBLASOnEveryTailAndThreadCount() throws {
        try XCTSkipUnless(FastGEMM.isSupported, "no AVX-512 on this CPU")
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
                    for threads in [1, 2, 3] {
                        var actual = y0
                        packed.multiplyVector(x, beta: beta, into: &actual, threads: threads)
                        var worst: Float = 0
                        for i in 0..<n { worst = max(worst, abs(actual[i] - expected[i])) }
                        XCTAssertLessThan(worst, 1e-6 * Float(k) + 1e-6, "n \(n) k \(k) tB \(transposeB) beta \(beta) threads \(threads)")
                    }
                }
            }
        }
    }
}
