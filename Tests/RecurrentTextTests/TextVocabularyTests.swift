import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentText
import XCTest

final class TextVocabularyTests: XCTestCase {
    // MARK: Character level

    func testCharacterVocabularyOfKnownStringHasSortedScalarsAndExactIDs() throws {
        let vocabulary = Vocabulary.characters(of: "hello world")
        XCTAssertEqual(vocabulary.level, .character)
        XCTAssertEqual(vocabulary.tokens, [" ", "d", "e", "h", "l", "o", "r", "w"])
        XCTAssertEqual(vocabulary.count, 8)
        XCTAssertNil(vocabulary.unknownID)
        let ids = try vocabulary.encode("hello world")
        XCTAssertEqual(ids, [3, 2, 4, 4, 5, 0, 7, 5, 6, 4, 1])
        XCTAssertEqual(vocabulary.decode(ids), "hello world")
        XCTAssertEqual(vocabulary.decode([7, 5, 6, 1]), "word")
    }

    func testCharacterLevelUsesUnicodeScalarsAndRoundTripsBytesExactly() throws {
        // a, ñ (precomposed), e + combining acute (decomposed), grinning face (outside the BMP).
        let text = "a\u{F1}e\u{301}\u{1F600}"
        let vocabulary = Vocabulary.characters(of: text)
        XCTAssertEqual(vocabulary.tokens.map { $0.unicodeScalars.first!.value }, [0x61, 0x65, 0xF1, 0x301, 0x1F600])
        let ids = try vocabulary.encode(text)
        XCTAssertEqual(ids, [0, 2, 1, 3, 4])
        // Byte-exact: Swift's == would also accept the canonically equivalent precomposed "é".
        XCTAssertEqual(Array(vocabulary.decode(ids).utf8), Array(text.utf8))
    }

    func testUnknownCharacterFailsWithLineAndColumnOrIsSkipped() throws {
        let vocabulary = Vocabulary.characters(of: "abc\n")
        XCTAssertThrowsError(try vocabulary.encode("ab\ncx")) { error in
            XCTAssertEqual(error as? VocabularyError, .unknownCharacter("x", line: 2, column: 2, vocabularySize: 4))
            XCTAssertEqual(error.localizedDescription,
                           "character 'x' (U+0078) at line 2, column 2 is not in the vocabulary of 4 characters")
        }
        XCTAssertThrowsError(try vocabulary.encode("a\u{E9}")) { error in
            XCTAssertEqual(error.localizedDescription,
                           "character '\u{E9}' (U+00E9) at line 1, column 2 is not in the vocabulary of 4 characters")
        }
        XCTAssertEqual(try vocabulary.encode("ab\ncx", unknown: .skip), [1, 2, 0, 3])
    }

    func testEncodingBytesAtCharacterLevelRejectsInvalidUTF8WithOffset() throws {
        let vocabulary = Vocabulary.characters(of: "ab\n")
        XCTAssertEqual(try vocabulary.encode(bytes: Array("ba\n".utf8)), [2, 1, 0])
        XCTAssertThrowsError(try vocabulary.encode(bytes: [0x61, 0x0A, 0x62, 0xC3, 0x28])) { error in
            XCTAssertEqual(error as? VocabularyError, .invalidUTF8(byteOffset: 3, line: 2))
            XCTAssertTrue(error.localizedDescription.contains("--level byte"), error.localizedDescription)
        }
    }

    func testUTF8ValidationRejectsOverlongSurrogateOutOfRangeAndTruncatedSequences() throws {
        let vocabulary = Vocabulary.characters(of: "x")
        let cases: [([UInt8], Int)] = [
            ([0x78, 0xC0, 0x80], 1),             // overlong NUL
            ([0x78, 0x78, 0xE0, 0x80, 0x80], 2), // overlong 3-byte form
            ([0xED, 0xA0, 0x80], 0),             // surrogate U+D800
            ([0x78, 0xF4, 0x90, 0x80, 0x80], 1), // U+110000
            ([0x78, 0x78, 0x78, 0xE2, 0x82], 3), // truncated at the end
            ([0x78, 0x80], 1),                   // lone continuation byte
            ([0xFE], 0),
        ]
        for (bytes, offset) in cases {
            XCTAssertThrowsError(try vocabulary.encode(bytes: bytes), "\(bytes)") { error in
                XCTAssertEqual(error as? VocabularyError, .invalidUTF8(byteOffset: offset, line: 1), "\(bytes)")
            }
        }
        // Valid 2-, 3- and 4-byte sequences (é, €, U+10FFFF) pass validation and fail only as unknown characters.
        for bytes: [UInt8] in [[0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF4, 0x8F, 0xBF, 0xBF]] {
            XCTAssertThrowsError(try vocabulary.encode(bytes: bytes)) { error in
                guard case .unknownCharacter = error as? VocabularyError else { return XCTFail("\(bytes): \(error)") }
            }
        }
    }

    // MARK: Word level

    func testWordTokenizerSplitsWordsWhitespaceRunsAndPunctuationAndRoundTrips() {
        let text = "Don't stop--the cat's 12+7=19.\n\n  'tis o'er  lads' "
        let tokens = WordTokenizer.tokenStrings(text)
        XCTAssertEqual(tokens, ["Don't", " ", "stop", "-", "-", "the", " ", "cat's", " ", "12", "+", "7", "=", "19", ".",
                                "\n\n", "  ", "'", "tis", " ", "o'er", "  ", "lads", "'", " "])
        XCTAssertEqual(tokens.joined(), text)
        // A space before a newline is two tokens; runs are of one repeated scalar.
        XCTAssertEqual(WordTokenizer.tokenStrings("a \n\tb"), ["a", " ", "\n", "\t", "b"])
    }

    func testWordTokenizerKeepsAccentsAndCombiningMarksInWordsByteExactly() {
        let text = "caf\u{E9} na\u{EF}ve e\u{301}t\u{E9} snake_case \u{2019}x\u{2019}y"
        let tokens = WordTokenizer.tokenize(text)
        XCTAssertEqual(tokens.map { String(decoding: $0, as: UTF8.self) },
                       ["caf\u{E9}", " ", "na\u{EF}ve", " ", "e\u{301}t\u{E9}", " ", "snake_case", " ", "\u{2019}", "x\u{2019}y"])
        XCTAssertEqual(Array(tokens.joined()), Array(text.utf8))
    }

    func testWordVocabularyKeepsMostFrequentWithDeterministicTiesAndUnknown() throws {
        // Tokens: a ␠ b ␠ a ␠ c ␠ a ␠ b ␠ d — counts: ␠ 6, a 3, b 2, c 1, d 1.
        let text = "a b a c a b d"
        let capped = try Vocabulary.words(of: text, maxSize: 3)
        XCTAssertEqual(capped.tokens, ["<unk>", " ", "a", "b"])
        XCTAssertEqual(capped.count, 4)
        XCTAssertEqual(capped.unknownID, 0)
        let ids = try capped.encode("a b c d a")
        XCTAssertEqual(ids, [2, 1, 3, 1, 0, 1, 0, 1, 2])
        XCTAssertEqual(capped.decode(ids), "a b <unk> <unk> a")
        // The tie between c and d (one each) goes to the smaller UTF-8 bytes.
        XCTAssertEqual(try Vocabulary.words(of: text, maxSize: 4).tokens, ["<unk>", " ", "a", "b", "c"])
        // A cap above the number of distinct tokens keeps all of them.
        let full = try Vocabulary.words(of: text, maxSize: 100)
        XCTAssertEqual(full.tokens, ["<unk>", " ", "a", "b", "c", "d"])
        XCTAssertEqual(full.decode(try full.encode(text)), text)
        // The literal text "<unk>" is three tokens, none of them the unknown token's text.
        XCTAssertEqual(WordTokenizer.tokenStrings("<unk>"), ["<", "unk", ">"])
        XCTAssertEqual(try full.encode("<unk>"), [0, 0, 0])
        XCTAssertThrowsError(try Vocabulary.words(of: text, maxSize: 0)) { error in
            XCTAssertEqual(error as? ConfigurationError, ConfigurationError(argument: "maxVocabularySize", reason: "must be at least 1, got 0"))
        }
    }

    func testWordVocabularyDistinguishesCanonicallyEquivalentSpellings() throws {
        // Precomposed é and e + U+0301 are == as Swift strings but different tokens here.
        let text = "caf\u{E9} cafe\u{301} caf\u{E9}"
        let vocabulary = try Vocabulary.words(of: text, maxSize: 10)
        XCTAssertEqual(vocabulary.count, 4)
        XCTAssertEqual(Array(vocabulary.tokens[2].utf8), Array("caf\u{E9}".utf8))
        XCTAssertEqual(Array(vocabulary.tokens[3].utf8), Array("cafe\u{301}".utf8))
        XCTAssertEqual(try vocabulary.encode(text), [2, 1, 3, 1, 2])
        XCTAssertEqual(Array(vocabulary.decode(try vocabulary.encode(text)).utf8), Array(text.utf8))
    }

    // MARK: Byte level

    func testByteLevelRoundTripsArbitraryBytesAndDecodesLossily() throws {
        let vocabulary = Vocabulary.bytes
        XCTAssertEqual(vocabulary.count, 256)
        XCTAssertEqual(vocabulary.tokens[65], "A")
        XCTAssertEqual(vocabulary.tokens[10], "\\n")
        XCTAssertEqual(vocabulary.tokens[0x80], "<0x80>")
        XCTAssertEqual(vocabulary.tokens[0x05], "<0x05>")
        var bytes = (0...255).map { UInt8($0) }
        bytes += [0xFF, 0xC3, 0x28, 0x00, 0xED, 0xA0, 0x80]
        let ids = try vocabulary.encode(bytes: bytes)
        XCTAssertEqual(ids, bytes.map { Int($0) })
        XCTAssertEqual(ids.map { UInt8($0) }, bytes)
        XCTAssertEqual(try vocabulary.encode("h\u{E9}"), [0x68, 0xC3, 0xA9])
        XCTAssertEqual(vocabulary.decode([0x61, 0xFF, 0x62]), "a\u{FFFD}b")
        XCTAssertEqual(vocabulary.decode([0x68, 0xC3, 0xA9]), "h\u{E9}")
    }

    // MARK: JSON

    func testJSONIsExactAndStableAndRoundTrips() throws {
        let characters = Vocabulary.characters(of: "ba a")
        XCTAssertEqual(String(decoding: try characters.jsonData(), as: UTF8.self),
                       #"{"level":"character","tokens":[" ","a","b"]}"#)
        XCTAssertEqual(String(decoding: try Vocabulary.bytes.jsonData(), as: UTF8.self), #"{"level":"byte"}"#)
        let words = try Vocabulary.words(of: "to be, or not to be: that is the question.\n", maxSize: 6)
        XCTAssertEqual(String(decoding: try words.jsonData(), as: UTF8.self),
                       #"{"level":"word","tokens":["<unk>"," ","be","to","\n",",","."]}"#)

        let unicode = Vocabulary.characters(of: "\u{0}\t\n\"\\/\u{E9}\u{1F600}")
        for vocabulary in [characters, words, Vocabulary.bytes, unicode] {
            let data = try vocabulary.jsonData()
            let decoded = try Vocabulary(jsonData: data)
            XCTAssertEqual(decoded, vocabulary)
            XCTAssertEqual(try decoded.jsonData(), data)
            // The decoded vocabulary encodes like the original (its lookup tables are rebuilt).
            let sample = vocabulary.decode(Array(0..<vocabulary.count))
            XCTAssertEqual(try decoded.encode(sample), try vocabulary.encode(sample))
        }
    }

    func testJSONDecodingRejectsInconsistentVocabularies() {
        let bad = [
            #"{"level":"character","tokens":["b","a"]}"#,   // not sorted
            #"{"level":"character","tokens":["a","a"]}"#,   // duplicate
            #"{"level":"character","tokens":["ab"]}"#,      // two scalars
            #"{"level":"word","tokens":["a","<unk>"]}"#,    // <unk> not first
            #"{"level":"word","tokens":["<unk>","a","a"]}"#,
            #"{"level":"sentence","tokens":[]}"#,
        ]
        for json in bad {
            XCTAssertThrowsError(try Vocabulary(jsonData: Data(json.utf8)), json)
        }
    }
}
