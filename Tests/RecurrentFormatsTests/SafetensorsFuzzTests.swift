import Foundation
import Recurrent
import XCTest

/// Damaged files must make the reader throw or succeed, never trap.
final class SafetensorsFuzzTests: XCTestCase {
    private func validFile() throws -> Data {
        try Safetensors.encode([("a", Tensor(rows: [[1, 2], [3, 4]])), ("b", Tensor(5)), ("c", Tensor(zeros: [0]))],
                               integers: [("p", [3], [1, -2, 3])], metadata: ["config": #"{"module":"LSTM"}"#])
    }

    /// Opens `data` and reads everything it claims to hold; returns whether it opened.
    @discardableResult
    private func exercise(_ data: Data) -> Bool {
        guard let file = try? SafetensorsFile(data: data) else { return false }
        for name in file.names {
            _ = try? file.tensor(name)
            _ = try? file.integers(name)
            _ = file.info(name)
        }
        _ = try? file.tensors()
        return true
    }

    func testEveryTruncationThrows() throws {
        let data = try validFile()
        XCTAssertTrue(exercise(data))
        for length in 0..<data.count {
            // The last byte belongs to a tensor, so every shorter prefix is missing data.
            XCTAssertFalse(exercise(data.prefix(length)), "prefix of \(length) bytes opened")
        }
    }

    func testRandomHeaderByteFlipsNeverTrap() throws {
        let data = try validFile()
        let headerEnd = 8 + Int(data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        var rng = RandomGenerator(seed: 20_240_601)
        var opened = 0
        let trials = 3000
        for _ in 0..<trials {
            var damaged = data
            for _ in 0..<(1 + rng.nextInt(below: 3)) {
                let index = rng.nextInt(below: headerEnd)
                damaged[index] = UInt8(truncatingIfNeeded: rng.next())
            }
            if exercise(damaged) { opened += 1 }
        }
        // Some flips land in harmless places (padding, metadata text), most break the header.
        XCTAssertLessThan(opened, trials)
    }

    func testRandomStructuralCharactersNeverTrap() throws {
        // Replace header bytes with JSON punctuation and digits, which reach deeper parser paths than random bytes.
        let data = try validFile()
        let headerEnd = 8 + Int(data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        let alphabet = Array(#"{}[]",:-0123456789e.\ "#.utf8)
        var rng = RandomGenerator(seed: 7)
        for _ in 0..<3000 {
            var damaged = data
            let index = 8 + rng.nextInt(below: headerEnd - 8)
            damaged[index] = alphabet[rng.nextInt(below: alphabet.count)]
            exercise(damaged)
        }
    }
}
