import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentText
import XCTest
import RecurrentTestSupport

final class GenerationTests: XCTestCase {
    private typealias F = GenerationFixtures

    private func characterSetup(seed: UInt64 = 11) throws -> (LanguageModel, Vocabulary) {
        let vocabulary = Vocabulary.characters(of: F.text)
        return (try F.randomModel(vocabularySize: vocabulary.count, seed: seed), vocabulary)
    }

    // MARK: Determinism

    func testSameSeedGivesIdenticalIdsTextAndStreamAndDifferentSeedsDiffer() throws {
        let (model, vocabulary) = try characterSetup()
        func run(seed: UInt64) throws -> (GeneratedText, [GeneratedToken]) {
            let generator = try TextGenerator(model: model, vocabulary: vocabulary,
                                              options: .init(temperature: 1.2, seed: seed))
            var streamed: [GeneratedToken] = []
            let result = try generator.generate(prime: "the ", length: 60) { streamed.append($0) }
            return (result, streamed)
        }
        let (a, streamA) = try run(seed: 7)
        let (b, streamB) = try run(seed: 7)
        XCTAssertEqual(a, b)
        XCTAssertEqual(streamA, streamB)
        XCTAssertEqual(a.ids.count, 60)
        XCTAssertEqual(a.contextIDs, try vocabulary.encode("the "))
        XCTAssertEqual(a.text, vocabulary.decode(a.ids))
        XCTAssertEqual(a.bytes, Array(a.text.utf8))
        // The stream is the result, token by token, in order.
        XCTAssertEqual(streamA.map(\.index), Array(0..<60))
        XCTAssertEqual(streamA.map(\.id), a.ids)
        XCTAssertEqual(streamA.map(\.text).joined(), a.text)
        XCTAssertEqual(streamA.flatMap(\.bytes), a.bytes)

        let (c, _) = try run(seed: 8)
        XCTAssertNotEqual(a.ids, c.ids)
    }

    func testSuccessiveCallsContinueTheRandomStreamAndSavedStateReplaysIt() throws {
        let (model, vocabulary) = try characterSetup()
        let generator = try TextGenerator(model: model, vocabulary: vocabulary, options: .init(seed: 3))
        let saved = generator.random
        let first = try generator.generate(prime: "a", length: 30)
        let second = try generator.generate(prime: "a", length: 30)
        XCTAssertNotEqual(first.ids, second.ids)
        generator.random = saved
        XCTAssertEqual(try generator.generate(prime: "a", length: 30), first)
    }

    func testLogProbabilityOfSampleMatchesIndependentRecomputation() throws {
        let (model, vocabulary) = try characterSetup()
        let generator = try TextGenerator(model: model, vocabulary: vocabulary,
                                          options: .init(temperature: 0.7, topK: 5, seed: 1))
        let result = try generator.generate(prime: "jumps", length: 40)
        let expected = F.logProbability(of: result.ids, after: result.contextIDs, model: model)
        XCTAssertEqual(result.logProbability, expected,
                       accuracy: F.logProbabilityAccuracy(count: result.ids.count, context: result.contextIDs.count, model: model))
        XCTAssertLessThan(result.logProbability, 0)
    }

    // MARK: Greedy

    /// Each generated id is the argmax of the logits predicting it, recomputed by one call over the
    /// whole sequence. Rows whose two largest logits are within 1e-4 are only required to pick a
    /// maximum within that margin (the two paths may round differently).
    private func assertGreedy(_ result: GeneratedText, model: LanguageModel, file: StaticString = #filePath, line: UInt = #line) {
        let rows = F.logitsPredicting(result.ids, after: result.contextIDs, model: model)
        var decisive = 0
        for (row, id) in zip(rows, result.ids) {
            let maximum = row.max()!
            let argmax = row.firstIndex(of: maximum)!
            let runnerUp = row.enumerated().filter { $0.offset != argmax }.map(\.element).max() ?? -.infinity
            if maximum - runnerUp > 1e-4 {
                XCTAssertEqual(id, argmax, file: file, line: line)
                decisive += 1
            } else {
                XCTAssertGreaterThanOrEqual(row[id], maximum - 1e-4, file: file, line: line)
            }
        }
        XCTAssertGreaterThan(decisive, result.ids.count / 2, "too few decisive rows to test anything", file: file, line: line)
    }

    func testZeroAndTinyTemperatureAreGreedyArgmaxOfTheLogits() throws {
        for cell in [LanguageModel.Cell.lstm, .gru] {
            let vocabulary = Vocabulary.characters(of: F.text)
            let model = try F.randomModel(cell, vocabularySize: vocabulary.count)
            var results: [GeneratedText] = []
            for (temperature, seed) in [(Float(0), UInt64(1)), (1e-6, 2), (TextGenerator.greedyTemperature / 2, 3)] {
                let generator = try TextGenerator(model: model, vocabulary: vocabulary,
                                                  options: .init(temperature: temperature, seed: seed))
                let result = try generator.generate(prime: "over", length: 40)
                assertGreedy(result, model: model)
                results.append(result)
            }
            // Greedy ignores the seed.
            XCTAssertEqual(results[0], results[1])
            XCTAssertEqual(results[0], results[2])
        }
    }

    func testTopKOneIsGreedyAtAnyTemperature() throws {
        let (model, vocabulary) = try characterSetup()
        let greedy = try TextGenerator(model: model, vocabulary: vocabulary, options: .init(temperature: 0))
            .generate(prime: "lazy", length: 40)
        for (temperature, seed) in [(Float(1), UInt64(5)), (3, 6)] {
            let topOne = try TextGenerator(model: model, vocabulary: vocabulary,
                                           options: .init(temperature: temperature, topK: 1, seed: seed))
                .generate(prime: "lazy", length: 40)
            XCTAssertEqual(topOne.ids, greedy.ids)
        }
        assertGreedy(greedy, model: model)
    }

    func testGreedyBreaksTiesTowardsTheLowestId() throws {
        let model = try F.constantModel(logits: [1, 3, 3, 2])
        let vocabulary = Vocabulary.characters(of: "abcd")
        let result = try TextGenerator(model: model, vocabulary: vocabulary, options: .init(temperature: 0))
            .generate(prime: "a", length: 5)
        XCTAssertEqual(result.ids, [1, 1, 1, 1, 1])
        XCTAssertEqual(result.text, "bbbbb")
        let p = F.softmax([1, 3, 3, 2])[1]
        XCTAssertEqual(result.logProbability, 5 * log(p), accuracy: 1e-5)
    }

    // MARK: Prime handling

    func testLongPrimeRunInWindowsEqualsOneCallOverTheWholeSequence() throws {
        let (model, vocabulary) = try characterSetup()
        let prime = String(repeating: F.text, count: 2 * TextGenerator.primeWindow / F.text.count + 1)
        XCTAssertGreaterThan(prime.count, 2 * TextGenerator.primeWindow)
        let result = try TextGenerator(model: model, vocabulary: vocabulary, options: .init(temperature: 0))
            .generate(prime: prime, length: 20)
        XCTAssertEqual(result.contextIDs.count, prime.count)
        assertGreedy(result, model: model)
        XCTAssertEqual(result.logProbability, F.logProbability(of: result.ids, after: result.contextIDs, model: model),
                       accuracy: F.logProbabilityAccuracy(count: result.ids.count, context: result.contextIDs.count, model: model))
    }

    func testPrimeWithUnknownCharacterIsAVocabularyError() throws {
        let (model, vocabulary) = try characterSetup()
        let generator = try TextGenerator(model: model, vocabulary: vocabulary)
        XCTAssertThrowsError(try generator.generate(prime: "the\nfox!", length: 5)) { error in
            XCTAssertEqual(error as? VocabularyError,
                           .unknownCharacter("!", line: 2, column: 4, vocabularySize: vocabulary.count))
        }
    }

    func testPrimeIdsOutOfRangeAndMismatchedVocabularyAreConfigurationErrors() throws {
        let (model, vocabulary) = try characterSetup()
        let generator = try TextGenerator(model: model, vocabulary: vocabulary)
        XCTAssertThrowsError(try generator.generate(primeIDs: [0, vocabulary.count], length: 5)) { error in
            XCTAssertEqual(error as? ConfigurationError, ConfigurationError(
                argument: "prime", reason: "token id \(vocabulary.count) at position 1 is outside 0..<\(vocabulary.count)"))
        }
        XCTAssertThrowsError(try TextGenerator(model: model, vocabulary: .characters(of: "abc"))) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "vocabulary")
            XCTAssertEqual(error.localizedDescription,
                           "invalid vocabulary: has 3 tokens but the model has vocabularySize \(vocabulary.count)")
        }
    }

    func testEmptyPrimeStartsFromTheNewlineToken() throws {
        let (model, vocabulary) = try characterSetup()
        let newline = try vocabulary.encode("\n")[0]
        let generator = try TextGenerator(model: model, vocabulary: vocabulary, options: .init(seed: 9))
        XCTAssertEqual(generator.newlineID, newline)
        let fromEmpty = try generator.generate(prime: "", length: 20)
        XCTAssertEqual(fromEmpty.contextIDs, [newline])
        let fromNewline = try TextGenerator(model: model, vocabulary: vocabulary, options: .init(seed: 9))
            .generate(prime: "\n", length: 20)
        XCTAssertEqual(fromEmpty, fromNewline)
        XCTAssertEqual(try TextGenerator(model: try F.randomModel(vocabularySize: 256), vocabulary: .bytes).newlineID, 10)
    }

    func testEmptyPrimeWithoutNewlineDrawsTheStartTokenFromTheSeed() throws {
        let vocabulary = Vocabulary.characters(of: "abcdefgh")
        let model = try F.randomModel(vocabularySize: vocabulary.count)
        func run(_ seed: UInt64) throws -> GeneratedText {
            let generator = try TextGenerator(model: model, vocabulary: vocabulary, options: .init(temperature: 0, seed: seed))
            XCTAssertNil(generator.newlineID)
            return try generator.generate(prime: "", length: 10)
        }
        XCTAssertEqual(try run(4), try run(4))
        var expected = RandomGenerator(seed: 4)
        XCTAssertEqual(try run(4).contextIDs, [expected.nextInt(below: vocabulary.count)])
        let starts = Set(try (0..<20).map { try run(UInt64($0)).contextIDs[0] })
        XCTAssertGreaterThan(starts.count, 3)
    }

    // MARK: Levels

    func testWordLevelTextIsTheConcatenationOfTokens() throws {
        let vocabulary = try Vocabulary.words(of: "one two three, two one.\nthree two one!\n", maxSize: 5)
        let model = try F.randomModel(vocabularySize: vocabulary.count)
        var streamed = ""
        let result = try TextGenerator(model: model, vocabulary: vocabulary, options: .init(seed: 2))
            .generate(prime: "one two unseen", length: 50) { streamed += $0.text }
        // Unknown words in a word-level prime become <unk>.
        XCTAssertEqual(result.contextIDs.last, 0)
        XCTAssertEqual(result.text, result.ids.map { vocabulary.tokens[$0] }.joined())
        XCTAssertEqual(streamed, result.text)
        XCTAssertEqual(result.bytes, Array(result.text.utf8))
    }

    func testByteLevelKeepsExactBytesAndStreamsLossyText() throws {
        let model = try F.randomModel(vocabularySize: 256, hidden: 6)
        let generator = try TextGenerator(model: model, vocabulary: .bytes, options: .init(temperature: 1.5, seed: 4))
        var streamed: [GeneratedToken] = []
        let result = try generator.generate(prime: "é", length: 300) { streamed.append($0) }
        XCTAssertEqual(result.contextIDs, [0xC3, 0xA9])
        XCTAssertEqual(result.bytes, result.ids.map(UInt8.init))
        XCTAssertEqual(streamed.flatMap(\.bytes), result.bytes)
        XCTAssertEqual(result.text, String(decoding: result.bytes, as: UTF8.self))
        XCTAssertEqual(streamed.map(\.text).joined(), result.text)
        // A random byte model emits invalid UTF-8, so the display text really is lossy here.
        XCTAssertTrue(result.text.unicodeScalars.contains("\u{FFFD}"))
    }

    // MARK: Mode and validation

    func testRunsInEvaluationModeWithoutTouchingGlobalRandomAndRestoresTheMode() throws {
        let vocabulary = Vocabulary.characters(of: F.text)
        let model = try F.randomModel(vocabularySize: vocabulary.count, layers: 3, dropout: 0.5)
        model.isTraining = false
        let evaluation = try TextGenerator(model: model, vocabulary: vocabulary, options: .init(seed: 5))
            .generate(prime: "the", length: 30)
        model.isTraining = true
        GlobalRandom.seed(123)
        let before = GlobalRandom.state
        let training = try TextGenerator(model: model, vocabulary: vocabulary, options: .init(seed: 5))
            .generate(prime: "the", length: 30)
        XCTAssertEqual(training, evaluation, "dropout must be off while generating")
        XCTAssertTrue(model.isTraining)
        XCTAssertEqual(GlobalRandom.state, before)
        XCTAssertEqual(model.parameters.compactMap(\.grad).count, 0)
    }

    func testInvalidOptionsAndLengthAreNamed() throws {
        let (model, vocabulary) = try characterSetup()
        let cases: [(TextGenerator.Options, String)] = [
            (.init(temperature: -0.5), "temperature"), (.init(temperature: .nan), "temperature"),
            (.init(temperature: .infinity), "temperature"), (.init(topK: 0), "topK"), (.init(topK: -3), "topK"),
            (.init(beamWidth: 0), "beamWidth"),
        ]
        for (options, argument) in cases {
            XCTAssertThrowsError(try TextGenerator(model: model, vocabulary: vocabulary, options: options)) { error in
                XCTAssertEqual((error as? ConfigurationError)?.argument, argument, "\(options)")
            }
        }
        XCTAssertThrowsError(try TextGenerator.Options(temperature: -1).validate()) { error in
            XCTAssertEqual(error.localizedDescription, "invalid temperature: must be a finite number ≥ 0, got -1.0")
        }
        let generator = try TextGenerator(model: model, vocabulary: vocabulary)
        XCTAssertThrowsError(try generator.generate(prime: "the", length: -1)) { error in
            XCTAssertEqual(error as? ConfigurationError, ConfigurationError(argument: "length", reason: "must be at least 0, got -1"))
        }
        let empty = try generator.generate(prime: "the", length: 0) { _ in XCTFail("no tokens expected") }
        XCTAssertEqual(empty.ids, [])
        XCTAssertEqual(empty.text, "")
    }

    func testNonFiniteLogitsStopWithAnError() throws {
        let model = try F.constantModel(logits: [0, .nan, 1])
        let vocabulary = Vocabulary.characters(of: "abc")
        for options in [TextGenerator.Options(), .init(temperature: 0), .init(beamWidth: 2)] {
            XCTAssertThrowsError(try TextGenerator(model: model, vocabulary: vocabulary, options: options)
                .generate(prime: "a", length: 3)) { error in
                XCTAssertEqual(error as? GenerationError, .nonFiniteLogits(step: 0))
            }
        }
    }

    func testAnErrorThrownByTheCallbackStopsGeneration() throws {
        struct Stop: Error {}
        let (model, vocabulary) = try characterSetup()
        var calls = 0
        XCTAssertThrowsError(try TextGenerator(model: model, vocabulary: vocabulary).generate(prime: "a", length: 50) { _ in
            calls += 1
            if calls == 3 { throw Stop() }
        }) { XCTAssertTrue($0 is Stop) }
        XCTAssertEqual(calls, 3)
        XCTAssertTrue(model.isTraining, "the mode is restored on error too")
    }
}
