import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentFormats
import RecurrentText
import RecurrentTestSupport
import XCTest

final class CheckpointTests: XCTestCase {
    private struct InjectedFault: Error {}

    private func entries(_ directory: URL) throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
    }

    /// Trains the tiny configuration for `steps` steps into a new run directory.
    private func trainedRun(steps: Int = 12, evaluateEvery: Int = 5, _ label: String = "run",
                            configure: (LanguageModelTrainer) -> Void = { _ in }) throws -> (run: URL, trainer: LanguageModelTrainer) {
        var configuration = tinyConfiguration(maxSteps: steps)
        configuration.evaluateEvery = evaluateEvery
        let corpus = try arithmeticCorpus(configuration)
        let run = try makeTemporaryDirectory(self, label)
        let trainer = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: run)
        configure(trainer)
        try trainer.train()
        return (run, trainer)
    }

    /// The corpus of `tinyConfiguration` read with a checkpoint's vocabulary (for resuming).
    private func corpus(for checkpoint: TrainingCheckpoint, seed: UInt64 = 7) throws -> TextCorpus {
        try TextCorpus(text: GeneratedCorpus.arithmetic(lines: 100, seed: seed), source: "arithmetic",
                       configuration: checkpoint.configuration.corpusConfiguration, vocabulary: checkpoint.vocabulary)
    }

    /// Resumes the run in `run` for `more` steps and returns the new trainer.
    @discardableResult
    private func resume(_ run: URL, to steps: Int) throws -> LanguageModelTrainer {
        let checkpoint = try TrainingCheckpoint.load(from: run)
        let trainer = try LanguageModelTrainer(resuming: checkpoint, corpus: corpus(for: checkpoint)) { $0.maxSteps = steps }
        try trainer.train()
        return trainer
    }

    /// Asserts that `checkpoints/` holds the pointers and exactly the directories they name.
    private func assertNoJunk(_ run: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let store = CheckpointStore(runDirectory: run)
        var expected: Set<String> = []
        for pointer in CheckpointPointer.allCases {
            if let target = try store.checkpoint(pointer) {
                expected.insert(pointer.rawValue)
                expected.insert(target.lastPathComponent)
            }
        }
        XCTAssertEqual(try entries(store.checkpointsDirectory), expected, file: file, line: line)
    }

    // MARK: Layout and contents

    func testCheckpointLayoutAndContents() throws {
        let (run, trainer) = try trainedRun()
        let checkpoints = run.appendingPathComponent("checkpoints")
        XCTAssertEqual(try entries(run), ["checkpoints", "metrics.csv", "loss.svg"])
        let latest = try XCTUnwrap(CheckpointStore(runDirectory: run).checkpoint(.latest))
        XCTAssertEqual(latest.lastPathComponent, "step-00000012")
        XCTAssertEqual(try String(contentsOf: checkpoints.appendingPathComponent("latest"), encoding: .utf8), "step-00000012\n")
        try assertNoJunk(run)
        XCTAssertEqual(try entries(latest), ["config.json", "vocabulary.json", "model.safetensors", "optimizer.safetensors",
                                             "carried-state.safetensors", "state.json"])

        // config.json: format, version, the configuration with the real vocabulary size.
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: latest.appendingPathComponent("config.json"))) as? [String: Any])
        XCTAssertEqual(config["format"] as? String, "recurrent.language-model-checkpoint")
        XCTAssertEqual(config["formatVersion"] as? Int, 1)
        XCTAssertEqual(config["step"] as? Int, 12)
        let training = try XCTUnwrap(config["training"] as? [String: Any])
        XCTAssertEqual(training["level"] as? String, "character")
        XCTAssertEqual((training["model"] as? [String: Any])?["vocabularySize"] as? Int, trainer.corpus.vocabulary.count)
        XCTAssertEqual(config["corpusFingerprint"] as? String, String(format: "%016llx", trainer.corpus.fingerprint))
        XCTAssertEqual(try Vocabulary(jsonData: Data(contentsOf: latest.appendingPathComponent("vocabulary.json"))), trainer.corpus.vocabulary)

        // model.safetensors: PyTorch names, loads into a fresh model of the same configuration.
        let weights = try SafetensorsFile(contentsOf: latest.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(Set(weights.names), ["embedding.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0",
                                            "lstm.bias_hh_l0", "lstm.weight_ih_l1", "lstm.weight_hh_l1", "lstm.bias_ih_l1",
                                            "lstm.bias_hh_l1", "head.weight", "head.bias"])
        var rng = RandomGenerator(seed: 99)
        let fresh = try LanguageModel(trainer.configuration.model, using: &rng)
        try fresh.load(from: latest.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(weightBits(fresh), weightBits(trainer.model))

        // The loaded checkpoint: the same weights, state and carried hidden state shapes.
        let checkpoint = try TrainingCheckpoint.load(from: run)
        XCTAssertEqual(checkpoint.directory.path, latest.path)
        XCTAssertEqual(checkpoint.runDirectory?.path, run.standardizedFileURL.path)
        XCTAssertEqual(weightBits(checkpoint.model), weightBits(trainer.model))
        XCTAssertEqual(checkpoint.state, trainer.state)
        XCTAssertEqual(checkpoint.configuration, trainer.configuration)
        XCTAssertTrue(checkpoint.model.isTraining)
        let carried = try SafetensorsFile(contentsOf: latest.appendingPathComponent("carried-state.safetensors"))
        XCTAssertEqual(carried.names, ["c", "h"])
        XCTAssertEqual(carried.info("h")?.shape, [2, 4, 12])
        let optimizer = try SafetensorsFile(contentsOf: latest.appendingPathComponent("optimizer.safetensors"))
        XCTAssertTrue(optimizer.names.contains("optimizer.state.0.exp_avg"))
        XCTAssertTrue(optimizer.names.contains("scheduler.last_epoch"))

        // Every way to name it resolves to the same checkpoint.
        for url in [run, checkpoints, checkpoints.appendingPathComponent("latest"), latest] {
            XCTAssertEqual(try TrainingCheckpoint.resolve(url).checkpoint.path, latest.path, url.path)
        }
    }

    func testMetricsCSVAndLossPlot() throws {
        let (run, _) = try trainedRun(steps: 12, evaluateEvery: 5)
        let lines = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.first, "step,epoch,train_loss,val_loss,val_bpc,tokens_per_s,elapsed_s,learning_rate")
        XCTAssertEqual(lines.last, "", "ends with a newline")
        let rows = lines.dropFirst().dropLast().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(rows.count, 3, "one row per evaluation")
        XCTAssertEqual(rows.map { $0[0] }, ["5", "10", "12"])
        for row in rows {
            XCTAssertEqual(row.count, 8)
            let numbers = row.map { Double($0) }
            XCTAssertTrue(numbers.allSatisfy { $0 != nil }, "\(row)")
            let (epoch, train, validation, bits) = (numbers[1]!, numbers[2]!, numbers[3]!, numbers[4]!)
            XCTAssertEqual(epoch, Double(Int(row[0])!) / 22, accuracy: 1e-4)
            XCTAssertTrue(train > 0 && train < 4, "\(train)")
            XCTAssertTrue(validation > 0 && validation < 4, "\(validation)")
            XCTAssertEqual(bits, validation / log(2), accuracy: 2e-6)
            XCTAssertGreaterThan(numbers[5]!, 0)
            XCTAssertGreaterThan(numbers[6]!, 0)
            XCTAssertEqual(numbers[7]!, 0.01, accuracy: 1e-9)
        }
        let svg = try String(contentsOf: run.appendingPathComponent("loss.svg"), encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2, "a training and a validation curve")
        for label in [">training<", ">validation<", ">step<", ">cross-entropy (nats per token)<"] {
            XCTAssertTrue(svg.contains(label), label)
        }

        // A resumed run keeps the earlier rows and appends its own.
        try resume(run, to: 20)
        let resumedRows = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",").first.map(String.init) }
        XCTAssertEqual(resumedRows, ["5", "10", "12", "15", "20"])
    }

    func testBestAndLatestBookkeeping() throws {
        // A high learning rate without clipping and an evaluation after every step make the validation loss
        // go up and down (here the last evaluation is not the best).
        var configuration = tinyConfiguration(maxSteps: 4)
        configuration.learningRate = 0.1
        configuration.clipNorm = nil
        configuration.evaluateEvery = 1
        let corpus = try arithmeticCorpus(configuration)
        let run = try makeTemporaryDirectory(self, "best")
        let trainer = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: run)
        var reports: [TrainingEvaluationReport] = []
        var written: [CheckpointReport] = []
        try trainer.train { event in
            if case .evaluated(let report) = event { reports.append(report) }
            if case .checkpointWritten(let report) = event { written.append(report) }
        }
        let losses = reports.map { $0.validationLoss! }
        var best = Double.infinity
        for (report, loss) in zip(reports, losses) {
            XCTAssertEqual(report.isBest, loss < best, "step \(report.step)")
            best = min(best, loss)
            XCTAssertEqual(report.bestValidationLoss, best)
        }
        XCTAssertTrue(reports.contains { !$0.isBest }, "the scenario needs evaluations that are not the best")
        XCTAssertEqual(written.map(\.isBest), reports.map(\.isBest))

        let bestStep = reports[losses.firstIndex(of: losses.min()!)!].step
        XCTAssertEqual(trainer.state.bestStep, bestStep)
        let bestCheckpoint = try TrainingCheckpoint.load(from: run, pointer: .best)
        XCTAssertEqual(bestCheckpoint.state.step, bestStep)
        XCTAssertEqual(bestCheckpoint.state.bestValidationLoss, losses.min())
        XCTAssertEqual(try TrainingCheckpoint.load(from: run, pointer: .latest).state.step, 4)
        XCTAssertNotEqual(bestStep, 4, "the scenario needs a best that is not the latest")
        // Only the best and the latest checkpoints are kept.
        try assertNoJunk(run)
        XCTAssertEqual(try entries(run.appendingPathComponent("checkpoints")).filter { $0.hasPrefix("step-") }.count, 2)
        // The best checkpoint's model has the best validation loss.
        let evaluation = try bestCheckpoint.model.evaluate(tokens: corpus.validation, batchSize: 4, sequenceLength: 8)
        XCTAssertEqual(evaluation.loss, losses.min())
    }

    func testNoValidationPartMeansNoBestPointer() throws {
        var configuration = tinyConfiguration(maxSteps: 6)
        configuration.validationFraction = 0
        let corpus = try arithmeticCorpus(configuration)
        let run = try makeTemporaryDirectory(self, "noval")
        let trainer = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: run)
        let summary = try trainer.train()
        XCTAssertNil(summary.validationLoss)
        XCTAssertNotNil(summary.trainLoss)
        XCTAssertNil(try CheckpointStore(runDirectory: run).checkpoint(.best))
        XCTAssertEqual(try TrainingCheckpoint.load(from: run).state.step, 6)
        let csv = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.count, 3)
        XCTAssertEqual(csv[1].split(separator: ",", omittingEmptySubsequences: false)[3], "", "no validation loss")
    }

    // MARK: Crash safety

    /// The stages of the second checkpoint write of a 4-step run that checkpoints every 2 steps.
    private func stagesOfSecondWrite() throws -> [CheckpointWriteStage] {
        var writes = 0
        var stages: [CheckpointWriteStage] = []
        _ = try trainedRun(steps: 4, evaluateEvery: 2, "stages") { trainer in
            trainer.checkpointStore?.faultInjection = { stage in
                if stage == .preparedDirectories { writes += 1 }
                if writes == 2 { stages.append(stage) }
            }
        }
        return stages
    }

    func testAFailureAtEveryStageLeavesTheLatestCheckpointLoadable() throws {
        let stages = try stagesOfSecondWrite()
        XCTAssertEqual(stages.filter { if case .wroteFile = $0 { return true }; return false }.count, 6)
        XCTAssertTrue(stages.contains(.renamedDirectory))
        XCTAssertTrue(stages.contains(.updatedPointer(.latest)))
        XCTAssertTrue(stages.contains(.removedEntry("step-00000002")))
        XCTAssertEqual(stages.suffix(2), [.wroteMetrics, .wrotePlot])
        let committed = stages.firstIndex(of: .updatedPointer(.latest))!

        for (index, failing) in stages.enumerated() {
            var writes = 0
            var configuration = tinyConfiguration(maxSteps: 4)
            configuration.evaluateEvery = 2
            let run = try makeTemporaryDirectory(self, "fault")
            let trainer = try LanguageModelTrainer(configuration: configuration, corpus: arithmeticCorpus(configuration),
                                                   outputDirectory: run)
            trainer.checkpointStore?.faultInjection = { stage in
                if stage == .preparedDirectories { writes += 1 }
                if writes == 2 && stage == failing { throw InjectedFault() }
            }
            XCTAssertThrowsError(try trainer.train(), "\(failing)") { XCTAssertTrue($0 is InjectedFault) }

            let checkpoint = try TrainingCheckpoint.load(from: run)
            XCTAssertEqual(checkpoint.state.step, index < committed ? 2 : 4, "failure after '\(failing)'")
            XCTAssertNoThrow(try TrainingCheckpoint.load(from: run, pointer: .best), "\(failing)")
            // The next run goes on from there and cleans up whatever the failed write left.
            let resumed = try resume(run, to: 6)
            XCTAssertEqual(resumed.state.step, 6)
            XCTAssertEqual(try TrainingCheckpoint.load(from: run).state.step, 6)
            try assertNoJunk(run)
        }
    }

    /// A kill leaves the files as they are at that instant: copy the run directory after every stage
    /// of every write, then load and resume each copy.
    func testAKillAtEveryStageLeavesLoadableCheckpoints() throws {
        let snapshots = try makeTemporaryDirectory(self, "snapshots")
        // Each copy with the step that `latest` names at that instant (nil before the first checkpoint).
        var taken: [(url: URL, latestStep: Int?, stage: CheckpointWriteStage)] = []
        var writes = 0
        var latestStep: Int? = nil
        let (run, _) = try trainedRun(steps: 4, evaluateEvery: 2, "kill") { trainer in
            let store = trainer.checkpointStore!
            store.faultInjection = { stage in
                if stage == .preparedDirectories { writes += 1 }
                if stage == .updatedPointer(.latest) { latestStep = 2 * writes }
                let copy = snapshots.appendingPathComponent("snapshot-\(taken.count)")
                try FileManager.default.copyItem(at: store.runDirectory, to: copy)
                taken.append((copy, latestStep, stage))
            }
        }
        XCTAssertEqual(try TrainingCheckpoint.load(from: run).state.step, 4)
        XCTAssertGreaterThan(taken.count, 20)

        for snapshot in taken {
            let label = "kill after '\(snapshot.stage)' (latest: \(snapshot.latestStep.map(String.init) ?? "none"))"
            guard let expected = snapshot.latestStep else {
                // Killed before the first checkpoint existed: a clean error, and a new run may start there.
                XCTAssertThrowsError(try TrainingCheckpoint.load(from: snapshot.url), label) { error in
                    XCTAssertEqual(error as? CheckpointError, .noCheckpoint(path: snapshot.url.standardizedFileURL.path, pointer: "latest"))
                }
                var configuration = tinyConfiguration(maxSteps: 2)
                configuration.evaluateEvery = 2
                let trainer = try LanguageModelTrainer(configuration: configuration, corpus: arithmeticCorpus(configuration),
                                                       outputDirectory: snapshot.url)
                try trainer.train()
                try assertNoJunk(snapshot.url)
                continue
            }
            XCTAssertEqual(try TrainingCheckpoint.load(from: snapshot.url).state.step, expected, label)
            XCTAssertNoThrow(try TrainingCheckpoint.load(from: snapshot.url, pointer: .best), label)
            // Leftovers of AtomicFile writes interrupted by the kill do not disturb the next write.
            try Data("step-0000".utf8).write(to: snapshot.url.appendingPathComponent("checkpoints/.latest.tmp-1-dead"))
            let resumed = try resume(snapshot.url, to: 6)
            XCTAssertEqual(resumed.state.step, 6, label)
            XCTAssertEqual(try TrainingCheckpoint.load(from: snapshot.url).state.step, 6, label)
            try assertNoJunk(snapshot.url)
        }
    }

    /// A real write failure (a full disk) in the middle of a checkpoint leaves no temporary
    /// directory: the pointers name the previous checkpoint and nothing half-written stays.
    func testAFailedFileWriteRemovesTheTemporaryDirectory() throws {
        var writes = 0
        var configuration = tinyConfiguration(maxSteps: 4)
        configuration.evaluateEvery = 2
        let run = try makeTemporaryDirectory(self, "full")
        let trainer = try LanguageModelTrainer(configuration: configuration, corpus: arithmeticCorpus(configuration), outputDirectory: run)
        let full = FileWriteError(path: "optimizer.safetensors", reason: "writing temporary file: No space left on device")
        trainer.checkpointStore?.faultInjection = { stage in
            if stage == .preparedDirectories { writes += 1 }
            if writes == 2 && stage == .wroteFile("model.safetensors") { throw full }
        }
        XCTAssertThrowsError(try trainer.train()) { XCTAssertEqual($0 as? FileWriteError, full) }
        XCTAssertEqual(try TrainingCheckpoint.load(from: run).state.step, 2)
        try assertNoJunk(run)
    }

    // MARK: Divergence

    /// A run whose learning rate is raised to 1e6 after 6 sound steps: the update of step 7 wrecks
    /// the weights, step 8's loss shows it. The checkpoint taken after step 7 was held back and is
    /// dropped; `latest` stays at step 6, and the run resumes from there.
    func testADivergingRunKeepsTheLastSoundCheckpoint() throws {
        let (run, _) = try trainedRun(steps: 6, evaluateEvery: 1, "diverge")
        let sound = weightBits(try TrainingCheckpoint.load(from: run).model)
        let checkpoint = try TrainingCheckpoint.load(from: run)
        let trainer = try LanguageModelTrainer(resuming: checkpoint, corpus: corpus(for: checkpoint)) { $0.maxSteps = 20 }
        trainer.optimizer.learningRate = 1e6
        var written: [Int] = []
        XCTAssertThrowsError(try trainer.train { if case .checkpointWritten(let report) = $0 { written.append(report.step) } }) { error in
            guard let divergence = error as? TrainingDivergence else { return XCTFail("\(error)") }
            XCTAssertEqual(divergence.step, 8)
            XCTAssertTrue(error.localizedDescription.hasPrefix("training diverged at step 8: the "), error.localizedDescription)
        }
        XCTAssertEqual(written, [], "the checkpoint of step 7 waited for step 8 and was dropped")
        let kept = try TrainingCheckpoint.load(from: run)
        XCTAssertEqual(kept.state.step, 6)
        XCTAssertEqual(weightBits(kept.model), sound)
        try assertNoJunk(run)
        XCTAssertEqual(try resume(run, to: 8).state.step, 8)
    }

    /// With a checkpoint every step, the checkpoint of step t is on disk only once step t + 1 has
    /// passed the divergence check; the last one is written at once.
    func testCheckpointsWaitForTheNextStep() throws {
        var configuration = tinyConfiguration(maxSteps: 4)
        configuration.evaluateEvery = 1
        let run = try makeTemporaryDirectory(self, "held")
        let trainer = try LanguageModelTrainer(configuration: configuration, corpus: arithmeticCorpus(configuration), outputDirectory: run)
        var onDisk: [Int: Int?] = [:]
        try trainer.train { event in
            if case .evaluated(let report) = event {
                onDisk.updateValue(try? TrainingCheckpoint.load(from: run).state.step, forKey: report.step)
            }
        }
        XCTAssertEqual(onDisk, [1: nil, 2: 1, 3: 2, 4: 3])
        XCTAssertEqual(try TrainingCheckpoint.load(from: run).state.step, 4)
    }

    // MARK: Load errors

    /// A copy of a valid run directory, and its latest checkpoint directory.
    private func freshCopy(of run: URL) throws -> (run: URL, checkpoint: URL) {
        let copy = try makeTemporaryDirectory(self, "copy").appendingPathComponent("run")
        try FileManager.default.copyItem(at: run, to: copy)
        return (copy, try XCTUnwrap(CheckpointStore(runDirectory: copy).checkpoint(.latest)))
    }

    private func assertLoadFails(_ run: URL, _ expected: (CheckpointError) -> Bool, mentioning text: String,
                                 file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try TrainingCheckpoint.load(from: run), file: file, line: line) { error in
            guard let error = error as? CheckpointError else { return XCTFail("not a CheckpointError: \(error)", file: file, line: line) }
            XCTAssertTrue(expected(error), "\(error)", file: file, line: line)
            let message = error.localizedDescription
            XCTAssertFalse(message.contains("\n"), message, file: file, line: line)
            XCTAssertTrue(message.contains(text), "'\(message)' does not mention '\(text)'", file: file, line: line)
        }
    }

    private func editJSON(_ url: URL, _ edit: (inout [String: Any]) -> Void) throws {
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
    }

    private func editSafetensors(_ url: URL, _ edit: (inout [String: Tensor]) -> Void) throws {
        var tensors = try SafetensorsFile(contentsOf: url).tensors()
        edit(&tensors)
        try Safetensors.write(tensors.map { (name: $0.key, tensor: $0.value) }, to: url)
    }

    func testEveryLoadErrorIsTypedAndOneLine() throws {
        let (run, _) = try trainedRun(steps: 4, evaluateEvery: 4)

        let missing = run.appendingPathComponent("nothing-here")
        assertLoadFails(missing, { $0 == .notFound(path: missing.path) }, mentioning: "does not exist")
        let empty = try makeTemporaryDirectory(self, "empty")
        assertLoadFails(empty, { if case .noCheckpoint = $0 { return true }; return false }, mentioning: "checkpoints/latest")

        for name in ["config.json", "vocabulary.json", "model.safetensors", "optimizer.safetensors",
                     "carried-state.safetensors", "state.json"] {
            let (copy, checkpoint) = try freshCopy(of: run)
            try FileManager.default.removeItem(at: checkpoint.appendingPathComponent(name))
            assertLoadFails(copy, { $0 == .missingFile(path: checkpoint.appendingPathComponent(name).path) }, mentioning: name)
        }

        var (copy, checkpoint) = try freshCopy(of: run)
        try Data("{\"format\": ".utf8).write(to: checkpoint.appendingPathComponent("config.json"))
        assertLoadFails(copy, { if case .malformed = $0 { return true }; return false }, mentioning: "config.json")

        (copy, checkpoint) = try freshCopy(of: run)
        try editJSON(checkpoint.appendingPathComponent("config.json")) { $0["formatVersion"] = 2 }
        assertLoadFails(copy, { if case .unsupportedVersion(_, "version 2", 1) = $0 { return true }; return false },
                        mentioning: "format version 1")

        (copy, checkpoint) = try freshCopy(of: run)
        try editJSON(checkpoint.appendingPathComponent("config.json")) { $0["format"] = "something-else" }
        assertLoadFails(copy, { if case .unsupportedVersion(_, "'something-else'", 1) = $0 { return true }; return false },
                        mentioning: "something-else")

        (copy, checkpoint) = try freshCopy(of: run)
        try editJSON(checkpoint.appendingPathComponent("config.json")) { $0.removeValue(forKey: "training") }
        assertLoadFails(copy, { if case .malformed = $0 { return true }; return false }, mentioning: "missing field 'training'")

        // Weights of another architecture than config.json describes.
        (copy, checkpoint) = try freshCopy(of: run)
        try editJSON(checkpoint.appendingPathComponent("config.json")) { object in
            var training = object["training"] as! [String: Any]
            var model = training["model"] as! [String: Any]
            model["hiddenSize"] = 13
            training["model"] = model
            object["training"] = training
        }
        assertLoadFails(copy, { if case .weightsMismatch = $0 { return true }; return false }, mentioning: "shape")

        (copy, checkpoint) = try freshCopy(of: run)
        try editSafetensors(checkpoint.appendingPathComponent("model.safetensors")) { $0["extra.weight"] = Tensor([1]) }
        assertLoadFails(copy, { if case .weightsMismatch = $0 { return true }; return false }, mentioning: "extra.weight")

        (copy, checkpoint) = try freshCopy(of: run)
        try Data([1, 2, 3]).write(to: checkpoint.appendingPathComponent("model.safetensors"))
        assertLoadFails(copy, { if case .malformed = $0 { return true }; return false }, mentioning: "model.safetensors")

        // A vocabulary of another size than the model's.
        (copy, checkpoint) = try freshCopy(of: run)
        try Vocabulary.characters(of: "abc").jsonData().write(to: checkpoint.appendingPathComponent("vocabulary.json"))
        assertLoadFails(copy, { if case .vocabularyMismatch = $0 { return true }; return false }, mentioning: "3 tokens")

        (copy, checkpoint) = try freshCopy(of: run)
        try editSafetensors(checkpoint.appendingPathComponent("optimizer.safetensors")) { $0.removeValue(forKey: "optimizer.state.3.exp_avg") }
        assertLoadFails(copy, { if case .optimizerStateMismatch = $0 { return true }; return false }, mentioning: "state.3.exp_avg")

        (copy, checkpoint) = try freshCopy(of: run)
        try editSafetensors(checkpoint.appendingPathComponent("optimizer.safetensors")) { $0["optimizer.state.0.exp_avg"] = Tensor([1, 2]) }
        assertLoadFails(copy, { if case .optimizerStateMismatch = $0 { return true }; return false }, mentioning: "shape")

        (copy, checkpoint) = try freshCopy(of: run)
        try editSafetensors(checkpoint.appendingPathComponent("carried-state.safetensors")) { $0["h"] = Tensor(zeros: [2, 3, 12]) }
        assertLoadFails(copy, { if case .invalidState = $0 { return true }; return false }, mentioning: "[2, 3, 12]")

        (copy, checkpoint) = try freshCopy(of: run)
        try editJSON(checkpoint.appendingPathComponent("state.json")) { $0["step"] = 3 }
        assertLoadFails(copy, { if case .invalidState = $0 { return true }; return false }, mentioning: "step 3")

        // An epoch far ahead of the schedule's: resuming would step the schedule 10^18 times.
        (copy, checkpoint) = try freshCopy(of: run)
        try editJSON(checkpoint.appendingPathComponent("state.json")) { $0["position"] = ["epoch": 1_000_000_000_000_000_000, "window": 0] }
        assertLoadFails(copy, { if case .invalidState = $0 { return true }; return false },
                        mentioning: "the data position's epoch 1000000000000000000 does not follow the learning-rate schedule's epoch 0")

        (copy, checkpoint) = try freshCopy(of: run)
        try editJSON(checkpoint.appendingPathComponent("state.json")) { $0["dropoutGenerator"] = ["0", "0", "0", "0"] }
        assertLoadFails(copy, { if case .malformed = $0 { return true }; return false }, mentioning: "dropoutGenerator")

        // A pointer that names a directory that is not there.
        (copy, checkpoint) = try freshCopy(of: run)
        try FileManager.default.removeItem(at: checkpoint)
        assertLoadFails(copy, { if case .malformed = $0 { return true }; return false }, mentioning: "step-00000004")
    }

    /// A config.json may ask for an LSTM projection (`projSize`): the head then reads the projected
    /// state and the carried h is projSize wide. It trains, saves, loads, resumes and samples (it
    /// used to trap in Linear's precondition at the first forward).
    func testAProjectedLSTMTrainsLoadsResumesAndSamples() throws {
        var configuration = tinyConfiguration(maxSteps: 4)
        configuration.model.recurrent.projSize = 5
        configuration.evaluateEvery = 4
        let run = try makeTemporaryDirectory(self, "projected")
        try LanguageModelTrainer(configuration: configuration, corpus: arithmeticCorpus(configuration), outputDirectory: run).train()
        let checkpoint = try TrainingCheckpoint.load(from: run)
        XCTAssertEqual(checkpoint.configuration.model.recurrent.projSize, 5)
        let shapes = Dictionary(uniqueKeysWithValues: checkpoint.model.stateDict().map { ($0.name, $0.tensor.shape) })
        XCTAssertEqual(shapes["lstm.weight_hr_l0"], [5, 12])
        XCTAssertEqual(shapes["head.weight"], [checkpoint.vocabulary.count, 5])
        let carried = try SafetensorsFile(contentsOf: checkpoint.directory.appendingPathComponent(TrainingCheckpoint.File.carriedState))
        XCTAssertEqual(carried.info("h")?.shape, [2, 4, 5])
        XCTAssertEqual(carried.info("c")?.shape, [2, 4, 12])
        let resumed = try resume(run, to: 6)
        XCTAssertEqual(resumed.state.step, 6)
        // The batch-1 stepper (sampling) gives the model's own loss.
        let model = try TrainingCheckpoint.load(from: run).model
        let tokens = Array(try corpus(for: checkpoint).training.prefix(30))
        let batched = try model.evaluate(tokens: tokens, batchSize: 1, sequenceLength: 7).loss
        model.isTraining = false
        let stepped = LanguageModelStepper(model).totalCrossEntropy(tokens) / Double(tokens.count - 1)
        XCTAssertEqual(stepped, batched, accuracy: 1e-5 * batched)
    }

    func testResumeChecksTextConfigurationAndOutputDirectory() throws {
        let (run, _) = try trainedRun(steps: 4, evaluateEvery: 4)
        let checkpoint = try TrainingCheckpoint.load(from: run)

        // Another text, encodable with the same vocabulary.
        XCTAssertThrowsError(try LanguageModelTrainer(resuming: checkpoint, corpus: corpus(for: checkpoint, seed: 8))) { error in
            guard case .vocabularyMismatch? = error as? CheckpointError else { return XCTFail("\(error)") }
            XCTAssertTrue(error.localizedDescription.contains("not the text the checkpoint was trained on"), error.localizedDescription)
        }
        // A field that must not change.
        XCTAssertThrowsError(try LanguageModelTrainer(resuming: checkpoint, corpus: corpus(for: checkpoint)) { $0.learningRate = 0.5 }) { error in
            XCTAssertEqual(error as? CheckpointError, .configurationChanged(field: "learningRate", saved: "0.01", given: "0.5"))
            XCTAssertEqual(error.localizedDescription,
                           "cannot resume with learningRate = 0.5: the checkpoint was trained with learningRate = 0.01")
        }
        XCTAssertThrowsError(try LanguageModelTrainer(resuming: checkpoint, corpus: corpus(for: checkpoint)) { $0.model.hiddenSize = 64 }) { error in
            XCTAssertEqual(error as? CheckpointError, .configurationChanged(field: "model.hiddenSize", saved: "12", given: "64"))
        }
        // Stopping limits and the evaluation interval may change.
        XCTAssertNoThrow(try LanguageModelTrainer(resuming: checkpoint, corpus: corpus(for: checkpoint)) {
            $0.maxSteps = 100; $0.epochs = 3; $0.timeBudget = 10; $0.evaluateEvery = 9
        })
        // A new run does not overwrite a run directory; a resumed run does not write into another run's.
        var configuration = tinyConfiguration()
        configuration.evaluateEvery = 4
        XCTAssertThrowsError(try LanguageModelTrainer(configuration: configuration, corpus: arithmeticCorpus(configuration),
                                                      outputDirectory: run)) { error in
            XCTAssertEqual(error as? CheckpointError, .outputDirectoryInUse(path: run.standardizedFileURL.path))
        }
        let (other, _) = try trainedRun(steps: 2, evaluateEvery: 2, "other")
        XCTAssertThrowsError(try LanguageModelTrainer(resuming: checkpoint, corpus: corpus(for: checkpoint), outputDirectory: other)) { error in
            XCTAssertEqual(error as? CheckpointError, .outputDirectoryInUse(path: other.standardizedFileURL.path))
        }
        // A resumed run may write into a new directory.
        let elsewhere = try makeTemporaryDirectory(self, "elsewhere").appendingPathComponent("out")
        let moved = try LanguageModelTrainer(resuming: checkpoint, corpus: corpus(for: checkpoint), outputDirectory: elsewhere) { $0.maxSteps = 6 }
        try moved.train()
        XCTAssertEqual(try TrainingCheckpoint.load(from: elsewhere).state.step, 6)
        XCTAssertEqual(try TrainingCheckpoint.load(from: run).state.step, 4)
    }

    func testAFailedStartWritesNothing() throws {
        let parent = try makeTemporaryDirectory(self, "nothing")
        let out = parent.appendingPathComponent("out")
        var configuration = tinyConfiguration()
        configuration.learningRate = -1
        XCTAssertThrowsError(try LanguageModelTrainer(configuration: configuration, corpus: arithmeticCorpus(tinyConfiguration()),
                                                      outputDirectory: out))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        // A valid trainer creates the directory only at its first checkpoint.
        let trainer = try LanguageModelTrainer(configuration: tinyConfiguration(), corpus: arithmeticCorpus(tinyConfiguration()),
                                               outputDirectory: out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        _ = trainer
        // An output path that is a file is refused before training starts.
        let file = parent.appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        for path in [file, file.appendingPathComponent("below")] {
            XCTAssertThrowsError(try LanguageModelTrainer(configuration: tinyConfiguration(), corpus: arithmeticCorpus(tinyConfiguration()),
                                                          outputDirectory: path)) { error in
                XCTAssertEqual(error.localizedDescription, "invalid outputDirectory: '\(file.path)' exists and is not a directory")
            }
        }
    }
}
