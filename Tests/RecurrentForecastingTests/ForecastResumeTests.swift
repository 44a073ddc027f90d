import Foundation
import XCTest
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentFormats
import RecurrentForecasting

/// Resumable checkpoints of `ForecastTrainer`: a resumed run is bit-identical to the uninterrupted
/// one (weights, best epoch, early stopping, scores); what a resume refuses; divergence.
final class ForecastResumeTests: XCTestCase {
    /// 120 monthly-like values: a trend, a season of 6 and seeded noise.
    private func series(noiseSeed: UInt64 = 5) -> ForecastSeries {
        var rng = RandomGenerator(seed: noiseSeed)
        let values = (0..<120).map { t in 20 + 0.2 * Double(t) + 3 * sin(2 * Double.pi * Double(t) / 6) + 0.5 * Double(rng.nextNormal()) }
        return ForecastSeries(names: ["y"], channels: [values])
    }

    private func configuration(epochs: Int, patience: Int? = nil, cell: ForecastModelConfiguration.Cell = .gru) -> ForecastConfiguration {
        ForecastConfiguration(columns: ForecastColumns(target: "y"),
                              model: ForecastModelConfiguration(cell: cell, channelCount: 1, window: 12, horizon: 3, hiddenSize: 8),
                              epochs: epochs, batchSize: 16, learningRate: 0.01, patience: patience, seed: 3)
    }

    private func directory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func bits(_ result: ForecastTrainingResult) -> [String: [UInt32]] {
        Dictionary(uniqueKeysWithValues: result.forecaster.model.stateDict().map { ($0.name, $0.tensor.scalars.map(\.bitPattern)) })
    }

    /// Trains `epochs` uninterrupted, and `split` epochs + a resume from the latest checkpoint to
    /// `epochs`; everything the result holds must agree exactly.
    private func assertResumeIsExact(split: Int, epochs: Int, patience: Int? = nil, cell: ForecastModelConfiguration.Cell = .gru,
                                     file: StaticString = #filePath, line: UInt = #line) throws -> ForecastTrainingResult {
        let whole = try ForecastTrainer(configuration: configuration(epochs: epochs, patience: patience, cell: cell), series: series()).train()
        let run = try directory("forecast-resume")
        let first = try ForecastTrainer(configuration: configuration(epochs: split, patience: patience, cell: cell), series: series(),
                                        outputDirectory: run, dataSource: ["csv": "synthetic"])
        _ = try first.train(checkpoints: .every(2))
        let checkpoint = try ForecastTrainingCheckpoint.load(from: run)
        XCTAssertEqual(checkpoint.state.epoch, min(split, whole.epochsRun), file: file, line: line)
        XCTAssertEqual(checkpoint.data, ["csv": "synthetic"], file: file, line: line)
        let resumed = try ForecastTrainer(resuming: checkpoint, series: series()) { $0.epochs = epochs }.train(checkpoints: .every(2))
        XCTAssertEqual(bits(resumed), bits(whole), "weights differ after resume", file: file, line: line)
        XCTAssertEqual(resumed.bestEpoch, whole.bestEpoch, file: file, line: line)
        XCTAssertEqual(resumed.epochsRun, whole.epochsRun, file: file, line: line)
        XCTAssertEqual(resumed.bestValidationLoss.bitPattern, whole.bestValidationLoss.bitPattern, file: file, line: line)
        XCTAssertEqual(resumed.test, whole.test, file: file, line: line)
        XCTAssertEqual(resumed.forecaster.interval, whole.forecaster.interval, file: file, line: line)
        // The resumed run's last checkpoint is the uninterrupted run's end.
        XCTAssertEqual(try ForecastTrainingCheckpoint.load(from: run).state.epoch, whole.epochsRun, file: file, line: line)
        return whole
    }

    func testResumeIsBitIdentical() throws {
        let whole = try assertResumeIsExact(split: 7, epochs: 16)
        XCTAssertEqual(whole.epochsRun, 16)
        _ = try assertResumeIsExact(split: 3, epochs: 8, cell: .narx)
    }

    /// Early stopping: the patience counter (epochs since the best) survives the resume, so the
    /// resumed run stops at the same epoch.
    func testEarlyStoppingIsResumedExactly() throws {
        let whole = try ForecastTrainer(configuration: configuration(epochs: 400, patience: 3), series: series()).train()
        XCTAssertLessThan(whole.epochsRun, 400, "the run must stop early for the test to mean something")
        XCTAssertEqual(whole.epochsRun, whole.bestEpoch + 3)
        // Interrupted one epoch before the stop, after the best epoch: patience partly used.
        _ = try assertResumeIsExact(split: whole.epochsRun - 1, epochs: 400, patience: 3)
    }

    func testResumeRefusesOtherSettingsOtherDataAndABusyDirectory() throws {
        let run = try directory("forecast-checks")
        _ = try ForecastTrainer(configuration: configuration(epochs: 2), series: series(), outputDirectory: run).train()
        let checkpoint = try ForecastTrainingCheckpoint.load(from: run)
        XCTAssertThrowsError(try ForecastTrainer(resuming: checkpoint, series: series()) { $0.learningRate = 0.5 }) { error in
            XCTAssertEqual(error.localizedDescription, "cannot resume with learningRate = 0.5: the checkpoint was trained with learningRate = 0.01")
        }
        XCTAssertThrowsError(try ForecastTrainer(resuming: checkpoint, series: series()) { $0.model.hiddenSize = 9 }) { error in
            XCTAssertEqual(error as? CheckpointError, .configurationChanged(field: "model.hiddenSize", saved: "8", given: "9"))
        }
        XCTAssertThrowsError(try ForecastTrainer(resuming: checkpoint, series: series(noiseSeed: 6))) { error in
            XCTAssertEqual(error.localizedDescription, "cannot resume from checkpoint '\(checkpoint.directory.path)': "
                           + "'the series' is not the data it was trained on")
        }
        XCTAssertNoThrow(try ForecastTrainer(resuming: checkpoint, series: series()) { $0.epochs = 9; $0.patience = 4 })
        XCTAssertThrowsError(try ForecastTrainer(configuration: configuration(epochs: 2), series: series(), outputDirectory: run)) { error in
            XCTAssertEqual(error as? CheckpointError, .outputDirectoryInUse(path: run.standardizedFileURL.path))
        }
        // The checkpoint's files: model, optimizer, best weights, state, configuration.
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: checkpoint.directory.path)),
                       ["config.json", "model.safetensors", "optimizer.safetensors", "best.safetensors", "state.json"])
        XCTAssertEqual(checkpoint.state.step, 2 * 5, "2 epochs of 5 batches (70 origins by 16)")
    }

    /// `--lr 1e6`: with one batch per epoch, the update of step 1 wrecks the weights and step 2's
    /// loss shows it. The checkpoint of epoch 1 was held back, so nothing is on disk.
    func testADivergingRunStopsAndSavesNothingWrecked() throws {
        var diverging = configuration(epochs: 50)
        diverging.learningRate = 1e6
        diverging.batchSize = 1000
        let run = try directory("forecast-diverge")
        let trainer = try ForecastTrainer(configuration: diverging, series: series(), outputDirectory: run)
        XCTAssertThrowsError(try trainer.train(checkpoints: .every(1))) { error in
            guard let divergence = error as? TrainingDivergence else { return XCTFail("\(error)") }
            XCTAssertEqual(divergence.step, 2)
        }
        XCTAssertNil(try CheckpointStore(runDirectory: run).checkpoint(.latest))
    }

    /// A write failure at the first checkpoint (a full disk) under the run's lock: the error comes
    /// through and the directory the lock created is gone again.
    func testAFailedFirstWriteLeavesNoDirectory() throws {
        let run = try directory("forecast-full")
        let lock = try RunDirectoryLock(directory: run)
        let trainer = try ForecastTrainer(configuration: configuration(epochs: 2), series: series(), outputDirectory: run)
        let full = FileWriteError(path: "model.safetensors", reason: "writing temporary file: No space left on device")
        trainer.checkpointStore?.faultInjection = { stage in if case .wroteFile = stage { throw full } }
        XCTAssertThrowsError(try trainer.train()) { XCTAssertEqual($0 as? FileWriteError, full) }
        lock.release()
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.path))
    }
}
