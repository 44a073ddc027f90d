import ArgumentParser
import Foundation
import Recurrent

/// `--threads`: how many cores the matrix products may use.
struct ThreadingOptions: ParsableArguments {
    @Option(help: "Threads for the matrix products (default: RECURRENT_THREADS, else all cores).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// Applies the setting to the compute kernels and the BLAS (`fallback` when --threads is not given:
    /// `RECURRENT_THREADS` when set, else all cores).
    func apply(fallback: Int = ComputeThreads.defaultCount) {
        let count = threads ?? fallback
        BLAS.setThreads(count)
        ComputeThreads.count = count
    }
}
