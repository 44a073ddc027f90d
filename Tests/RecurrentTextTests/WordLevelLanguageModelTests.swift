import Foundation
import RecurrentCore
import RecurrentLayers
import RecurrentText
import XCTest
import RecurrentTestSupport

/// A word-level language model learns the agreement of the generated sentences' grammar
/// (`GeneratedCorpus.sentences`: the verb agrees in number with its subject, across an optional
/// adjective), and the next-word query reads it back.
final class WordLevelLanguageModelTests: XCTestCase {
    /// One next-word query: the probability on the verbs that agree with the subject, on those that do
    /// not, and whether the most probable word agrees.
    struct Query {
        var prime: String
        var right: Double
        var wrong: Double
        var topAgrees: Bool
        var total: Double
        var top: [(token: String, probability: Double)]
    }

    /// Trains the word-level LSTM with `seed` (initialisation and batches; the corpus is fixed) and asks
    /// the four next-word queries.
    static func agreement(seed: UInt64) throws -> (loss: Double, queries: [Query], corpus: TextCorpus, generator: TextGenerator) {
        let configuration = TrainingConfiguration(
            model: .init(cell: .lstm, vocabularySize: 0, embeddingSize: 16, hiddenSize: 48, numLayers: 1),
            level: .word, validationFraction: 0.1, batchSize: 8, sequenceLength: 24, learningRate: 0.01,
            maxSteps: 500, evaluateEvery: 500, seed: seed)
        let corpus = try TextCorpus(text: GeneratedCorpus.sentences(lines: 1200, seed: 5), source: "sentences",
                                    configuration: configuration.corpusConfiguration)
        let trainer = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: nil)
        let summary = try trainer.train()
        let loss = try XCTUnwrap(summary.validationLoss)
        let generator = try TextGenerator(model: trainer.model, vocabulary: corpus.vocabulary)
        let singular = ["sees", "likes", "chases", "finds", "follows"], plural = ["see", "like", "chase", "find", "follow"]
        // Each query follows a complete sentence, as the lines of the text follow one another.
        let before = "the cat sees a dog.\n"
        let queries = try [("two old foxes ", plural, singular), ("a red cat ", singular, plural),
                           ("every dog ", singular, plural), ("many birds ", plural, singular)].map { subject, expected, other in
            let prime = before + subject
            let next = try generator.mostProbableNextTokens(after: prime, count: corpus.vocabulary.count)
            return Query(prime: prime, right: next.filter { expected.contains($0.token) }.map(\.probability).reduce(0, +),
                         wrong: next.filter { other.contains($0.token) }.map(\.probability).reduce(0, +),
                         topAgrees: expected.contains(next[0].token), total: next.map(\.probability).reduce(0, +),
                         top: next.prefix(5).map { ($0.token, $0.probability) })
        }
        return (loss, queries, corpus, generator)
    }

    func testAWordLevelModelLearnsAgreementAndAnswersNextWordQueries() throws {
        let run = try Self.agreement(seed: 3)
        // Words, single spaces, "." and "\n" are the tokens.
        XCTAssertEqual(run.corpus.vocabulary.level, .word)
        XCTAssertTrue(run.corpus.vocabulary.tokens.contains("foxes") && run.corpus.vocabulary.tokens.contains(" "))
        // Uniform guessing over the vocabulary: ln V ≈ 3.6 nats. The grammar's own entropy is about
        // 13.2 nats per sentence of about 15 tokens, 0.9 nats per token: the floor. Thresholds inside
        // the margins over 20 seeds (docs/learning-margins.md).
        XCTAssertLessThan(run.loss, 1.15, "validation loss \(run.loss) nats per token")
        for query in run.queries {
            XCTAssertEqual(query.total, 1, accuracy: 1e-9)
            XCTAssertGreaterThan(query.right, 0.8, "'\(query.prime)___': \(query.top)")
            XCTAssertLessThan(query.wrong, 0.1, "'\(query.prime)___': \(query.top)")
            XCTAssertTrue(query.topAgrees, "'\(query.prime)___' → \(query.top[0])")
        }
        XCTAssertThrowsError(try run.generator.mostProbableNextTokens(after: "two ", count: 0))
    }

    func testMarginsOverSeeds() throws {
        try LearningMargins.sweep("word agreement") { seed in
            let run = try Self.agreement(seed: seed)
            return [("validation loss", run.loss), ("least right", run.queries.map(\.right).min()!),
                    ("most wrong", run.queries.map(\.wrong).max()!),
                    ("top agrees", Double(run.queries.filter(\.topAgrees).count))]
        }
    }
}
