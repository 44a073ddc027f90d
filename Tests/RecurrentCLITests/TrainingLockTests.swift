import Foundation
import Recurrent
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The run lock between real processes: a second trainer on the same directory is refused with one
/// line, every training command honours the lock, and a trainer killed with -9 leaves it free.
final class TrainingLockTests: BinaryTestCase {
    private func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: scratch.appendingPathComponent(name).path) }

    /// Waits up to `seconds` for `condition`.
    private func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    func testASecondTrainerIsRefusedAndAKilledOneLeavesTheDirectoryFree() throws {
        let arguments = ["train", "--corpus", "arithmetic", "--corpus-lines", "2000", "--hidden", "16", "--layers", "1", "--batch", "4",
                         "--seq", "16", "--eval-every", "1000000", "--sample-length", "0", "--threads", "1", "--out", "run"]
        let first = try start(arguments + ["--time-budget", "60"])
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        let lockFile = scratch.appendingPathComponent("run/\(RunDirectoryLock.fileName)")
        XCTAssertTrue(waitFor(30) { (try? String(contentsOf: lockFile, encoding: .utf8)) == "\(first.processIdentifier)\n" },
                      "the first trainer should hold the lock")
        try assertFails(arguments + ["--max-steps", "2"], mentioning: "'\(scratch.appendingPathComponent("run").path)' is in use by "
                        + "another training run (process \(first.processIdentifier)); wait for it to finish or choose another output directory")
        XCTAssertTrue(first.isRunning, "the refused trainer must not disturb the first")

        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        XCTAssertEqual(first.terminationReason, .uncaughtSignal)
        XCTAssertTrue(exists("run/\(RunDirectoryLock.fileName)"), "a killed trainer leaves its lock file")
        // The kernel released its flock: a new run takes the directory over (no checkpoint was written).
        let again = try run(arguments + ["--max-steps", "2"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertFalse(exists("run/\(RunDirectoryLock.fileName)"), "a finished run removes its lock file")
        XCTAssertTrue(exists("run/checkpoints/latest"))
    }

    func testEveryTrainingCommandRefusesALockedDirectory() throws {
        let csv = try write("y\n" + (0..<60).map { "\(Double($0 % 7) + 0.1 * Double($0))" }.joined(separator: "\n") + "\n", to: "series.csv")
        let pairs = try write((0..<40).map { "a b \($0 % 5)\t\($0 % 5) b a" }.joined(separator: "\n") + "\n", to: "pairs.tsv")
        let busy = scratch.appendingPathComponent("busy")
        let lock = try RunDirectoryLock(directory: busy)   // held by this test's process
        let message = "'\(busy.path)' is in use by another training run (process \(getpid()))"
        for arguments in [
            ["train", "--corpus", "arithmetic", "--max-steps", "1", "--out", "busy"],
            ["demo", "--out", "busy", "--time-budget", "1"],
            ["forecast", "train", "--csv", csv, "--target", "y", "--window", "6", "--horizon", "2", "--out", "busy"],
            ["forecast", "train", "--resume", "busy"],
            ["classify", "train", "--corpus", "sentiment", "--out", "busy"],
            ["classify", "train", "--resume", "busy"],
            ["translate", "train", "--pairs", pairs, "--level", "word", "--run-dir", "busy"],
            ["translate", "train", "--resume", "busy"],
        ] {
            try assertFails(arguments, mentioning: message)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: busy.path), [RunDirectoryLock.fileName], "nothing was written")
        lock.release()
        XCTAssertFalse(exists("busy"), "the directory the lock created is gone again")
    }
}
