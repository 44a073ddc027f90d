import Foundation
import RecurrentCore
import RecurrentLayers
import RecurrentText
import XCTest

/// A word-level language model learns the agreement of the generated sentences' grammar
/// (`GeneratedCorpus.sentences`: the verb agrees in number with its subject, across an optional
/// adjective), and the next-word query reads it back.
final class WordLevelLanguageModelTests: XCTestCase {
    func testAWordLevelModelLearnsAgreementAndAnswersNextWordQueries() throws {
        let configuration = TrainingConfiguration(
            model: .init(cell: .lstm, vocabularySize: 0, embeddingSize: 16, hiddenSize: 48, numLayers: 1),
            level: .word, validationFraction: 0.1, batchSize: 8, sequenceLength: 24, learningRate: 0.01,
            maxSteps: 500, evaluateEvery: 500, seed: 3)
        let corpus = try TextCorpus(text: GeneratedCorpus.sentences(lines: 1200, seed: 5), source: "sentences",
                                    configuration: configuration.corpusConfiguration)
        // Words, single spaces, "." and "\n" are the tokens.
        XCTAssertEqual(corpus.vocabulary.level, .word)
        XCTAssertTrue(corpus.vocabulary.tokens.contains("foxes") && corpus.vocabulary.tokens.contains(" "))
        let trainer = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: nil)
        let summary = try trainer.train()
        let loss = try XCTUnwrap(summary.validationLoss)
        // Uniform guessing over the vocabulary: ln V ≈ 3.6 nats. The grammar's own entropy is about
        // 13.2 nats per sentence of about 15 tokens, 0.9 nats per token: the floor. Measured 1.00 here.
        XCTAssertLessThan(loss, 1.15, "validation loss \(loss) nats per token")

        let generator = try TextGenerator(model: trainer.model, vocabulary: corpus.vocabulary)
        let singular = ["sees", "likes", "chases", "finds", "follows"], plural = ["see", "like", "chase", "find", "follow"]
        // Each query follows a complete sentence, as the lines of the text follow one another.
        let before = "the cat sees a dog.\n"
        for (subject, expected, other) in [("two old foxes ", plural, singular), ("a red cat ", singular, plural),
                                           ("every dog ", singular, plural), ("many birds ", plural, singular)] {
            let prime = before + subject
            let next = try generator.mostProbableNextTokens(after: prime, count: corpus.vocabulary.count)
            XCTAssertEqual(next.map(\.probability).reduce(0, +), 1, accuracy: 1e-9)
            let right = next.filter { expected.contains($0.token) }.map(\.probability).reduce(0, +)
            let wrong = next.filter { other.contains($0.token) }.map(\.probability).reduce(0, +)
            XCTAssertGreaterThan(right, 0.8, "'\(prime)___': \(next.prefix(5))")
            XCTAssertLessThan(wrong, 0.1, "'\(prime)___': \(next.prefix(5))")
            XCTAssertTrue(expected.contains(next[0].token), "'\(prime)___' → \(next[0])")
        }
        XCTAssertThrowsError(try generator.mostProbableNextTokens(after: "two ", count: 0))
    }
}
