import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentText
import XCTest

final class GenerationUTF8StreamTests: XCTestCase {
    private func pieces(_ bytes: [UInt8]) -> [String] {
        var decoder = UTF8StreamDecoder()
        return bytes.map { decoder.decode($0) } + [decoder.finish()]
    }

    func testCompletesEachCharacterOnItsLastByte() {
        // "aé€😀": 1, 2, 3 and 4 bytes.
        XCTAssertEqual(pieces(Array("aé€😀".utf8)),
                       ["a", "", "é", "", "", "€", "", "", "", "😀", ""])
    }

    func testInvalidBytesBecomeOneReplacementPerMaximalSubpart() {
        let r = "\u{FFFD}"
        // Stray continuation, C0 (overlong lead), F5 (beyond U+10FFFF).
        XCTAssertEqual(pieces([0x80, 0xC0, 0xF5, 0x41]), [r, r, r, "A", ""])
        // E2 82 then ASCII: one replacement for the truncated sequence, then the letter.
        XCTAssertEqual(pieces([0xE2, 0x82, 0x41]), ["", "", r + "A", ""])
        // ED A0 80 is a surrogate: ED alone is the maximal subpart, then A0 and 80 are stray.
        XCTAssertEqual(pieces([0xED, 0xA0, 0x80]), ["", r + r, r, ""])
        // E0 80 is overlong: E0 alone, then stray 80.
        XCTAssertEqual(pieces([0xE0, 0x80]), ["", r + r, ""])
        // F4 90 is beyond U+10FFFF.
        XCTAssertEqual(pieces([0xF4, 0x90]), ["", r + r, ""])
        // An unfinished character at the end is flushed by finish().
        XCTAssertEqual(pieces([0x41, 0xF0, 0x9F, 0x98]), ["A", "", "", "", r])
    }

    func testConcatenationEqualsSwiftLossyDecodingOfRandomBytes() {
        var rng = RandomGenerator(seed: 17)
        // Bytes biased towards the interesting ranges: ASCII, continuations and every kind of lead.
        let alphabet: [UInt8] = [0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                                 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        for trial in 0..<2000 {
            let count = rng.nextInt(below: 12)
            let bytes = (0..<count).map { _ in
                rng.nextInt(below: 4) == 0 ? UInt8(rng.nextInt(below: 256)) : alphabet[rng.nextInt(below: alphabet.count)]
            }
            XCTAssertEqual(pieces(bytes).joined(), String(decoding: bytes, as: UTF8.self), "trial \(trial): \(bytes)")
        }
        let valid = "Grüße, 世界! 🎉\n"
        XCTAssertEqual(pieces(Array(valid.utf8)).joined(), valid)
    }
}
