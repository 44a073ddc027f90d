import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RecurrentCore
import XCTest

/// `InputFile`: regular files only (a FIFO, directory or device is refused at once, never opened
/// for a blocking read), a size limit checked before reading, one-line messages naming the file.
final class InputFileTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("input-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func assertRefused(_ url: URL, limit: Int = .max, _ problem: InputFileError.Problem, message: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try InputFile.read(url, limit: limit), file: file, line: line) { error in
            XCTAssertEqual(error as? InputFileError, InputFileError(path: url.path, problem: problem), file: file, line: line)
            XCTAssertEqual(error.localizedDescription, message, file: file, line: line)
        }
    }

    func testReadsARegularFileWithinItsLimit() throws {
        let url = directory.appendingPathComponent("data.txt")
        try Data("hello\n".utf8).write(to: url)
        XCTAssertEqual(try InputFile.read(url, limit: 6), Data("hello\n".utf8))
        XCTAssertEqual(InputFile.kind(of: url), .regular)
        let file = try InputFile(url)
        XCTAssertEqual(file.size, 6)
        XCTAssertEqual(try file.read(offset: 1, count: 3), Data("ell".utf8))
        XCTAssertEqual(try file.read(offset: 4, count: 10), Data("o\n".utf8), "past the end: what is there")
        assertRefused(url, limit: 5, .tooLarge(size: 6, limit: 5),
                      message: "cannot read '\(url.path)': it is 6 bytes, more than the limit of 5 bytes")
    }

    func testRefusesWhatIsNotARegularFile() throws {
        let missing = directory.appendingPathComponent("missing.json")
        assertRefused(missing, .notFound, message: "cannot read '\(missing.path)': no such file")
        assertRefused(directory, .notRegular(.directory), message: "cannot read '\(directory.path)': it is a directory, not a regular file")
        let device = URL(fileURLWithPath: "/dev/null")
        assertRefused(device, .notRegular(.characterDevice),
                      message: "cannot read '/dev/null': it is a character device, not a regular file")
    }

    /// A FIFO that no process writes to would block `open(2)` (and `Data(contentsOf:)`) forever.
    func testRefusesAFIFOWithoutBlocking() throws {
        let fifo = directory.appendingPathComponent("config.json")
        XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
        XCTAssertEqual(InputFile.kind(of: fifo), .fifo)
        assertRefused(fifo, .notRegular(.fifo), message: "cannot read '\(fifo.path)': it is a FIFO (named pipe), not a regular file")
    }

    func testFollowsASymbolicLinkToARegularFile() throws {
        let target = directory.appendingPathComponent("target.csv")
        try Data("a,b\n".utf8).write(to: target)
        let link = directory.appendingPathComponent("link.csv")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        XCTAssertEqual(try InputFile.read(link, limit: 100), Data("a,b\n".utf8))
        let fifo = directory.appendingPathComponent("fifo")
        XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
        let fifoLink = directory.appendingPathComponent("fifo-link")
        try FileManager.default.createSymbolicLink(at: fifoLink, withDestinationURL: fifo)
        assertRefused(fifoLink, .notRegular(.fifo), message: "cannot read '\(fifoLink.path)': it is a FIFO (named pipe), not a regular file")
    }
}
