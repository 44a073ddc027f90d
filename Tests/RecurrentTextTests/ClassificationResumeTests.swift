import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentText
import XCTest

/// Resumable checkpoints of `TextClassificationTrainer`: a resumed run is bit-identical to the
/// uninterrupted one (weights, optimizer, batch order, both dropout generators, best epoch); what a
/// resume refuses; divergence.
final class ClassificationResumeTests: XCTestCase {
    private func data(seed: UInt64 = 1) throws -> (TextClassificationDataset, TextClassificationDataset) {
        let all = try TextClassificationDataset(training: SentimentCorpus.examples(count: 300, seed: 1), level: .word,
                                                maxVocabularySize: 500, path: "sentiment")
        return try all.split(validationFraction: 0.2, seed: seed)
    }

    /// A 2-layer GRU with dropout, so that both dropout generators are in play.
    private func trainer(epochs: Int, learningRate: Float = 0.01, outputDirectory: URL? = nil) throws -> TextClassificationTrainer {
        let (training, _) = try data()
        var rng = RandomGenerator(seed: 4)
        let model = try TextClassifier(TextClassifierConfiguration(cell: .gru, vocabularySize: training.vocabulary.count, classCount: 2,
                                                                   embeddingSize: 8, hiddenSize: 8, numLayers: 2, pooling: .mean,
                                                                   dropout: 0.3),
                                       vocabulary: training.vocabulary, labels: training.labels, using: &rng)
        return try TextClassificationTrainer(model: model, configuration: .init(epochs: epochs, batchSize: 16, learningRate: learningRate),
                                             outputDirectory: outputDirectory, dataSource: ["data": "sentiment"])
    }

    private func directory(_ label: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func bits(_ model: TextClassifier) -> [String: [UInt32]] {
        Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor.scalars.map(\.bitPattern)) })
    }

    func testResumeIsBitIdentical() throws {
        let (training, validation) = try data()
        let whole = try trainer(epochs: 6)
        let wholeReports = try whole.train(training, validation: validation)
        let run = directory("classify-resume")
        try trainer(epochs: 2, outputDirectory: run).train(training, validation: validation)
        let checkpoint = try TextClassificationTrainingCheckpoint.load(from: run)
        XCTAssertEqual(checkpoint.state.epoch, 2)
        XCTAssertNotNil(checkpoint.bestWeights)
        let resumed = try TextClassificationTrainer(resuming: checkpoint) { $0.training.epochs = 6 }
        let reports = try resumed.train(training, validation: validation, checkpoints: .every(1)) { _ in }
        XCTAssertEqual(bits(resumed.model), bits(whole.model), "weights differ after resume")
        XCTAssertEqual(resumed.bestEpoch, whole.bestEpoch)
        XCTAssertEqual(reports.map(\.epoch), [3, 4, 5, 6])
        XCTAssertEqual(reports.map(\.trainingLoss.bitPattern), wholeReports.suffix(4).map(\.trainingLoss.bitPattern))
        XCTAssertEqual(reports.map(\.isBest), wholeReports.suffix(4).map(\.isBest))
        let optimizerBits = { (t: TextClassificationTrainer) in t.optimizer.stateDict().map { $0.tensor.scalars.map(\.bitPattern) } }
        XCTAssertEqual(optimizerBits(resumed), optimizerBits(whole))
        XCTAssertEqual(try TextClassificationTrainingCheckpoint.load(from: run).state.epoch, 6)
    }

    func testResumeRefusesOtherSettingsAndOtherData() throws {
        let (training, validation) = try data()
        let run = directory("classify-checks")
        try trainer(epochs: 1, outputDirectory: run).train(training, validation: validation)
        let checkpoint = try TextClassificationTrainingCheckpoint.load(from: run)
        XCTAssertThrowsError(try TextClassificationTrainer(resuming: checkpoint) { $0.training.learningRate = 0.5 }) { error in
            XCTAssertEqual(error as? CheckpointError, .configurationChanged(field: "training.learningRate", saved: "0.01", given: "0.5"))
        }
        XCTAssertThrowsError(try TextClassificationTrainer(resuming: checkpoint) { $0.model.hiddenSize = 9 }) { error in
            XCTAssertEqual(error as? CheckpointError, .configurationChanged(field: "model.hiddenSize", saved: "8", given: "9"))
        }
        // Another split of the same texts is other data.
        let (otherTraining, otherValidation) = try data(seed: 2)
        let resumed = try TextClassificationTrainer(resuming: checkpoint) { $0.training.epochs = 2 }
        XCTAssertThrowsError(try resumed.train(otherTraining, validation: otherValidation)) { error in
            XCTAssertEqual(error.localizedDescription, "cannot resume from checkpoint '\(checkpoint.directory.path)': "
                           + "'sentiment' is not the data it was trained on")
        }
        XCTAssertThrowsError(try trainer(epochs: 1, outputDirectory: run)) { error in
            XCTAssertEqual(error as? CheckpointError, .outputDirectoryInUse(path: run.standardizedFileURL.path))
        }
    }

    /// --lr 1e6: the first update wrecks the weights, the second step's loss shows it; the checkpoint
    /// of epoch 1 (one batch per epoch) was held back, so nothing is on disk.
    func testADivergingRunStopsAndSavesNothingWrecked() throws {
        let (training, validation) = try data()
        let run = directory("classify-diverge")
        var rng = RandomGenerator(seed: 4)
        let model = try TextClassifier(TextClassifierConfiguration(vocabularySize: training.vocabulary.count, classCount: 2,
                                                                   embeddingSize: 8, hiddenSize: 8),
                                       vocabulary: training.vocabulary, labels: training.labels, using: &rng)
        let trainer = try TextClassificationTrainer(model: model, configuration: .init(epochs: 5, batchSize: 1000, learningRate: 1e6),
                                                    outputDirectory: run)
        XCTAssertThrowsError(try trainer.train(training, validation: validation, checkpoints: .every(1)) { _ in }) { error in
            XCTAssertEqual((error as? TrainingDivergence)?.step, 2, "\(error)")
        }
        XCTAssertNil(try CheckpointStore(runDirectory: run).checkpoint(.latest))
    }
}
