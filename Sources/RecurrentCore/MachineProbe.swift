import Foundation
import CRecurrentKernels

/// Measurements of the machine itself, against which the kernels' figures are read: the sgemm peak
/// (the best GFLOP/s of a large matrix product) and the memory read bandwidth by working-set size.
/// Used by `recurrent bench --peak`; timings take the best of several repetitions.
package enum MachineProbe {
    /// GFLOP/s of `C (m × n) = A (m × k) · B (k × n)` on the packed kernel of the current family (B
    /// packed once, outside the timing) split over `threads`, best of `repetitions` timings of at least
    /// 50 ms each. Returns nil on the reference family (no packed GEMM).
    package static func packedGEMMGFLOPS(m: Int, n: Int, k: Int, threads: Int, repetitions: Int = 5) -> Double? {
        guard FastGEMM.isSupported else { return nil }
        let a = filled(m * k), b = filled(k * n)
        var c = [Float](repeating: 0, count: m * n)
        let packed = PackedMatrix(transposed: false, k: k, n: n, b: b, ldb: n)
        let seconds = bestTime(repetitions) {
            packed.multiply(transposeA: false, m: m, a: a, lda: k, beta: 0, c: &c, ldc: n, threads: threads)
        }
        return 2 * Double(m) * Double(n) * Double(k) / seconds / 1e9
    }

    /// GFLOP/s of the same product on the system BLAS with `threads` threads.
    package static func blasGEMMGFLOPS(m: Int, n: Int, k: Int, threads: Int, repetitions: Int = 5) -> Double {
        let a = filled(m * k), b = filled(k * n)
        var c = [Float](repeating: 0, count: m * n)
        BLAS.setThreads(threads)
        let seconds = bestTime(repetitions) {
            BLAS.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &c, ldc: n)
        }
        return 2 * Double(m) * Double(n) * Double(k) / seconds / 1e9
    }

    /// GB/s (10⁹ bytes) of reading a buffer of `bytes` bytes again and again, split into `threads`
    /// contiguous shares: the speed of whichever cache level (or memory) holds that working set.
    /// Read with the current family's widest loads (portable C on the reference family).
    package static func readBandwidthGBps(bytes: Int, threads: Int, repetitions: Int = 5) -> Double {
        let threads = Swift.max(1, threads)
        let share = Swift.max(64, bytes / 4 / threads / 64 * 64)
        let count = share * threads
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: Float.self, capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1, count: count)
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: threads)
        defer { sums.deallocate() }
        // Enough passes per timing that one timing reads at least 256 MiB.
        let passes = Swift.max(1, (256 << 20) / (count * 4))
        let family = KernelFamily.current.code
        let seconds = bestTime(repetitions) {
            ComputeThreads.run(threads) { t in
                sums[t] = rk_read_sum(family, buffer + t * share, share, passes)
            }
        }
        return Double(count * 4) * Double(passes) / seconds / 1e9
    }

    private static func filled(_ count: Int) -> [Float] {
        (0..<count).map { Float($0 % 17) * 0.01 - 0.08 }
    }

    /// The best wall time of one call of `body`, over `repetitions` timings that each repeat it for
    /// at least 50 ms (after one untimed call).
    private static func bestTime(_ repetitions: Int, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<Swift.max(1, repetitions) {
            let start = DispatchTime.now().uptimeNanoseconds
            var calls = 0
            var elapsed: UInt64 = 0
            repeat {
                body()
                calls += 1
                elapsed = DispatchTime.now().uptimeNanoseconds - start
            } while elapsed < 50_000_000
            best = Swift.min(best, Double(elapsed) * 1e-9 / Double(calls))
        }
        return best
    }
}
