import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentText
import XCTest

/// Resumable checkpoints of `TranslationTrainer`: a run resumed mid-epoch, at an epoch's end or
/// after changing the number of steps is bit-identical to the uninterrupted one; what a resume
/// refuses; divergence.
final class TranslationResumeTests: XCTestCase {
    /// 30 training pairs: 4 batches (8, 8, 8, 6) per epoch.
    private func corpus(seed: UInt64 = 2) throws -> ParallelCorpus {
        try ParallelCorpus(text: try GeneratedTranslationTask.mirror.text(count: 40, seed: seed, lengths: 2...5), level: .word)
    }

    private func configuration(steps: Int, learningRate: Float = 0.005) -> TranslationConfiguration {
        var configuration = TranslationConfiguration()
        configuration.level = .word
        configuration.hiddenSize = 12
        configuration.embeddingSize = 8
        configuration.steps = steps
        configuration.batchSize = 8
        configuration.validationFraction = 0.25
        configuration.learningRate = learningRate
        return configuration
    }

    private func directory(_ label: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func bits(_ result: TranslationTrainer.Result) -> [String: [UInt32]] {
        Dictionary(uniqueKeysWithValues: result.translator.model.stateDict().map { ($0.name, $0.tensor.scalars.map(\.bitPattern)) })
    }

    func testResumeIsBitIdentical() throws {
        var wholeReports: [TranslationTrainer.Progress] = []
        let whole = try TranslationTrainer(configuration: configuration(steps: 22), corpus: corpus())
            .train(reportInterval: 5) { wholeReports.append($0) }
        // Stopped mid-epoch (step 6 of 4-step epochs), and exactly at an epoch's end (step 8).
        for split in [6, 8] {
            let run = directory("translate-resume")
            _ = try TranslationTrainer(configuration: configuration(steps: split), corpus: corpus(), outputDirectory: run,
                                       dataSource: ["pairs": "mirror"]).train(reportInterval: 5, checkpoints: .every(3))
            let checkpoint = try TranslationTrainingCheckpoint.load(from: run)
            XCTAssertEqual(checkpoint.state.step, split)
            var reports: [TranslationTrainer.Progress] = []
            let resumed = try TranslationTrainer(resuming: checkpoint, corpus: corpus()) { $0.steps = 22 }
                .train(reportInterval: 5, checkpoints: .every(3)) { reports.append($0) }
            XCTAssertEqual(bits(resumed), bits(whole), "split \(split): weights differ after resume")
            XCTAssertEqual(resumed.finalLoss.bitPattern, whole.finalLoss.bitPattern, "split \(split)")
            XCTAssertEqual(resumed.heldOut, whole.heldOut, "split \(split)")
            // The reports after the split, with the losses summed before it carried over.
            let after = wholeReports.filter { $0.step > split }
            XCTAssertEqual(reports.map(\.step), after.map(\.step))
            XCTAssertEqual(reports.map(\.loss.bitPattern), after.map(\.loss.bitPattern), "split \(split)")
            XCTAssertEqual(reports.map(\.epoch), after.map(\.epoch))
            XCTAssertEqual(try TranslationTrainingCheckpoint.load(from: run).state.step, 22)
        }
    }

    func testResumeRefusesOtherSettingsAndAnotherCorpus() throws {
        let run = directory("translate-checks")
        _ = try TranslationTrainer(configuration: configuration(steps: 3), corpus: corpus(), outputDirectory: run).train()
        let checkpoint = try TranslationTrainingCheckpoint.load(from: run)
        XCTAssertThrowsError(try TranslationTrainer(resuming: checkpoint, corpus: corpus()) { $0.hiddenSize = 16 }) { error in
            XCTAssertEqual(error as? CheckpointError, .configurationChanged(field: "hiddenSize", saved: "12", given: "16"))
        }
        XCTAssertThrowsError(try TranslationTrainer(resuming: checkpoint, corpus: corpus(seed: 3))) { error in
            XCTAssertEqual(error as? CheckpointError, .dataMismatch(path: checkpoint.directory.path, reason: "'<text>' is not the data it was trained on"))
        }
        XCTAssertNoThrow(try TranslationTrainer(resuming: checkpoint, corpus: corpus()) { $0.steps = nil; $0.epochs = 3 })
        XCTAssertThrowsError(try TranslationTrainer(configuration: configuration(steps: 3), corpus: corpus(), outputDirectory: run)) { error in
            XCTAssertEqual(error as? CheckpointError, .outputDirectoryInUse(path: run.standardizedFileURL.path))
        }
    }

    /// --lr 1e6: the first update wrecks the weights and the second step's loss shows it; the
    /// checkpoint taken after step 1 was held back, so nothing is on disk.
    func testADivergingRunStopsAndSavesNothingWrecked() throws {
        let run = directory("translate-diverge")
        let trainer = try TranslationTrainer(configuration: configuration(steps: 20, learningRate: 1e6), corpus: corpus(), outputDirectory: run)
        XCTAssertThrowsError(try trainer.train(checkpoints: .every(1))) { error in
            XCTAssertEqual((error as? TrainingDivergence)?.step, 2, "\(error)")
        }
        XCTAssertNil(try CheckpointStore(runDirectory: run).checkpoint(.latest))
    }
}
