import Foundation
import Recurrent
import XCTest

/// A minimal module for the tests: `weight` (outputSize, inputSize), `bias` (outputSize) and a
/// child `head` with its own `weight`, named as PyTorch would (`head.weight`).
private final class TinyModule: Module {
    let weight: Parameter
    let bias: Parameter
    let headWeight: Parameter
    var isTraining = true

    init(inputSize: Int, outputSize: Int, seed: UInt64) {
        var rng = RandomGenerator(seed: seed)
        weight = .parameter(Tensor.uniform(shape: [outputSize, inputSize], low: -1, high: 1, using: &rng))
        bias = .parameter(Tensor.uniform(shape: [outputSize], low: -1, high: 1, using: &rng))
        headWeight = .parameter(Tensor.uniform(shape: [1, outputSize], low: -1, high: 1, using: &rng))
    }

    var namedParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight), ("bias", bias)] + prefixed("head", [("weight", headWeight)])
    }
}

final class ModuleSaveLoadTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("module") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testSaveThenLoadRestoresEveryParameter() throws {
        let url = directory.appendingPathComponent("tiny.safetensors")
        let saved = TinyModule(inputSize: 3, outputSize: 2, seed: 1)
        try saved.save(to: url, metadata: ["epoch": "4"])

        let file = try SafetensorsFile(contentsOf: url)
        XCTAssertEqual(file.names, ["bias", "head.weight", "weight"])
        XCTAssertEqual(file.metadata, ["epoch": "4"])
        XCTAssertEqual(file.info("weight")?.shape, [2, 3])

        let restored = TinyModule(inputSize: 3, outputSize: 2, seed: 2)
        XCTAssertNotEqual(restored.weight.value, saved.weight.value)
        try restored.load(from: url)
        XCTAssertEqual(restored.weight.value, saved.weight.value)
        XCTAssertEqual(restored.bias.value, saved.bias.value)
        XCTAssertEqual(restored.headWeight.value, saved.headWeight.value)
    }

    func testSavingTwiceGivesTheSameBytes() throws {
        let a = directory.appendingPathComponent("a.safetensors"), b = directory.appendingPathComponent("b.safetensors")
        try TinyModule(inputSize: 3, outputSize: 2, seed: 5).save(to: a)
        try TinyModule(inputSize: 3, outputSize: 2, seed: 5).save(to: b)
        XCTAssertEqual(try Data(contentsOf: a), try Data(contentsOf: b))
    }

    func testShapeMismatchNamesTheParameterAndLeavesTheModuleUnchanged() throws {
        let url = directory.appendingPathComponent("tiny.safetensors")
        try TinyModule(inputSize: 3, outputSize: 2, seed: 1).save(to: url)
        let other = TinyModule(inputSize: 4, outputSize: 2, seed: 3)
        let before = other.stateDict().map(\.tensor)
        XCTAssertThrowsError(try other.load(from: url)) { error in
            XCTAssertEqual(error as? StateDictError, .shapeMismatch(name: "weight", expected: [2, 4], found: [2, 3]))
            XCTAssertTrue(error.localizedDescription.contains("'weight'"), error.localizedDescription)
        }
        XCTAssertEqual(other.stateDict().map(\.tensor), before)
    }

    func testMissingAndUnexpectedEntries() throws {
        let url = directory.appendingPathComponent("partial.safetensors")
        let module = TinyModule(inputSize: 3, outputSize: 2, seed: 1)
        try Safetensors.write([("weight", module.weight.value), ("bias", module.bias.value)], to: url)
        XCTAssertThrowsError(try module.load(from: url)) {
            XCTAssertEqual($0 as? StateDictError, .missing(name: "head.weight"))
        }
        try Safetensors.write(module.stateDict() + [("extra", Tensor(1))], to: url)
        XCTAssertThrowsError(try module.load(from: url)) {
            XCTAssertEqual($0 as? StateDictError, .unexpected(name: "extra"))
        }
    }

    func testFileErrorsAreSafetensorsErrors() throws {
        let module = TinyModule(inputSize: 3, outputSize: 2, seed: 1)
        XCTAssertThrowsError(try module.load(from: directory.appendingPathComponent("absent.safetensors"))) {
            guard case .cannotRead? = $0 as? SafetensorsError else { return XCTFail("\($0)") }
        }
        let garbage = directory.appendingPathComponent("garbage.safetensors")
        try Data("not a safetensors file".utf8).write(to: garbage)
        XCTAssertThrowsError(try module.load(from: garbage)) {
            XCTAssertNotNil($0 as? SafetensorsError, "\($0)")
        }
    }

    func testLoadsFloat16FilesByConverting() throws {
        // A PyTorch file saved in half precision loads into the Float32 module.
        let url = directory.appendingPathComponent("half.safetensors")
        let header = #"{"bias":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"head.weight":{"dtype":"F16","shape":[1,2],"data_offsets":[4,8]},"weight":{"dtype":"F16","shape":[2,3],"data_offsets":[8,20]}}"#
        let halves: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x3400, 0x0000, 0x3C00, 0x4000, 0x4200, 0x4400, 0x4500]
        try safetensorsBytes(header: header, buffer: littleEndianBytes(halves)).write(to: url)
        let module = TinyModule(inputSize: 3, outputSize: 2, seed: 1)
        try module.load(from: url)
        XCTAssertEqual(module.bias.value.scalars, [1, -2])
        XCTAssertEqual(module.headWeight.value.scalars, [0.5, 0.25])
        XCTAssertEqual(module.weight.value.scalars, [0, 1, 2, 3, 4, 5])
    }
}
