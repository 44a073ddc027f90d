import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Recurrent
import XCTest

/// Each malformed input produces its own error, with a one-line message naming the tensor or field.
final class SafetensorsMalformedTests: XCTestCase {
    private func assertError(_ data: Data, _ expected: SafetensorsError, mentions words: [String] = [],
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafetensorsFile(data: data), file: file, line: line) { error in
            XCTAssertEqual(error as? SafetensorsError, expected, file: file, line: line)
            let message = (error as? LocalizedError)?.errorDescription ?? ""
            XCTAssertFalse(message.contains("\n"), "multi-line message: \(message)", file: file, line: line)
            for word in words {
                XCTAssertTrue(message.contains(word), "'\(message)' does not mention '\(word)'", file: file, line: line)
            }
        }
    }

    /// A header with the single entry `t` given as raw JSON, and a buffer of `bufferSize` zero bytes.
    private func entry(_ json: String, bufferSize: Int = 8) -> Data {
        safetensorsBytes(header: #"{"t":\#(json)}"#, buffer: [UInt8](repeating: 0, count: bufferSize))
    }

    func testFileShorterThanLengthPrefix() {
        assertError(Data([1, 2, 3, 4, 5, 6, 7]), .fileTooShort(byteCount: 7), mentions: ["7 bytes"])
        assertError(Data(), .fileTooShort(byteCount: 0))
    }

    func testHeaderLengthBeyondFile() {
        assertError(safetensorsBytes(header: "{}", declaredLength: 100), .headerLengthExceedsFile(headerLength: 100, available: 2),
                    mentions: ["100"])
    }

    func testHeaderLengthAboveLimit() {
        assertError(safetensorsBytes(header: "{}", declaredLength: 1 << 40),
                    .headerLengthAboveLimit(headerLength: 1 << 40, limit: SafetensorsFile.maximumHeaderLength))
        assertError(safetensorsBytes(header: "{}", declaredLength: .max),
                    .headerLengthAboveLimit(headerLength: .max, limit: SafetensorsFile.maximumHeaderLength))
    }

    func testHeaderNotUTF8() {
        assertError(safetensorsBytes(headerBytes: Array(#"{"a\#u{00}":1}"#.utf8).map { $0 == 0 ? 0xFF : $0 }), .headerNotUTF8)
    }

    func testHeaderNotJSON() {
        for text in ["{", #"{"a":}"#, #"{"a" 1}"#, "{} x", "", "{'a':1}", #"{"a":tru}"#, #"{"a":01}"#, #"{"a":"\q"}"#,
                     #"{"a":"\ud800"}"#, "{\"a\":\"tab\there\"}"] {
            XCTAssertThrowsError(try SafetensorsFile(data: safetensorsBytes(header: text)), text) { error in
                guard case .headerNotJSON(let reason)? = error as? SafetensorsError else {
                    return XCTFail("\(text): \(error)")
                }
                XCTAssertTrue(reason.contains("at byte"), reason)
            }
        }
        // Deep nesting is refused instead of exhausting the stack.
        let deep = #"{"__metadata__":"# + String(repeating: "[", count: 100_000) + "}"
        XCTAssertThrowsError(try SafetensorsFile(data: safetensorsBytes(header: deep))) { error in
            guard case .headerNotJSON(let reason)? = error as? SafetensorsError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("nesting"), reason)
        }
    }

    func testHeaderNotObject() {
        assertError(safetensorsBytes(header: "[1, 2]"), .headerNotObject)
        assertError(safetensorsBytes(header: #""text""#), .headerNotObject)
    }

    func testDuplicateKey() {
        let header = #"{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"t":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#
        assertError(safetensorsBytes(header: header, buffer: [1, 2]), .duplicateKey("t"), mentions: ["'t'"])
        assertError(entry(#"{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}"#), .duplicateKey("dtype"))
    }

    func testEntryNotObject() {
        assertError(entry("5"), .entryNotObject(name: "t"), mentions: ["'t'"])
        assertError(entry(#"["F32"]"#), .entryNotObject(name: "t"))
    }

    func testMissingFields() {
        assertError(entry(#"{"shape":[1],"data_offsets":[0,4]}"#), .missingField(name: "t", field: "dtype"), mentions: ["'t'", "dtype"])
        assertError(entry(#"{"dtype":"F32","data_offsets":[0,4]}"#), .missingField(name: "t", field: "shape"), mentions: ["shape"])
        assertError(entry(#"{"dtype":"F32","shape":[1]}"#), .missingField(name: "t", field: "data_offsets"), mentions: ["data_offsets"])
    }

    func testUnknownDType() {
        assertError(entry(#"{"dtype":"F128","shape":[1],"data_offsets":[0,4]}"#), .unknownDType(name: "t", dtype: "F128"),
                    mentions: ["'t'", "F128"])
        assertError(entry(#"{"dtype":"f32","shape":[1],"data_offsets":[0,4]}"#), .unknownDType(name: "t", dtype: "f32"))
        assertError(entry(#"{"dtype":4,"shape":[1],"data_offsets":[0,4]}"#), .unknownDType(name: "t", dtype: "4"))
    }

    func testInvalidShapes() {
        func shape(_ s: String) -> Data { entry(#"{"dtype":"U8","shape":\#(s),"data_offsets":[0,1]}"#) }
        let cases: [(String, String)] = [
            ("[-1]", "-1"), ("[2.5]", "2.5"), ("[1e2]", "1e2"), (#"["3"]"#, "a string"), ("[null]", "null"), ("[true]", "true"),
            ("[99999999999999999999]", "99999999999999999999"), ("4", "expected an array"),
            ("[4294967296,4294967296]", "overflows"),
        ]
        for (text, mention) in cases {
            XCTAssertThrowsError(try SafetensorsFile(data: shape(text)), text) { error in
                guard case .invalidShape(let name, let reason)? = error as? SafetensorsError else {
                    return XCTFail("\(text): \(error)")
                }
                XCTAssertEqual(name, "t")
                XCTAssertTrue(reason.contains(mention), "\(text): \(reason)")
            }
        }
        // The element count fits in Int but the byte count does not.
        assertError(entry(#"{"dtype":"F32","shape":[1,4611686018427387904],"data_offsets":[0,4]}"#),
                    .invalidShape(name: "t", reason: "byte count overflows"), mentions: ["'t'"])
    }

    func testInvalidDataOffsets() {
        func offsets(_ o: String) -> Data { entry(#"{"dtype":"U8","shape":[1],"data_offsets":\#(o)}"#) }
        for text in ["[0]", "[0,1,2]", "[-1,0]", "[0,-1]", "[0.0,1]", #"["0",1]"#, "[0,99999999999999999999]", "{}", "7"] {
            XCTAssertThrowsError(try SafetensorsFile(data: offsets(text)), text) { error in
                guard case .invalidDataOffsets(let name, _)? = error as? SafetensorsError else {
                    return XCTFail("\(text): \(error)")
                }
                XCTAssertEqual(name, "t")
            }
        }
        assertError(offsets("[3,2]"), .invalidDataOffsets(name: "t", reason: "begin 3 is after end 2"), mentions: ["'t'", "begin 3"])
    }

    func testDataBeyondBuffer() {
        assertError(entry(#"{"dtype":"F32","shape":[3],"data_offsets":[0,12]}"#, bufferSize: 8),
                    .dataOutOfBounds(name: "t", end: 12, bufferSize: 8), mentions: ["'t'", "12", "8-byte"])
    }

    func testByteLengthMismatch() {
        assertError(entry(#"{"dtype":"F32","shape":[3],"data_offsets":[0,8]}"#),
                    .byteLengthMismatch(name: "t", expected: 12, found: 8), mentions: ["'t'", "12", "8"])
        assertError(entry(#"{"dtype":"F16","shape":[],"data_offsets":[0,4]}"#), .byteLengthMismatch(name: "t", expected: 2, found: 4))
    }

    func testOverlappingTensors() {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        assertError(safetensorsBytes(header: header, buffer: [UInt8](repeating: 0, count: 8)), .overlappingTensors("a", "b"),
                    mentions: ["'a'", "'b'"])
        // Empty tensors occupy no bytes and may sit anywhere.
        let empty = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}"#
        XCTAssertNoThrow(try SafetensorsFile(data: safetensorsBytes(header: empty, buffer: [UInt8](repeating: 0, count: 8))))
    }

    func testInvalidMetadata() {
        assertError(safetensorsBytes(header: #"{"__metadata__":{"epoch":3}}"#),
                    .invalidMetadata(reason: "value of 'epoch' must be a string, got 3"), mentions: ["epoch"])
        assertError(safetensorsBytes(header: #"{"__metadata__":["a"]}"#),
                    .invalidMetadata(reason: "must be an object of strings, got an array"))
    }

    func testMissingTensorAndFloatAsIntegers() throws {
        let file = try SafetensorsFile(data: entry(#"{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#))
        XCTAssertThrowsError(try file.tensor("missing")) { XCTAssertEqual($0 as? SafetensorsError, .tensorNotFound(name: "missing")) }
        XCTAssertThrowsError(try file.integers("missing")) { XCTAssertEqual($0 as? SafetensorsError, .tensorNotFound(name: "missing")) }
        XCTAssertThrowsError(try file.integers("t")) { error in
            XCTAssertEqual(error as? SafetensorsError, .notAnIntegerTensor(name: "t", dtype: .F32))
            XCTAssertTrue(error.localizedDescription.contains("'t'"))
        }
    }

    func testUnreadableFile() throws {
        let directory = try makeTemporaryDirectory("unreadable")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("absent.safetensors")
        XCTAssertThrowsError(try SafetensorsFile(contentsOf: url)) { error in
            guard case .cannotRead(let path, _)? = error as? SafetensorsError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, url.path)
            XCTAssertTrue(error.localizedDescription.contains("absent.safetensors"), error.localizedDescription)
            XCTAssertTrue(error.localizedDescription.contains("no such file"), error.localizedDescription)
        }
        XCTAssertThrowsError(try SafetensorsFile(contentsOf: directory)) {
            XCTAssertEqual($0 as? SafetensorsError, .cannotRead(path: directory.path, reason: "it is a directory, not a regular file"))
        }
        // A FIFO nobody writes to: refused at once instead of blocking in open().
        let fifo = directory.appendingPathComponent("fifo.safetensors")
        XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
        XCTAssertThrowsError(try SafetensorsFile(contentsOf: fifo)) {
            XCTAssertEqual($0 as? SafetensorsError, .cannotRead(path: fifo.path, reason: "it is a FIFO (named pipe), not a regular file"))
        }
        XCTAssertThrowsError(try SafetensorsFile(contentsOf: URL(fileURLWithPath: "/dev/zero"))) {
            XCTAssertEqual($0 as? SafetensorsError, .cannotRead(path: "/dev/zero", reason: "it is a character device, not a regular file"))
        }
        let empty = directory.appendingPathComponent("empty.safetensors")
        try Data().write(to: empty)
        XCTAssertThrowsError(try SafetensorsFile(contentsOf: empty)) {
            XCTAssertEqual($0 as? SafetensorsError, .fileTooShort(byteCount: 0))
        }
    }

    func testEveryMessageIsOneLineAndNamesTheProblem() {
        let errors: [SafetensorsError] = [
            .cannotRead(path: "/x", reason: "gone"), .fileTooShort(byteCount: 3), .headerNotUTF8, .headerNotObject,
            .headerNotJSON(reason: "r"), .duplicateKey("k"), .entryNotObject(name: "n"), .missingField(name: "n", field: "f"),
            .unknownDType(name: "n", dtype: "d"), .invalidShape(name: "n", reason: "r"), .invalidDataOffsets(name: "n", reason: "r"),
            .dataOutOfBounds(name: "n", end: 1, bufferSize: 0), .byteLengthMismatch(name: "n", expected: 1, found: 2),
            .overlappingTensors("n", "m"), .invalidMetadata(reason: "r"), .tensorNotFound(name: "n"),
            .notAnIntegerTensor(name: "n", dtype: .F32), .integerOutOfRange(name: "n"), .duplicateName("n"),
            .invalidName("n", reason: "r"), .invalidIntegerEntry(name: "n", reason: "r"),
            .headerLengthExceedsFile(headerLength: 9, available: 1), .headerLengthAboveLimit(headerLength: 9, limit: 1),
        ]
        for error in errors {
            let message = error.errorDescription ?? ""
            XCTAssertTrue(message.hasPrefix("safetensors: "), message)
            XCTAssertFalse(message.contains("\n"), message)
        }
        XCTAssertEqual(Set(errors.map { $0.errorDescription ?? "" }).count, errors.count)
    }
}
