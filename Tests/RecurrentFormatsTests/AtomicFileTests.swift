import Foundation
import Recurrent
import XCTest

final class AtomicFileTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("atomic") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func listing(_ url: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }

    func testWritesAndReplaces() throws {
        let url = directory.appendingPathComponent("out.bin")
        try AtomicFile.write(Data([1, 2, 3]), to: url)
        XCTAssertEqual(try Data(contentsOf: url), Data([1, 2, 3]))
        try AtomicFile.write(Data("second".utf8), to: url)
        XCTAssertEqual(try Data(contentsOf: url), Data("second".utf8))
        try AtomicFile.write(Data(), to: url)
        XCTAssertEqual(try Data(contentsOf: url), Data())
        XCTAssertEqual(try listing(directory), ["out.bin"])
    }

    func testMissingDirectoryFailsWithoutLeavingAnything() throws {
        let url = directory.appendingPathComponent("absent/out.bin")
        XCTAssertThrowsError(try AtomicFile.write(Data([1]), to: url)) { error in
            guard let writeError = error as? FileWriteError else { return XCTFail("\(error)") }
            XCTAssertEqual(writeError.path, url.path)
            XCTAssertTrue(writeError.reason.contains("creating temporary file"), writeError.reason)
            XCTAssertTrue(error.localizedDescription.contains("absent/out.bin"), error.localizedDescription)
        }
        XCTAssertEqual(try listing(directory), [])
    }

    func testParentIsAFile() throws {
        let parent = directory.appendingPathComponent("plain")
        try Data("keep".utf8).write(to: parent)
        XCTAssertThrowsError(try AtomicFile.write(Data([1]), to: parent.appendingPathComponent("out.bin"))) {
            XCTAssertTrue($0 is FileWriteError, "\($0)")
        }
        XCTAssertEqual(try Data(contentsOf: parent), Data("keep".utf8))
        XCTAssertEqual(try listing(directory), ["plain"])
    }

    func testFailedRenameKeepsTheOldDestinationAndRemovesTheTemporary() throws {
        // The destination is a non-empty directory: the temporary is created and written, then the
        // rename fails. The destination and its contents must be untouched and no temporary remain.
        let destination = directory.appendingPathComponent("model.safetensors")
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: false)
        let inside = destination.appendingPathComponent("old.txt")
        try Data("old contents".utf8).write(to: inside)
        XCTAssertThrowsError(try Safetensors.write([("w", Tensor([1, 2]))], to: destination)) { error in
            guard let writeError = error as? FileWriteError else { return XCTFail("\(error)") }
            XCTAssertTrue(writeError.reason.contains("renaming"), writeError.reason)
        }
        XCTAssertEqual(try Data(contentsOf: inside), Data("old contents".utf8))
        XCTAssertEqual(try listing(directory), ["model.safetensors"])
        XCTAssertEqual(try listing(destination), ["old.txt"])
    }

    func testFailedEncodingLeavesTheOldFile() throws {
        let url = directory.appendingPathComponent("model.safetensors")
        try Safetensors.write([("w", Tensor([1, 2]))], to: url)
        let before = try Data(contentsOf: url)
        XCTAssertThrowsError(try Safetensors.write([("w", Tensor(1)), ("w", Tensor(2))], to: url)) {
            XCTAssertEqual($0 as? SafetensorsError, .duplicateName("w"))
        }
        XCTAssertEqual(try Data(contentsOf: url), before)
        XCTAssertEqual(try listing(directory), ["model.safetensors"])
    }
}
