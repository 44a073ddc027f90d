import Foundation
import RecurrentCore
import RecurrentLayers
import RecurrentOptim
import RecurrentFormats
import RecurrentText
import XCTest

/// BLEU on hand-computed cases, the parallel-text loader and its errors, the vocabularies, the generated
/// tasks, and the checkpoint round trip.
final class TranslationTests: XCTestCase {
    private func words(_ text: String) -> [String] { text.split(separator: " ").map(String.init) }

    // MARK: BLEU

    func testBLEUOfAPerfectMatchIsOne() {
        let bleu = BLEU(hypotheses: [words("the cat sat on the mat")], references: [words("the cat sat on the mat")])
        XCTAssertEqual(bleu.score, 1, accuracy: 1e-12)
        XCTAssertEqual(bleu.matches, [6, 5, 4, 3])
        XCTAssertEqual(bleu.totals, [6, 5, 4, 3])
        XCTAssertEqual(bleu.brevityPenalty, 1)
    }

    /// Papineni et al.'s example: "the" seven times against "the cat is on the mat" — unigram
    /// precision 7/7 without clipping, 2/7 with it; no bigram matches, so BLEU-4 is 0.
    func testClippingOfRepeatedWords() {
        let hypothesis = words("the the the the the the the"), reference = words("the cat is on the mat")
        let bleu4 = BLEU(hypotheses: [hypothesis], references: [reference])
        XCTAssertEqual(bleu4.precisions[0], 2.0 / 7, accuracy: 1e-12)
        XCTAssertEqual(bleu4.matches[1], 0)
        XCTAssertEqual(bleu4.score, 0)
        // BLEU-1: c = 7 > r = 6, so no brevity penalty.
        XCTAssertEqual(BLEU(hypotheses: [hypothesis], references: [reference], maxOrder: 1).score, 2.0 / 7, accuracy: 1e-12)
        // Clipping in both directions: a a b against a b b matches one a and one b.
        XCTAssertEqual(BLEU(hypotheses: [words("a a b")], references: [words("a b b")], maxOrder: 1).precisions, [2.0 / 3])
    }

    /// A correct but short hypothesis: every precision is 1, BLEU is the brevity penalty exp(1 − 7/5).
    func testBrevityPenalty() {
        let bleu = BLEU(hypotheses: [words("a b c d e")], references: [words("a b c d e f g")])
        XCTAssertEqual(bleu.precisions, [1, 1, 1, 1])
        XCTAssertEqual(bleu.brevityPenalty, exp(-0.4), accuracy: 1e-12)
        XCTAssertEqual(bleu.score, 0.670_320_046_035_639, accuracy: 1e-12)
        // Longer than the reference: no penalty (but lower precision).
        XCTAssertEqual(BLEU(hypotheses: [words("a b c d e f g h")], references: [words("a b c d e f g")]).brevityPenalty, 1)
    }

    /// Counts are pooled over the corpus before the precisions are taken:
    /// sentence 1 (exact): 4, 3, 2, 1 matches of 4, 3, 2, 1; sentence 2 "a b x d" vs "a b c d": 3/4, 1/3,
    /// 0/2, 0/1. So p = 7/8, 4/6, 2/4, 1/2, c = r = 8, BLEU = (7/8 · 4/6 · 2/4 · 1/2)^(1/4) = 0.6179…
    func testCorpusBLEUPoolsTheCounts() {
        let bleu = BLEU(hypotheses: [words("a b c d"), words("a b x d")], references: [words("a b c d"), words("a b c d")])
        XCTAssertEqual(bleu.matches, [7, 4, 2, 1])
        XCTAssertEqual(bleu.totals, [8, 6, 4, 2])
        XCTAssertEqual(bleu.brevityPenalty, 1)
        XCTAssertEqual(bleu.score, pow(7.0 / 8 * 4 / 6 * 2 / 4 * 1 / 2, 0.25), accuracy: 1e-12)
        XCTAssertEqual(bleu.score, 0.617_9, accuracy: 1e-4)
        // The mean of the sentence scores would be (1 + 0) / 2: corpus BLEU is not that.
        XCTAssertEqual(BLEU(hypotheses: [words("a b x d")], references: [words("a b c d")]).score, 0)
    }

    func testEmptyHypothesesScoreZero() {
        let bleu = BLEU(hypotheses: [[]], references: [words("a b")])
        XCTAssertEqual(bleu.score, 0)
        XCTAssertEqual(bleu.brevityPenalty, 0)
        let scores = TranslationScores(hypotheses: [["x"], ["a", "b"]], references: [["y"], ["a", "b"]])
        XCTAssertEqual(scores.exactMatches, 1)
        XCTAssertEqual(scores.exactMatch, 0.5)
    }

    // MARK: Loader

    private func assertCorpusError(_ text: String, level: TranslationLevel = .character, _ expected: ParallelCorpusError,
                                   mentioning fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ParallelCorpus(text: text, level: level, label: "pairs.tsv"), file: file, line: line) { error in
            XCTAssertEqual(error as? ParallelCorpusError, expected, file: file, line: line)
            let message = (error as? LocalizedError)?.errorDescription ?? ""
            XCTAssertTrue(message.contains(fragment), "'\(message)' should mention '\(fragment)'", file: file, line: line)
            XCTAssertFalse(message.contains("\n"), file: file, line: line)
        }
    }

    func testLoaderReadsPairsAndSkipsBlankLines() throws {
        let corpus = try ParallelCorpus(text: "a b\tx\r\n\n  \nc\ty z\n", level: .word, label: "p")
        XCTAssertEqual(corpus.pairs, [TranslationPair(source: "a b", target: "x", line: 1), TranslationPair(source: "c", target: "y z", line: 4)])
        // Character level keeps spaces as tokens.
        XCTAssertEqual(TranslationLevel.character.tokens(of: "a b"), ["a", " ", "b"])
        XCTAssertEqual(TranslationLevel.word.tokens(of: "  a   b "), ["a", "b"])
        XCTAssertEqual(TranslationLevel.word.join(["a", "b"]), "a b")
    }

    func testLoaderErrorsNameTheLine() {
        assertCorpusError("a\tb\nno tab here\n", .missingTab(source: "pairs.tsv", line: 2), mentioning: "pairs.tsv, line 2: no tab")
        assertCorpusError("a\tb\tc\n", .extraTab(source: "pairs.tsv", line: 1, tabs: 2), mentioning: "line 1: 2 tabs")
        assertCorpusError("a\tb\n\tb\n", .emptySide(source: "pairs.tsv", line: 2, side: "source"), mentioning: "line 2: empty source")
        assertCorpusError("a\t\n", .emptySide(source: "pairs.tsv", line: 1, side: "target"), mentioning: "line 1: empty target")
        assertCorpusError("a\t   \n", level: .word, .emptySide(source: "pairs.tsv", line: 1, side: "target"), mentioning: "empty target")
        assertCorpusError("", .empty(source: "pairs.tsv"), mentioning: "no pairs")
        assertCorpusError("\n \n\n", .empty(source: "pairs.tsv"), mentioning: "no pairs")
    }

    func testLoaderFileErrors() throws {
        let directory = try makeTemporaryDirectory(self, "translation-loader")
        let missing = directory.appendingPathComponent("missing.tsv")
        XCTAssertThrowsError(try ParallelCorpus(contentsOf: missing, level: .word)) {
            XCTAssertEqual($0 as? ParallelCorpusError, .fileNotFound(path: missing.path))
        }
        let latin1 = directory.appendingPathComponent("latin1.tsv")
        try Data([0x61, 0x09, 0x62, 0x0A, 0x63, 0xE9, 0x09, 0x64, 0x0A]).write(to: latin1)
        XCTAssertThrowsError(try ParallelCorpus(contentsOf: latin1, level: .word)) {
            XCTAssertEqual($0 as? ParallelCorpusError, .invalidUTF8(source: latin1.path, line: 2))
        }
        XCTAssertThrowsError(try ParallelCorpus(contentsOf: directory, level: .word)) {
            XCTAssertTrue(($0 as? LocalizedError)?.errorDescription?.contains("directory") ?? false)
        }
    }

    /// A line longer than the limit (1,000 tokens per side unless given) is refused with its line, not
    /// cut: a 5 MB line used to allocate gigabytes in the encoder and abort.
    func testOverlongLinesAreRefusedWithTheirLine() throws {
        let long = String(repeating: "a", count: 5_000_000)
        assertCorpusError("ab\tcd\n\(long)\tx\n", .tooLong(source: "pairs.tsv", line: 2, side: "source", limit: 1_000),
                          mentioning: "pairs.tsv, line 2: the source has more than 1000 tokens; shorten or split the line "
                            + "(or raise --max-tokens, at most 10000)")
        assertCorpusError("ab\t\(String(repeating: "w ", count: 1_001))\n", level: .word,
                          .tooLong(source: "pairs.tsv", line: 1, side: "target", limit: 1_000), mentioning: "the target has more than 1000")
        XCTAssertEqual(try ParallelCorpus(text: "ab\t\(String(repeating: "w ", count: 1_000))\n", level: .word).pairs.count, 1)
        XCTAssertEqual(try ParallelCorpus(text: "abc\tx\n", level: .character, maximumTokens: 3).pairs.count, 1)
        XCTAssertThrowsError(try ParallelCorpus(text: "abcd\tx\n", level: .character, label: "p", maximumTokens: 3)) {
            XCTAssertEqual($0 as? ParallelCorpusError, .tooLong(source: "p", line: 1, side: "source", limit: 3))
        }
        XCTAssertThrowsError(try ParallelCorpus(text: "a\tx\n", level: .character, maximumTokens: 10_001)) {
            XCTAssertEqual($0.localizedDescription, "invalid maximumTokens: must be at most 10000, got 10001")
        }
        XCTAssertThrowsError(try TranslationInput(text: "ok\n\(long)\n", level: .character, label: "in")) {
            XCTAssertEqual($0 as? ParallelCorpusError, .tooLong(source: "in", line: 2, side: "source", limit: 1_000))
        }
        XCTAssertThrowsError(try TranslationInput(text: "ok\t\(long)\n", level: .character, label: "in")) {
            XCTAssertEqual($0 as? ParallelCorpusError, .tooLong(source: "in", line: 1, side: "reference", limit: 1_000))
        }
        // The count stops past the limit and agrees with tokens(of:) below it.
        for text in ["", " ", "a", " a  bc\td ", "é\u{301} x", "a\u{2003}b"] {
            for level in TranslationLevel.allCases {
                XCTAssertEqual(level.tokenCount(of: text, upTo: 100), level.tokens(of: text).count, "\(level) \(text.debugDescription)")
            }
        }
        XCTAssertEqual(TranslationLevel.character.tokenCount(of: long, upTo: 10), 11)
    }

    func testSplitIsDeterministicDisjointAndComplete() throws {
        let corpus = try ParallelCorpus(text: (0..<50).map { "s\($0)\tt\($0)\n" }.joined(), level: .word)
        let (training, heldOut) = try corpus.split(validationFraction: 0.2, seed: 3)
        XCTAssertEqual(heldOut.count, 10)
        XCTAssertEqual(training.count, 40)
        XCTAssertEqual(Set((training + heldOut).map(\.line)), Set(1...50))
        XCTAssertEqual(try corpus.split(validationFraction: 0.2, seed: 3).heldOut, heldOut)
        XCTAssertNotEqual(try corpus.split(validationFraction: 0.2, seed: 4).heldOut, heldOut)
        XCTAssertEqual(training.map(\.line), training.map(\.line).sorted(), "the file's order is kept")
        XCTAssertEqual(try corpus.split(validationFraction: 0, seed: 3).heldOut, [])
        // A tiny fraction still holds out one pair; one pair cannot be split.
        XCTAssertEqual(try corpus.split(validationFraction: 0.001, seed: 3).heldOut.count, 1)
        let one = try ParallelCorpus(text: "a\tb\n", level: .word, label: "one.tsv")
        XCTAssertThrowsError(try one.split(validationFraction: 0.5, seed: 1)) {
            XCTAssertEqual($0 as? ParallelCorpusError, .tooFewPairs(source: "one.tsv", pairs: 1, heldOut: 1))
        }
        XCTAssertThrowsError(try corpus.split(validationFraction: 1, seed: 1)) { XCTAssertTrue($0 is ConfigurationError) }
    }

    func testPredictInputTakesSourcesAndOptionalReferences() throws {
        let input = try TranslationInput(text: "a b\n\nc\tz\n", level: .word)
        XCTAssertEqual(input.items, [.init(source: "a b", reference: nil, line: 1), .init(source: "c", reference: "z", line: 3)])
        XCTAssertThrowsError(try TranslationInput(text: "\n\n", level: .word, label: "in")) {
            XCTAssertEqual($0 as? ParallelCorpusError, .noSources(source: "in"))
        }
        XCTAssertThrowsError(try TranslationInput(text: "a\t\n", level: .word, label: "in")) {
            XCTAssertEqual($0 as? ParallelCorpusError, .emptySide(source: "in", line: 1, side: "reference"))
        }
    }

    // MARK: Vocabulary

    func testVocabularyOrderSpecialsAndUnknowns() throws {
        let vocabulary = try TranslationVocabulary(of: ["b a b", "c b <s>"], level: .word)
        XCTAssertEqual(vocabulary.tokens, ["<pad>", "<s>", "</s>", "<unk>", "b", "a", "c"])
        XCTAssertEqual(vocabulary.encode("a b zebra <s>"), [5, 4, 3, 3])
        XCTAssertEqual(vocabulary.decode([4, 3, 6]), "b <unk> c")
        let capped = try TranslationVocabulary(of: ["b a b", "c b"], level: .word, maxSize: 1)
        XCTAssertEqual(capped.tokens.count, 5)
        let decoded = try JSONDecoder().decode(TranslationVocabulary.self, from: try JSONEncoder().encode(vocabulary))
        XCTAssertEqual(decoded, vocabulary)
        XCTAssertEqual(decoded.encode("c a"), [6, 5])
        XCTAssertThrowsError(try JSONDecoder().decode(TranslationVocabulary.self, from: Data(#"{"level":"word","tokens":["a","b"]}"#.utf8)))
        XCTAssertThrowsError(try JSONDecoder().decode(TranslationVocabulary.self,
                                                      from: Data(#"{"level":"word","tokens":["<pad>","<s>","</s>","<unk>","a","a"]}"#.utf8)))
    }

    // MARK: Generated tasks

    func testGeneratedTasksAreDeterministicDistinctAndRight() throws {
        for task in GeneratedTranslationTask.allCases {
            let pairs = try task.pairs(count: 300, seed: 9)
            XCTAssertEqual(pairs, try task.pairs(count: 300, seed: 9))
            XCTAssertNotEqual(pairs, try task.pairs(count: 300, seed: 10))
            XCTAssertEqual(Set(pairs.map(\.source)).count, 300)
            for pair in pairs { XCTAssertEqual(task.reference(for: pair.source), pair.target, pair.source) }
            // The text form parses back at the task's level.
            let corpus = try ParallelCorpus(text: try task.text(count: 300, seed: 9), level: task.level)
            XCTAssertEqual(corpus.pairs.map(\.target), pairs.map(\.target))
        }
        XCTAssertEqual(GeneratedTranslationTask.dates.reference(for: "29 February 2000"), "2000-02-29")
        XCTAssertEqual(GeneratedTranslationTask.dates.reference(for: "March 3, 2021"), "2021-03-03")
        XCTAssertNil(GeneratedTranslationTask.dates.reference(for: "29 February 1900"))
        XCTAssertEqual(GeneratedTranslationTask.mirror.reference(for: "ka lo tun"), "big dog cat")
        let long = try GeneratedTranslationTask.mirror.pairs(count: 50, seed: 1, lengths: 20...20)
        XCTAssertTrue(long.allSatisfy { $0.source.split(separator: " ").count == 20 })
        XCTAssertThrowsError(try GeneratedTranslationTask.mirror.pairs(count: 400, seed: 1, lengths: 1...1))
        XCTAssertThrowsError(try GeneratedTranslationTask.dates.pairs(count: 1_000_000, seed: 1))
    }

    // MARK: Checkpoints

    private func smallTrainer(attention: Bool = true, steps: Int = 20) throws -> TranslationTrainer {
        var configuration = TranslationConfiguration()
        configuration.level = .word
        configuration.attention = attention
        configuration.hiddenSize = 12
        configuration.embeddingSize = 8
        configuration.steps = steps
        configuration.batchSize = 8
        configuration.validationFraction = 0.25
        let corpus = try ParallelCorpus(text: try GeneratedTranslationTask.mirror.text(count: 40, seed: 2, lengths: 2...5), level: .word)
        return try TranslationTrainer(configuration: configuration, corpus: corpus)
    }

    func testCheckpointRoundTripDecodesIdentically() throws {
        let trainer = try smallTrainer()
        var reports = [TranslationTrainer.Progress]()
        let result = try trainer.train(reportInterval: 10) { reports.append($0) }
        XCTAssertEqual(reports.map(\.step), [10, 20])
        XCTAssertTrue(reports.allSatisfy { $0.loss.isFinite })
        XCTAssertEqual(reports.last!.epoch, 5, accuracy: 1e-9, "30 training pairs: 4 batches (8, 8, 8, 6) per epoch")
        XCTAssertEqual(result.heldOut?.count, 10)
        let directory = try makeTemporaryDirectory(self, "translation-checkpoint")
        try TranslationCheckpoint.save(result.translator, to: directory, training: trainer.configuration, heldOut: result.heldOut)
        let (loaded, contents) = try TranslationCheckpoint.load(from: directory)
        XCTAssertEqual(contents.training, trainer.configuration)
        XCTAssertEqual(contents.heldOut, result.heldOut)
        XCTAssertEqual(loaded.sourceVocabulary, trainer.sourceVocabulary)
        XCTAssertEqual(loaded.targetVocabulary, trainer.targetVocabulary)
        XCTAssertEqual(loaded.maxOutputLength, trainer.maxOutputLength)
        let sources = trainer.heldOutPairs.map(\.source) + ["ka zzz lo"]
        for beam in [1, 3] {
            let before = result.translator.translate(sources, beamWidth: beam), after = loaded.translate(sources, beamWidth: beam)
            XCTAssertEqual(before.map(\.text), after.map(\.text))
            XCTAssertEqual(before.map(\.logProbability), after.map(\.logProbability))
            XCTAssertEqual(before.map { $0.attention?.scalars }, after.map { $0.attention?.scalars })
        }
        XCTAssertEqual(loaded.translate(["ka zzz lo"])[0].unknownSourceTokens, 1)
        // The heatmap of one translation: a row per output token and </s>, a column per source token.
        let translation = loaded.translate(["ka lo tun"])[0]
        let map = try loaded.attentionHeatmap(of: translation)
        XCTAssertEqual(map.columnLabels, ["ka", "lo", "tun"])
        XCTAssertEqual(map.values.count, translation.tokens.count + (translation.finished ? 1 : 0))
        XCTAssertTrue(map.render().hasPrefix("<svg"))
    }

    func testBadCheckpointsFailWithOneLine() throws {
        let trainer = try smallTrainer(steps: 1)
        let translator = try trainer.train().translator
        let directory = try makeTemporaryDirectory(self, "translation-bad")
        func message(_ body: () throws -> Void) -> String {
            do { try body() } catch { return (error as? LocalizedError)?.errorDescription ?? "\(error)" }
            return "no error"
        }
        XCTAssertTrue(message { _ = try TranslationCheckpoint.load(from: directory.appendingPathComponent("none")) }.contains("does not exist"))
        XCTAssertTrue(message { _ = try TranslationCheckpoint.load(from: directory) }.contains("config.json' is missing"))
        try TranslationCheckpoint.save(translator, to: directory)
        let config = directory.appendingPathComponent("config.json"), weights = directory.appendingPathComponent("model.safetensors")
        let good = try Data(contentsOf: config)
        try Data("{ not json".utf8).write(to: config)
        XCTAssertTrue(message { _ = try TranslationCheckpoint.load(from: directory) }.contains("malformed"))
        try Data(#"{"format":"recurrent.forecast-checkpoint","formatVersion":1}"#.utf8).write(to: config)
        XCTAssertTrue(message { _ = try TranslationCheckpoint.load(from: directory) }.contains("format 'recurrent.forecast-checkpoint'"))
        // The config says no attention, the weights have it.
        var text = String(decoding: good, as: UTF8.self)
        text = text.replacingOccurrences(of: "\"attention\" : true", with: "\"attention\" : false")
        try Data(text.utf8).write(to: config)
        XCTAssertTrue(message { _ = try TranslationCheckpoint.load(from: directory) }.contains("do not match"))
        // A vocabulary that does not fit the model.
        text = String(decoding: good, as: UTF8.self).replacingOccurrences(of: "\"<unk>\",", with: "\"<unk>\", \"extra-token\",")
        try Data(text.utf8).write(to: config)
        XCTAssertTrue(message { _ = try TranslationCheckpoint.load(from: directory) }.contains("vocabulary mismatch"))
        try good.write(to: config)
        try Data("garbage".utf8).write(to: weights)
        XCTAssertTrue(message { _ = try TranslationCheckpoint.load(from: directory) }.contains("model.safetensors"))
        try FileManager.default.removeItem(at: weights)
        XCTAssertTrue(message { _ = try TranslationCheckpoint.load(from: directory) }.contains("model.safetensors' is missing"))
        let plain = try smallTrainer(attention: false, steps: 1).train().translator
        XCTAssertThrowsError(try plain.attentionHeatmap(of: plain.translate(["ka"])[0])) {
            XCTAssertEqual($0 as? TranslationError, .noAttention)
        }
    }

    func testConfigurationErrorsNameTheField() throws {
        var configuration = TranslationConfiguration()
        configuration.steps = 0
        XCTAssertThrowsError(try configuration.validate()) { XCTAssertEqual(($0 as? ConfigurationError)?.argument, "steps") }
        configuration.steps = nil
        configuration.epochs = 2
        XCTAssertNoThrow(try configuration.validate())
        configuration.hiddenSize = 0
        XCTAssertThrowsError(try configuration.validate()) { XCTAssertEqual(($0 as? ConfigurationError)?.argument, "hiddenSize") }
        let corpus = try ParallelCorpus(text: "a\tb\n", level: .word)
        XCTAssertThrowsError(try TranslationTrainer(configuration: TranslationConfiguration(), corpus: corpus)) {
            XCTAssertEqual(($0 as? ConfigurationError)?.argument, "level")
        }
    }
}
