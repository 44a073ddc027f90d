import Foundation
import CRecurrentKernels

/// How many threads the compute kernels may use (the fused recurrent layers, `FastGEMM` and the BLAS).
///
/// - The default is the number of active processors. The environment variable `RECURRENT_THREADS`
///   (a positive integer) sets it instead, and sets the BLAS's thread count to the same number
///   before the first BLAS product: the thread count decides how a product is split, and so the
///   order of its Float additions (`RECURRENT_THREADS=1 swift test` runs the suite on one split).
/// - A `--threads` option or `count = n` overrides either for the rest of the process.
public enum ComputeThreads {
    nonisolated(unsafe) private static var configured = defaultCount

    /// The thread count, at least 1. Set it once at start-up (for example from a `--threads` option).
    public static var count: Int {
        get { configured }
        set { configured = Swift.max(1, newValue) }
    }

    /// The count `count` starts from: `fromEnvironment()`, or the number of active processors with a
    /// warning on standard error when `RECURRENT_THREADS` is not a positive integer (the `recurrent`
    /// command stops with an error instead). When the variable is set, the BLAS uses that many threads.
    public static let defaultCount: Int = {
        let environment = ProcessInfo.processInfo.environment
        do {
            let count = try fromEnvironment(environment)
            if environment["RECURRENT_THREADS"].map({ !$0.isEmpty }) == true { BLAS.setThreads(count) }
            return count
        } catch {
            // A library cannot stop its host program over an environment variable: say so and go on.
            let fallback = ProcessInfo.processInfo.activeProcessorCount
            FileHandle.standardError.write(Data("warning: \(error.localizedDescription); using \(fallback)\n".utf8))
            return fallback
        }
    }()

    /// What the environment asks for: `RECURRENT_THREADS` when set (a positive integer, at most 4096),
    /// otherwise the number of active processors.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int {
        guard let value = environment["RECURRENT_THREADS"], !value.isEmpty else {
            return ProcessInfo.processInfo.activeProcessorCount
        }
        guard let count = Int(value), (1...4096).contains(count) else {
            throw ConfigurationError(argument: "RECURRENT_THREADS",
                                     reason: "expected a whole number of threads from 1 to 4096, got '\(value)'")
        }
        return count
    }

    /// Runs `body(i)` for `i` in `0..<count` on up to `count` threads and returns when all are done.
    /// Part 0 runs on the calling thread, the others on persistent worker threads that spin briefly
    /// between jobs (`rk_parallel`: a job starts on them within a microsecond, which the batch-1
    /// products of sampling need); while another thread's job holds those workers, on GCD's threads.
    public static func run(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 {
            if count == 1 { body(0) }
            return
        }
        // The body runs synchronously on the workers; callers pass raw pointers to disjoint data.
        withoutActuallyEscaping(body) { escapable in
            var task = escapable
            let ran = withUnsafeMutablePointer(to: &task) { pointer in
                rk_parallel(count, { context, part in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(part)
                }, pointer)
            }
            if ran == 0 {
                let box = UncheckedSendableBox(escapable)
                DispatchQueue.concurrentPerform(iterations: count) { box.value($0) }
            }
        }
    }
}

private struct UncheckedSendableBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
