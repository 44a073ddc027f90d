import Foundation
import XCTest
import RecurrentCore

/// `ComputeThreads.run`: every part runs exactly once, whether the persistent workers take the job or
/// (when they are busy with another thread's job, or for a nested call) GCD does.
final class ComputeThreadsTests: XCTestCase {
    func testEveryPartRunsExactlyOnceOverManyShortJobs() {
        for parts in [2, 3, 17] {  // 17: more than the pool takes (GCD runs it)
            let counts = UnsafeMutablePointer<Int>.allocate(capacity: parts)
            defer { counts.deallocate() }
            counts.initialize(repeating: 0, count: parts)
            for _ in 0..<1000 { ComputeThreads.run(parts) { counts[$0] += 1 } }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: counts, count: parts)), Array(repeating: 1000, count: parts),
                           "\(parts) parts")
        }
    }

    func testJobsFromSeveralThreadsAndNestedJobsAllComplete() {
        let threads = 4, jobs = 500
        // Each innermost part writes its own element.
        nonisolated(unsafe) let totals = UnsafeMutablePointer<Int>.allocate(capacity: threads * 4)
        defer { totals.deallocate() }
        totals.initialize(repeating: 0, count: threads * 4)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for _ in 0..<jobs {
                ComputeThreads.run(2) { part in
                    // A nested job inside each part: the pool is busy, so it runs elsewhere.
                    ComputeThreads.run(2) { inner in totals[t * 4 + part * 2 + inner] += 1 }
                }
            }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: totals, count: threads * 4)), Array(repeating: jobs, count: threads * 4))
    }

    func testTheDefaultComesFromRecurrentThreads() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        XCTAssertEqual(try ComputeThreads.fromEnvironment([:]), cores)
        XCTAssertEqual(try ComputeThreads.fromEnvironment(["RECURRENT_THREADS": ""]), cores)
        XCTAssertEqual(try ComputeThreads.fromEnvironment(["RECURRENT_THREADS": "1"]), 1)
        XCTAssertEqual(try ComputeThreads.fromEnvironment(["RECURRENT_THREADS": "3"]), 3)
        for bad in ["0", "-1", "x", " 2", "4097"] {
            XCTAssertThrowsError(try ComputeThreads.fromEnvironment(["RECURRENT_THREADS": bad])) { error in
                XCTAssertEqual(error.localizedDescription,
                               "invalid RECURRENT_THREADS: expected a whole number of threads from 1 to 4096, got '\(bad)'")
            }
        }
        // This process started from the same variable, and the BLAS runs on as many threads when it is set.
        let environment = ProcessInfo.processInfo.environment
        XCTAssertEqual(ComputeThreads.defaultCount, (try? ComputeThreads.fromEnvironment(environment)) ?? cores)
        if let value = environment["RECURRENT_THREADS"], let threads = Int(value) {
            XCTAssertEqual(BLAS.threads, threads)
        }
    }
}
