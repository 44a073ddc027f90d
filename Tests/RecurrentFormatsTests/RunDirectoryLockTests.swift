import Foundation
import Recurrent
import XCTest

/// `RunDirectoryLock` within one process (two processes: RecurrentCLITests.TrainingLockTests).
final class RunDirectoryLockTests: XCTestCase {
    private var parent: URL!

    override func setUpWithError() throws { parent = try makeTemporaryDirectory("lock") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: parent) }

    private func listing(_ url: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }

    func testASecondLockIsRefusedUntilTheFirstIsReleased() throws {
        let run = parent.appendingPathComponent("run")
        let lock = try RunDirectoryLock(directory: run)
        XCTAssertTrue(lock.isHeld)
        XCTAssertEqual(try listing(run), [".lock"])
        XCTAssertEqual(try String(contentsOf: lock.lockFile, encoding: .utf8), "\(getpid())\n")
        XCTAssertThrowsError(try RunDirectoryLock(directory: run)) { error in
            XCTAssertEqual(error as? RunDirectoryBusyError, RunDirectoryBusyError(path: run.path, holder: getpid()))
            XCTAssertEqual(error.localizedDescription, "'\(run.path)' is in use by another training run (process \(getpid())); "
                           + "wait for it to finish or choose another output directory")
        }
        try Data("weights".utf8).write(to: run.appendingPathComponent("model.safetensors"))
        lock.release()
        XCTAssertFalse(lock.isHeld)
        XCTAssertEqual(try listing(run), ["model.safetensors"], "the lock file goes, what the run wrote stays")
        lock.release()   // a second release does nothing
        let again = try RunDirectoryLock(directory: run)
        again.release()
    }

    func testALeftOverLockFileIsTakenOver() throws {
        // A run killed with -9 leaves its .lock file; the kernel has released its flock.
        let run = parent.appendingPathComponent("killed")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        try Data("4242\n".utf8).write(to: run.appendingPathComponent(RunDirectoryLock.fileName))
        let lock = try RunDirectoryLock(directory: run)
        XCTAssertEqual(try String(contentsOf: lock.lockFile, encoding: .utf8), "\(getpid())\n")
        lock.release()
        XCTAssertEqual(try listing(run), [])
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.path), "a directory that existed before stays")
    }

    func testADirectoryTheLockCreatedGoesAgainWhenTheRunWroteNoFile() throws {
        let nested = parent.appendingPathComponent("a/b/run")
        let lock = try RunDirectoryLock(directory: nested)
        // A failed first write may leave empty directories; they go too.
        try FileManager.default.createDirectory(at: nested.appendingPathComponent("checkpoints"), withIntermediateDirectories: true)
        lock.release()
        XCTAssertEqual(try listing(parent), [], "every directory the lock created is removed")

        let kept = parent.appendingPathComponent("x/run")
        let second = try RunDirectoryLock(directory: kept)
        try Data("1".utf8).write(to: kept.appendingPathComponent("config.json"))
        second.release()
        XCTAssertEqual(try listing(kept), ["config.json"])
    }

    func testAFileInTheWayIsReported() throws {
        let file = parent.appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        for path in [file, file.appendingPathComponent("below")] {
            XCTAssertThrowsError(try RunDirectoryLock(directory: path)) { error in
                XCTAssertEqual(error.localizedDescription, "cannot write '\(path.path)': '\(file.path)' exists and is not a directory")
            }
        }
        XCTAssertEqual(try listing(parent), ["file"])
    }
}
