import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentFormats
import RecurrentText
import RecurrentTestSupport
import XCTest

final class TextCorpusTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("TextCorpusTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func write(_ bytes: [UInt8], to name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// Asserts that `body` throws exactly `expected` and that its one-line message is `message`.
    private func assertThrows<T>(_ expected: TextCorpusError, message: String, _ body: () throws -> T,
                                 file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual(error as? TextCorpusError, expected, file: file, line: line)
            XCTAssertEqual(error.localizedDescription, message, file: file, line: line)
            XCTAssertFalse(error.localizedDescription.contains("\n"), file: file, line: line)
        }
    }

    private func configuration(_ level: Vocabulary.Level = .character, fraction: Double = 0.1,
                               batch: Int = 2, seq: Int = 4) -> TextCorpus.Configuration {
        TextCorpus.Configuration(level: level, validationFraction: fraction, batchSize: batch, sequenceLength: seq)
    }

    // MARK: Bad input

    func testMissingFileAndDirectory() throws {
        let missing = directory.appendingPathComponent("missing.txt")
        assertThrows(.fileNotFound(path: missing.path), message: "\(missing.path): no such file") {
            try TextCorpus.load(from: missing, configuration: configuration())
        }
        assertThrows(.unreadable(path: directory.path, reason: "it is a directory, not a regular file"),
                     message: "\(directory.path): cannot read the file (it is a directory, not a regular file)") {
            try TextCorpus.load(from: directory, configuration: configuration())
        }
    }

    func testEmptyFileAtEveryLevel() throws {
        let url = try write([], to: "empty.txt")
        for level in Vocabulary.Level.allCases {
            assertThrows(.empty(source: url.path), message: "\(url.path): the file is empty") {
                try TextCorpus.load(from: url, configuration: configuration(level))
            }
        }
    }

    func testInvalidUTF8SuggestsByteLevelAndByteLevelAcceptsIt() throws {
        var bytes = Array("ab\ncd".utf8) + [0xFF]
        bytes += Array(repeating: UInt8(ascii: "x"), count: 200)
        let url = try write(bytes, to: "latin1.txt")
        for level in [Vocabulary.Level.character, .word] {
            assertThrows(.invalidUTF8(source: url.path, byteOffset: 5, line: 2),
                         message: "\(url.path): not valid UTF-8 text (first invalid byte at offset 5, line 2); "
                             + "use --level byte for binary or non-UTF-8 files") {
                try TextCorpus.load(from: url, configuration: configuration(level))
            }
        }
        let corpus = try TextCorpus.load(from: url, configuration: configuration(.byte))
        XCTAssertEqual(corpus.vocabulary, .bytes)
        XCTAssertEqual(corpus.tokenCount, 206)
        XCTAssertEqual(corpus.validation.count, 20)
        XCTAssertEqual(Array(corpus.training.prefix(7)), [0x61, 0x62, 0x0A, 0x63, 0x64, 0xFF, 0x78])
    }

    func testTooShortTrainingPart() throws {
        // 20 tokens, no validation: batch 2 × seq 10 needs 21.
        let url = try write(Array(repeating: UInt8(ascii: "a"), count: 20), to: "short.txt")
        assertThrows(.tooShort(source: url.path, part: .training, tokens: 20, required: 21, batchSize: 2, sequenceLength: 10),
                     message: "\(url.path): the training part has 20 tokens, but one batch of 2 × 10 needs at least 21; "
                         + "use a smaller --batch or --seq, or a longer text") {
            try TextCorpus.load(from: url, configuration: configuration(fraction: 0, batch: 2, seq: 10))
        }
        // 2 × 9 + 1 = 19 ≤ 20 fits.
        XCTAssertEqual(try TextCorpus.load(from: url, configuration: configuration(fraction: 0, batch: 2, seq: 9)).training.count, 20)
    }

    func testTooShortValidationPart() throws {
        // 100 tokens, fraction 0.1: validation has 10, batch 2 × seq 5 needs 11 (training has 90).
        let text = String(repeating: "abcde", count: 20)
        assertThrows(.tooShort(source: "text", part: .validation, tokens: 10, required: 11, batchSize: 2, sequenceLength: 5),
                     message: "text: the validation part has 10 tokens, but one batch of 2 × 5 needs at least 11; "
                         + "use a smaller --batch or --seq, or a larger --val-fraction (0 disables validation)") {
            try TextCorpus(text: text, configuration: configuration(fraction: 0.1, batch: 2, seq: 5))
        }
        // A tiny fraction that rounds to zero tokens still asks for validation and fails.
        assertThrows(.tooShort(source: "text", part: .validation, tokens: 0, required: 3, batchSize: 1, sequenceLength: 2),
                     message: "text: the validation part has 0 tokens, but one batch of 1 × 2 needs at least 3; "
                         + "use a smaller --batch or --seq, or a larger --val-fraction (0 disables validation)") {
            try TextCorpus(text: text, configuration: configuration(fraction: 0.001, batch: 1, seq: 2))
        }
    }

    func testVocabularyMismatch() throws {
        let given = Vocabulary.characters(of: "abc\n")
        assertThrows(.vocabularyMismatch(source: "other.txt", detail:
                        "character 'd' (U+0064) at line 2, column 3 is not in the vocabulary of 4 characters"),
                     message: "other.txt: vocabulary mismatch: character 'd' (U+0064) at line 2, column 3 "
                         + "is not in the vocabulary of 4 characters") {
            try TextCorpus(text: "abcabc\nabd", source: "other.txt",
                           configuration: configuration(fraction: 0, batch: 1, seq: 2), vocabulary: given)
        }
        assertThrows(.vocabularyMismatch(source: "text", detail: "the given vocabulary is character level, but word level was requested"),
                     message: "text: vocabulary mismatch: the given vocabulary is character level, but word level was requested") {
            try TextCorpus(text: "abcabc", configuration: configuration(.word, fraction: 0, batch: 1, seq: 2), vocabulary: given)
        }
        // A text inside the given vocabulary uses its ids, not those of a vocabulary built from the text.
        let corpus = try TextCorpus(text: "ccc\nb", configuration: configuration(fraction: 0, batch: 1, seq: 2), vocabulary: given)
        XCTAssertEqual(corpus.training, [3, 3, 3, 0, 2])
        XCTAssertEqual(corpus.vocabulary, given)
    }

    func testInvalidConfigurationIsAConfigurationError() {
        let cases: [(TextCorpus.Configuration, ConfigurationError)] = [
            (configuration(fraction: 1), ConfigurationError(argument: "validationFraction", reason: "must be in [0, 1), got 1.0")),
            (configuration(fraction: -0.1), ConfigurationError(argument: "validationFraction", reason: "must be in [0, 1), got -0.1")),
            (configuration(batch: 0), ConfigurationError(argument: "batchSize", reason: "must be positive, got 0")),
            (configuration(seq: -3), ConfigurationError(argument: "sequenceLength", reason: "must be positive, got -3")),
        ]
        for (configuration, expected) in cases {
            XCTAssertThrowsError(try TextCorpus(text: "abcdefgh", configuration: configuration)) { error in
                XCTAssertEqual(error as? ConfigurationError, expected)
            }
        }
    }

    // MARK: Splits

    func testCharacterSplitIsTheLastFractionAndVocabularyComesFromTheWholeText() throws {
        // 103 characters; ⌊103 · 0.1⌋ = 10 go to validation. "Z" appears only in the validation part.
        let text = String(repeating: "abc", count: 31) + "Zab\nbca" + "ab\n"
        XCTAssertEqual(text.count, 103)
        let corpus = try TextCorpus(text: text, configuration: configuration(fraction: 0.1, batch: 3, seq: 3))
        XCTAssertEqual(corpus.vocabulary.tokens, ["\n", "Z", "a", "b", "c"])
        XCTAssertEqual(corpus.tokenCount, 103)
        XCTAssertEqual(corpus.training.count, 93)
        XCTAssertEqual(corpus.validation.count, 10)
        XCTAssertEqual(corpus.training, try corpus.vocabulary.encode(String(text.prefix(93))))
        XCTAssertEqual(corpus.validation, [1, 2, 3, 0, 3, 4, 2, 2, 3, 0])
        XCTAssertEqual(corpus.vocabulary.decode(corpus.training + corpus.validation), text)
        XCTAssertEqual(corpus.validationBatches()?.targetTotal, 9)

        let noValidation = try TextCorpus(text: text, configuration: configuration(fraction: 0, batch: 3, seq: 3))
        XCTAssertEqual(noValidation.training.count, 103)
        XCTAssertEqual(noValidation.validation, [])
        XCTAssertNil(noValidation.validationBatches())
    }

    func testWordSplitBuildsTheVocabularyFromTheTrainingPartOnly() throws {
        // Tokens: a ␠ b ␠ a ␠ b ␠ c ␠ | z ␠ z — 13 tokens, ⌊13 · 0.3⌋ = 3 for validation.
        let corpus = try TextCorpus(text: "a b a b c z z", configuration: configuration(.word, fraction: 0.3, batch: 1, seq: 2))
        XCTAssertEqual(corpus.vocabulary.tokens, ["<unk>", " ", "a", "b", "c"])
        XCTAssertEqual(corpus.training, [2, 1, 3, 1, 2, 1, 3, 1, 4, 1])
        XCTAssertEqual(corpus.validation, [0, 1, 0])
    }

    func testWordLevelRespectsTheVocabularyCap() throws {
        var configuration = configuration(.word, fraction: 0, batch: 1, seq: 2)
        configuration.maxVocabularySize = 2
        let corpus = try TextCorpus(text: "x y x y x", configuration: configuration)
        XCTAssertEqual(corpus.vocabulary.tokens, ["<unk>", " ", "x"])
        XCTAssertEqual(corpus.training, [2, 1, 0, 1, 2, 1, 0, 1, 2])
    }

    func testTrainingBatcherAndFingerprintFollowTheConfiguration() throws {
        let text = String(repeating: "the quick brown fox\n", count: 10)
        let corpus = try TextCorpus(text: text, configuration: configuration(fraction: 0.15, batch: 4, seq: 5))
        XCTAssertEqual(corpus.training.count, 170)
        var batcher = try corpus.trainingBatcher()
        XCTAssertEqual(batcher.batchSize, 4)
        XCTAssertEqual(batcher.sequenceLength, 5)
        XCTAssertEqual(batcher.windowsPerEpoch, 8) // ⌊169 / 20⌋
        let batch = batcher.next()
        XCTAssertEqual(corpus.vocabulary.decode(Array(batch.inputs.prefix(5))), "the q")
        // The fingerprint is reproducible and changes with the split.
        let again = try TextCorpus(text: text, configuration: configuration(fraction: 0.15, batch: 4, seq: 5))
        XCTAssertEqual(corpus.fingerprint, again.fingerprint)
        let otherSplit = try TextCorpus(text: text, configuration: configuration(fraction: 0.2, batch: 4, seq: 5))
        XCTAssertNotEqual(corpus.fingerprint, otherSplit.fingerprint)
    }

    // MARK: A long text (the project's generated corpora)

    /// About 1.2 MB of the project's generated text, written to a file so that it is read as a user's
    /// text is (`TextCorpus.load`): 30,000 pairs of lines — an arithmetic line
    /// (`GeneratedCorpus.arithmetic(lines: 30_000, seed: 11)`) then a sentence
    /// (`GeneratedCorpus.sentences(lines: 30_000, seed: 11)`) — with an empty line after every tenth
    /// pair, so that the word tokenizer also meets runs of newlines.
    private func longGeneratedText() throws -> URL {
        let sums = GeneratedCorpus.arithmetic(lines: 30_000, seed: 11).split(separator: "\n")
        let sentences = GeneratedCorpus.sentences(lines: 30_000, seed: 11).split(separator: "\n")
        var text = ""
        for (i, (sum, sentence)) in zip(sums, sentences).enumerated() {
            text += sum + "\n" + sentence + "\n"
            if i % 10 == 9 { text += "\n" }
        }
        let url = directory.appendingPathComponent("generated.txt")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    // Reference numbers from an independent Python computation on the same file (written by
    // `longGeneratedText`):
    //   character level: n = len(text), sorted(set(text)), the last ⌊0.1 n⌋ characters held out;
    //   word level: [m.group(0) for m in re.finditer(r"\w+(?:'\w+)*|([ \n\t\r])\1*|.", text, flags=re.S | re.A)],
    //   then Counter over the first n − ⌊0.1 n⌋ tokens, ranked by (−count, bytes), capped.

    func testALongGeneratedTextAtCharacterLevel() throws {
        let corpus = try TextCorpus.load(from: try longGeneratedText(), configuration: configuration(fraction: 0.1, batch: 32, seq: 64))
        XCTAssertEqual(corpus.vocabulary.count, 41)
        XCTAssertEqual(corpus.vocabulary.tokens.joined(), "\n *+-.0123456789=abcdefghiklmnopqrstuvwxy")
        XCTAssertEqual(corpus.tokenCount, 1_206_098)
        XCTAssertEqual(corpus.validation.count, 120_609)
        XCTAssertEqual(corpus.training.count, 1_085_489)
        XCTAssertEqual(corpus.vocabulary.decode(Array(corpus.training.prefix(16))), "4+12=16\nthe bird")
    }

    func testALongGeneratedTextAtWordLevel() throws {
        var configuration = configuration(.word, fraction: 0.1, batch: 32, seq: 64)
        configuration.maxVocabularySize = 100
        let corpus = try TextCorpus.load(from: try longGeneratedText(), configuration: configuration)
        XCTAssertEqual(corpus.tokenCount, 570_040)
        XCTAssertEqual(corpus.validation.count, 57_004)
        XCTAssertEqual(corpus.vocabulary.count, 101) // 150 distinct training tokens, capped
        XCTAssertEqual(Array(corpus.vocabulary.tokens.prefix(10)), ["<unk>", " ", "\n", ".", "=", "the", "*", "-", "+", "many"])
        // The rarer results of sums and products (kept: "63", 230 times; dropped from "66", 223 times) are <unk>.
        XCTAssertEqual(corpus.training.filter { $0 == 0 }.count, 5_032)
        XCTAssertEqual(corpus.validation.filter { $0 == 0 }.count, 552)
        XCTAssertEqual(corpus.vocabulary.decode(Array(corpus.training.prefix(12))), "4+12=16\nthe bird sees ")
    }
}
