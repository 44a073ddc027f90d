import Foundation
import Recurrent
import XCTest

final class SafetensorsWriteTests: XCTestCase {
    private let sample: [(name: String, tensor: Tensor)] = [
        ("weight", Tensor(rows: [[1, -2, 3.5], [0.25, -0.0, 1e-30]])),
        ("scalar", Tensor(7)),
        ("empty", Tensor(zeros: [0, 3])),
        ("vector", Tensor([.infinity, -.infinity, .greatestFiniteMagnitude, 0x1p-149])),
    ]
    private let positions: [Safetensors.IntegerEntry] = [("positions", [2, 2], [0, -1, Int.max, Int.min]), ("none", [0], [])]

    func testRoundTripOfTensorsIntegersAndMetadata() throws {
        let data = try Safetensors.encode(sample, integers: positions, metadata: ["format": "pt", "note": "line\nbreak \"q\" é"])
        let file = try SafetensorsFile(data: data)
        XCTAssertEqual(file.names, ["empty", "none", "positions", "scalar", "vector", "weight"])
        XCTAssertEqual(file.metadata, ["format": "pt", "note": "line\nbreak \"q\" é"])
        for (name, tensor) in sample {
            XCTAssertEqual(file.info(name)?.dtype, .F32)
            XCTAssertEqual(file.info(name)?.shape, tensor.shape)
            let read = try file.tensor(name)
            XCTAssertEqual(read.shape, tensor.shape, name)
            XCTAssertEqual(read.scalars.map(\.bitPattern), tensor.scalars.map(\.bitPattern), name)  // -0 kept
        }
        XCTAssertEqual(file.info("scalar")?.shape, [])
        XCTAssertEqual(file.info("positions")?.dtype, .I64)
        let (shape, values) = try file.integers("positions")
        XCTAssertEqual(shape, [2, 2])
        XCTAssertEqual(values, [0, -1, Int.max, Int.min])
        XCTAssertEqual(try file.integers("none").values, [])
    }

    func testNaNPayloadSurvives() throws {
        let nan = Float(bitPattern: 0x7FC0_1234)
        let file = try SafetensorsFile(data: Safetensors.encode([("x", Tensor([nan]))]))
        XCTAssertEqual(try file.tensor("x").scalars[0].bitPattern, 0x7FC0_1234)
    }

    func testExactBytesOfASmallFile() throws {
        let data = try Safetensors.encode([("b", Tensor([1, 2])), ("a", Tensor(-1))], integers: [("i", [1], [3])],
                                          metadata: ["z": "1", "k": "v"])
        let length = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        XCTAssertEqual(length % 8, 0)
        let header = String(decoding: data[8..<(8 + Int(length))], as: UTF8.self)
        let json = #"{"__metadata__":{"k":"v","z":"1"},"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"# +
            #""a":{"dtype":"F32","shape":[],"data_offsets":[8,12]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}"#
        XCTAssertEqual(header.trimmingCharacters(in: .whitespaces), json)
        XCTAssertEqual(header.count, json.utf8.count + (8 - json.utf8.count % 8) % 8)
        XCTAssertTrue(header.dropFirst(json.count).allSatisfy { $0 == " " })
        let buffer = Array(data[(8 + Int(length))...])
        XCTAssertEqual(buffer, littleEndianBytes([3] as [Int64]) + littleEndianBytes([Float(-1), 1, 2].map(\.bitPattern)))
    }

    func testDeterministicBytesWhateverTheInputOrder() throws {
        let first = try Safetensors.encode(sample, integers: positions, metadata: ["a": "1", "b": "2", "c": "3"])
        let second = try Safetensors.encode(sample.reversed(), integers: positions.reversed(), metadata: ["c": "3", "b": "2", "a": "1"])
        XCTAssertEqual(first, second)
        XCTAssertNotEqual(first, try Safetensors.encode(sample, integers: positions, metadata: ["a": "1"]))
    }

    func testEmptyFileHasOnlyAnEmptyHeader() throws {
        let data = try Safetensors.encode([])
        XCTAssertEqual(data.count, 16)
        XCTAssertEqual(String(decoding: data[8...], as: UTF8.self), "{}      ")
        let file = try SafetensorsFile(data: data)
        XCTAssertEqual(file.names, [])
        XCTAssertEqual(file.metadata, [:])
    }

    func testInvalidEntriesAreRejected() {
        XCTAssertThrowsError(try Safetensors.encode([("w", Tensor(1)), ("w", Tensor(2))])) {
            XCTAssertEqual($0 as? SafetensorsError, .duplicateName("w"))
        }
        XCTAssertThrowsError(try Safetensors.encode([("w", Tensor(1))], integers: [("w", [1], [1])])) {
            XCTAssertEqual($0 as? SafetensorsError, .duplicateName("w"))
        }
        XCTAssertThrowsError(try Safetensors.encode([("__metadata__", Tensor(1))])) {
            XCTAssertEqual($0 as? SafetensorsError, .invalidName("__metadata__", reason: "the name is reserved for metadata"))
        }
        XCTAssertThrowsError(try Safetensors.encode([], integers: [("p", [2, 2], [1, 2, 3])])) {
            XCTAssertEqual($0 as? SafetensorsError, .invalidIntegerEntry(name: "p", reason: "shape [2, 2] needs 4 values, got 3"))
        }
        XCTAssertThrowsError(try Safetensors.encode([], integers: [("p", [-1], [])])) {
            guard case .invalidIntegerEntry(name: "p", _)? = $0 as? SafetensorsError else { return XCTFail("\($0)") }
        }
    }

    func testWriteToFileAndReadBack() throws {
        let directory = try makeTemporaryDirectory("write")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        try Safetensors.write(sample, integers: positions, metadata: ["step": "12"], to: url)
        let file = try SafetensorsFile(contentsOf: url)
        XCTAssertEqual(file.metadata["step"], "12")
        XCTAssertEqual(try file.tensor("weight"), sample[0].tensor)
        XCTAssertEqual(try Data(contentsOf: url), try Safetensors.encode(sample, integers: positions, metadata: ["step": "12"]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["model.safetensors"])
    }

    func testUnicodeAndEscapedNamesRoundTrip() throws {
        let names = ["layer.0/weight", "ünïcødé", "quote\"back\\slash", "tab\tnew\nline", "\u{1}ctrl", "emoji😀"]
        let tensors = names.enumerated().map { (name: $0.element, tensor: Tensor(Float($0.offset))) }
        let file = try SafetensorsFile(data: Safetensors.encode(tensors))
        XCTAssertEqual(file.names, names.sorted())
        for (index, name) in names.enumerated() { XCTAssertEqual(try file.tensor(name).scalar, Float(index)) }
    }
}
