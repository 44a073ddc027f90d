import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentText
import XCTest
import RecurrentTestSupport

/// Learning on the generated sentiment corpus: a small recurrent classifier beats the bag-of-words
/// baseline by a wide margin on a held-out set (a bounded run: about 4 s in a debug build).
final class ClassificationLearningTests: XCTestCase {
    /// The GRU classifier trained with `seed` (initialisation and batch order; the data and its split
    /// are fixed) and the bag-of-words baseline, both judged on 600 held-out sentences.
    static func sentiment(seed: UInt64) throws
        -> (rnn: ClassificationMetrics, bow: ClassificationMetrics, firstLoss: Double, lastLoss: Double, epochs: Int) {
        let data = try TextClassificationDataset(training: SentimentCorpus.examples(count: 1600, seed: 1), level: .word,
                                                 maxVocabularySize: 1000, path: "sentiment")
        let test = try TextClassificationDataset(SentimentCorpus.examples(count: 600, seed: 2), vocabulary: data.vocabulary,
                                                 labels: data.labels)
        let (training, validation) = try data.split(validationFraction: 0.15, seed: 1)
        var rng = RandomGenerator(seed: seed)
        let model = try TextClassifier(TextClassifierConfiguration(cell: .gru, vocabularySize: data.vocabulary.count, classCount: 2,
                                                                   embeddingSize: 16, hiddenSize: 32),
                                       vocabulary: data.vocabulary, labels: data.labels, using: &rng)
        let trainer = try TextClassificationTrainer(model: model, configuration: .init(epochs: 4, batchSize: 32, learningRate: 0.01,
                                                                                       seed: seed))
        let epochs = try trainer.train(training, validation: validation)
        let rnn = TextClassificationTrainer.evaluate(model, on: test).metrics
        let bow = try BagOfWordsClassifier(training: training, validation: validation).evaluate(on: test)
        return (rnn, bow, Double(epochs.first!.trainingLoss), Double(epochs.last!.trainingLoss), epochs.count)
    }

    func testRecurrentClassifierBeatsBagOfWordsOnGeneratedSentiment() throws {
        let run = try Self.sentiment(seed: 1)
        XCTAssertEqual(run.epochs, 4)
        XCTAssertLessThan(run.lastLoss, run.firstLoss)
        // A linear model of the words present cannot represent negation (an XOR) or which clause of
        // "A but B" comes last. Thresholds inside the margins over 20 seeds (docs/learning-margins.md).
        XCTAssertGreaterThan(run.rnn.accuracy, 0.95, "recurrent accuracy")
        XCTAssertGreaterThan(run.rnn.macroF1, 0.95, "recurrent macro-F1")
        XCTAssertLessThan(run.bow.accuracy, 0.8, "bag-of-words accuracy")
        XCTAssertGreaterThan(run.bow.accuracy, 0.55, "the baseline learns the plain clauses")
        XCTAssertGreaterThan(run.rnn.accuracy - run.bow.accuracy, 0.2)
    }

    func testMarginsOverSeeds() throws {
        try LearningMargins.sweep("sentiment") { seed in
            let run = try Self.sentiment(seed: seed)
            return [("gru accuracy", run.rnn.accuracy), ("gru macro-F1", run.rnn.macroF1), ("bow accuracy", run.bow.accuracy),
                    ("gru - bow", run.rnn.accuracy - run.bow.accuracy), ("last/first loss", run.lastLoss / run.firstLoss)]
        }
    }
}
