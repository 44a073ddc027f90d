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
}
