import Foundation
import XCTest

/// A test case that runs the `recurrent` binary built beside the tests, as a user would, in a
/// scratch directory of its own (exit status, stdout, stderr, files).
class BinaryTestCase: XCTestCase {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: URL {
        var directory = Bundle.main.bundleURL
        if directory.pathExtension == "xctest" { directory.deleteLastPathComponent() }
        return directory.appendingPathComponent("recurrent")
    }

    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("recurrent-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    @discardableResult
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        return try runToEnd(process)
    }

    /// `run(arguments)` under a file-size limit of `blocks` blocks (`ulimit -f`; 512 bytes in dash,
    /// 1 KB in bash): a deterministic stand-in for a full disk, since every write past the limit fails
    /// (with EFBIG), also as root.
    func run(_ arguments: [String], fileSizeLimitBlocks blocks: Int) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -f \(blocks) && exec \"$0\" \"$@\"", Self.binary.path] + arguments
        return try runToEnd(process)
    }

    /// Starts the binary in the scratch directory without waiting for it (output discarded).
    func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.currentDirectoryURL = scratch
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Runs `process` in the scratch directory to its end, collecting its output.
    private func runToEnd(_ process: Process) throws -> Result {
        process.currentDirectoryURL = scratch
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Asserts a failure with exactly one `error:` line on stderr that contains `fragment` (any case)
    /// and no NaN on stdout.
    func assertFails(_ arguments: [String], environment: [String: String] = [:], mentioning fragment: String,
                     file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try run(arguments, environment: environment)
        XCTAssertNotEqual(result.status, 0, "\(arguments) should fail", file: file, line: line)
        let lines = result.stderr.split(separator: "\n").filter { !$0.isEmpty }
        XCTAssertEqual(lines.count, 1, "expected one error line, got: \(result.stderr)", file: file, line: line)
        XCTAssertTrue(result.stderr.lowercased().contains(fragment.lowercased()),
                      "stderr '\(result.stderr)' should mention '\(fragment)'", file: file, line: line)
        XCTAssertFalse(result.stdout.lowercased().contains("nan"), file: file, line: line)
    }

    /// Writes `text` to `name` in the scratch directory and returns its path.
    func write(_ text: String, to name: String) throws -> String {
        let url = scratch.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }
}
