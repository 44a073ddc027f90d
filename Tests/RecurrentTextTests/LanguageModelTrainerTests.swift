import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentText
import RecurrentTestSupport
import XCTest

// MARK: - Shared helpers (also used by CheckpointTests)

/// A fresh temporary directory, removed when the test ends.
func makeTemporaryDirectory(_ test: XCTestCase, _ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// The arithmetic corpus with `lines` lines: about 8 characters per line, a vocabulary of 15 characters.
func arithmeticCorpus(lines: Int = 100, seed: UInt64 = 7, _ configuration: TrainingConfiguration) throws -> TextCorpus {
    try TextCorpus(text: GeneratedCorpus.arithmetic(lines: lines, seed: seed), source: "arithmetic",
                   configuration: configuration.corpusConfiguration)
}

/// A tiny configuration that trains in milliseconds per step, even in a debug build.
func tinyConfiguration(cell: LanguageModel.Cell = .lstm, layers: Int = 2, dropout: Float = 0.3,
                       maxSteps: Int? = 30) -> TrainingConfiguration {
    TrainingConfiguration(
        model: .init(cell: cell, vocabularySize: 0, embeddingSize: 6, hiddenSize: 12, numLayers: layers, dropout: dropout),
        validationFraction: 0.1, batchSize: 4, sequenceLength: 8, optimizer: .adam, learningRate: 0.01,
        learningRateDecay: 0.9, clipNorm: 1, clipValue: nil, maxSteps: maxSteps, evaluateEvery: 5, seed: 42)
}

/// Every weight of `model` as raw bit patterns, by name.
func weightBits(_ model: LanguageModel) -> [String: [UInt32]] {
    Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor.scalars.map(\.bitPattern)) })
}

/// A deterministic stand-in for the sampler: draws from the given generator and from `GlobalRandom`
/// (which must not disturb training) and runs the model once.
func testSampleHook(_ model: LanguageModel, _ vocabulary: Vocabulary, _ generator: inout RandomGenerator) throws -> String {
    _ = GlobalRandom.with { $0.next() }
    let ids = (0..<6).map { _ in generator.nextInt(below: vocabulary.count) }
    let (logits, _) = model(ids, batchSize: 1, sequenceLength: ids.count)
    XCTAssertFalse(model.isTraining, "the sample hook must get the model in evaluation mode")
    XCTAssertEqual(logits.shape, [1, ids.count, vocabulary.count])
    return vocabulary.decode(ids)
}

final class LanguageModelTrainerTests: XCTestCase {
    // MARK: Resume

    /// Trains `total` steps without interruption, and `split` steps + checkpoint + a new trainer resumed
    /// from `latest` for the rest; the weights, optimizer state, data position, generators and samples
    /// must agree bit for bit.
    private func assertResumeIsExact(cell: LanguageModel.Cell, split: Int, total: Int, k2: Int? = nil, continuous: Bool = false,
                                     file: StaticString = #filePath, line: UInt = #line) throws {
        var configuration = tinyConfiguration(cell: cell, maxSteps: total)
        configuration.backpropagationLength = k2
        configuration.continuousState = continuous ? true : nil
        let corpus = try arithmeticCorpus(configuration)

        // Uninterrupted, without output, with samples at the same steps as the interrupted run.
        configuration.evaluateEvery = 5
        let whole = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: nil)
        whole.sampleHook = testSampleHook
        var wholeSamples: [Int: String] = [:]
        try whole.train { event in
            if case .evaluated(let report) = event { wholeSamples[report.step] = report.sample }
        }
        // And with another evaluation schedule and no samples: evaluations must not change the weights.
        configuration.evaluateEvery = 7
        let otherSchedule = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: nil)
        try otherSchedule.train()
        XCTAssertEqual(weightBits(otherSchedule.model), weightBits(whole.model), file: file, line: line)

        // Interrupted at `split`, then resumed from the run directory.
        let run = try makeTemporaryDirectory(self, "resume")
        configuration.evaluateEvery = 5
        configuration.maxSteps = split
        let first = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: run)
        first.sampleHook = testSampleHook
        try first.train()
        GlobalRandom.seed(999)   // whatever happens in between must not matter
        let checkpoint = try TrainingCheckpoint.load(from: run)
        XCTAssertEqual(checkpoint.state.step, split, file: file, line: line)
        let resumedCorpus = try TextCorpus(text: GeneratedCorpus.arithmetic(lines: 100, seed: 7), source: "again",
                                           configuration: checkpoint.configuration.corpusConfiguration,
                                           vocabulary: checkpoint.vocabulary)
        let second = try LanguageModelTrainer(resuming: checkpoint, corpus: resumedCorpus) { $0.maxSteps = total }
        second.sampleHook = testSampleHook
        var resumedSamples: [Int: String] = [:]
        let summary = try second.train { event in
            if case .evaluated(let report) = event { resumedSamples[report.step] = report.sample }
        }

        XCTAssertEqual(summary.steps, total, file: file, line: line)
        XCTAssertEqual(weightBits(second.model), weightBits(whole.model), "weights differ after resume", file: file, line: line)
        XCTAssertEqual(second.state.position, whole.state.position, file: file, line: line)
        XCTAssertEqual(second.state.dropoutGenerator, whole.state.dropoutGenerator, file: file, line: line)
        let optimizerBits = { (trainer: LanguageModelTrainer) in trainer.optimizer.stateDict().map { $0.tensor.scalars.map(\.bitPattern) } }
        XCTAssertEqual(optimizerBits(second), optimizerBits(whole), file: file, line: line)
        XCTAssertEqual(second.optimizer.learningRate.bitPattern, whole.optimizer.learningRate.bitPattern, file: file, line: line)
        // The sampling generator is saved too: with the same evaluation steps, the same samples.
        if split % 5 == 0 {
            for (step, sample) in resumedSamples { XCTAssertEqual(sample, wholeSamples[step], "step \(step)", file: file, line: line) }
            XCTAssertEqual(resumedSamples.count, (total - split) / 5, file: file, line: line)
        }
        // Resuming moved across an epoch boundary, where the learning rate decays.
        XCTAssertGreaterThanOrEqual(whole.state.position.epoch, 1, file: file, line: line)
    }

    func testResumeIsBitIdenticalWithDropoutAcrossAnEpochBoundary() throws {
        // 100 lines ≈ 810 characters: the training part has 22 windows of 4 × 8 per epoch.
        let corpus = try arithmeticCorpus(tinyConfiguration())
        XCTAssertEqual(try corpus.trainingBatcher().windowsPerEpoch, 22)
        try assertResumeIsExact(cell: .lstm, split: 15, total: 30)   // resumed mid-epoch, crosses the boundary
        try assertResumeIsExact(cell: .lstm, split: 22, total: 30)   // checkpoint exactly at the epoch's end
        try assertResumeIsExact(cell: .gru, split: 13, total: 26)
    }

    /// Truncated BPTT(k1, k2) with k2 ≠ k1: the carried state and (k2 > k1) the history tokens are
    /// saved, so resumes stay exact; and the runs differ from k2 = k1 (the option acts).
    func testResumeIsBitIdenticalWithTruncationLengthsAndContinuousState() throws {
        try assertResumeIsExact(cell: .lstm, split: 15, total: 30, k2: 13)   // k1 = 8: history of 5 tokens
        try assertResumeIsExact(cell: .gru, split: 22, total: 26, k2: 21)    // history longer than a window
        try assertResumeIsExact(cell: .lstm, split: 13, total: 26, k2: 3)    // k2 < k1
        try assertResumeIsExact(cell: .lstm, split: 15, total: 30, k2: 13, continuous: true)
        var weights: [[String: [UInt32]]] = []
        for (k2, continuous) in [(nil, false), (13, false), (3, false), (nil, true)] as [(Int?, Bool)] {
            var configuration = tinyConfiguration(maxSteps: 30)
            configuration.backpropagationLength = k2
            configuration.continuousState = continuous ? true : nil
            let trainer = try LanguageModelTrainer(configuration: configuration, corpus: try arithmeticCorpus(configuration),
                                                   outputDirectory: nil)
            try trainer.train()
            weights.append(weightBits(trainer.model))
        }
        for i in 1..<weights.count { XCTAssertNotEqual(weights[i], weights[0], "configuration \(i) trains like the default") }
    }

    func testTimeBudgetCountsTrainingTimeBeforeTheResume() throws {
        var configuration = tinyConfiguration(maxSteps: nil)
        configuration.timeBudget = 0.2
        configuration.evaluateEvery = 1_000_000
        let corpus = try arithmeticCorpus(configuration)
        let run = try makeTemporaryDirectory(self, "budget")
        let first = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: run)
        let firstSummary = try first.train()
        XCTAssertEqual(firstSummary.stopReason, .timeBudget)
        XCTAssertGreaterThanOrEqual(firstSummary.seconds, 0.2)

        let checkpoint = try TrainingCheckpoint.load(from: run)
        XCTAssertEqual(checkpoint.state.trainingSeconds, firstSummary.seconds)
        let corpusAgain = try TextCorpus(text: GeneratedCorpus.arithmetic(lines: 100, seed: 7), configuration: checkpoint.configuration.corpusConfiguration,
                                         vocabulary: checkpoint.vocabulary)
        // The same budget is already spent: nothing more happens.
        let unchanged = try LanguageModelTrainer(resuming: checkpoint, corpus: corpusAgain)
        let noMore = try unchanged.train()
        XCTAssertEqual(noMore.steps, firstSummary.steps)
        XCTAssertEqual(noMore.stopReason, .timeBudget)
        // A larger budget trains for the difference only.
        let again = try TrainingCheckpoint.load(from: run)
        let extended = try LanguageModelTrainer(resuming: again, corpus: corpusAgain) { $0.timeBudget = 0.4 }
        let summary = try extended.train()
        XCTAssertEqual(summary.stopReason, .timeBudget)
        XCTAssertGreaterThan(summary.steps, firstSummary.steps)
        XCTAssertGreaterThanOrEqual(summary.seconds, 0.4)
        XCTAssertLessThan(summary.seconds, 0.4 + 1.0, "overshoots the budget by at most one (tiny) step")
    }

    // MARK: Stopping

    func testStopsAfterEpochs() throws {
        var configuration = tinyConfiguration(maxSteps: nil)
        configuration.epochs = 2
        let corpus = try arithmeticCorpus(configuration)
        let trainer = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: nil)
        var steps: [TrainingStepReport] = []
        let summary = try trainer.train { event in if case .step(let report) = event { steps.append(report) } }
        XCTAssertEqual(summary.stopReason, .epochs)
        XCTAssertEqual(summary.steps, 44)
        XCTAssertEqual(summary.epochs, 2)
        XCTAssertEqual(trainer.state.position, StreamBatcher.Position(epoch: 2, window: 0))
        XCTAssertEqual(steps.map(\.window), Array(0..<22) + Array(0..<22))
        XCTAssertEqual(steps.map(\.epoch), Array(repeating: 0, count: 22) + Array(repeating: 1, count: 22))
        // learningRateDecay 0.9 per epoch, as ExponentialLR.
        XCTAssertEqual(steps[21].learningRate, 0.01)
        XCTAssertEqual(steps[22].learningRate, Float(Double(Float(0.01)) * Double(Float(0.9))))
        XCTAssertEqual(steps.last?.fractionComplete, 1)
    }

    func testTimeBudgetStopsNearTheBudget() throws {
        var configuration = tinyConfiguration(maxSteps: nil)
        configuration.timeBudget = 0.25
        let corpus = try arithmeticCorpus(configuration)
        let trainer = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: nil)
        var longestStep = 0.0, previous = 0.0
        let summary = try trainer.train { event in
            if case .step(let report) = event {
                longestStep = max(longestStep, report.trainingSeconds - previous)
                previous = report.trainingSeconds
            }
        }
        XCTAssertEqual(summary.stopReason, .timeBudget)
        XCTAssertGreaterThanOrEqual(summary.seconds, 0.25)
        XCTAssertLessThanOrEqual(summary.seconds, 0.25 + longestStep, "stops after the step that crossed the budget")
        XCTAssertGreaterThan(summary.tokensPerSecond, 0)
        XCTAssertEqual(summary.tokensPerSecond, Double(summary.steps * 32) / summary.seconds, accuracy: 1e-6)
        XCTAssertGreaterThanOrEqual(summary.wallSeconds, summary.seconds)
    }

    func testStopRequestStopsAfterTheCurrentStepWithAFinalEvaluation() throws {
        let configuration = tinyConfiguration(maxSteps: 12)
        let corpus = try arithmeticCorpus(configuration)
        let trainer = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: nil)
        var evaluatedSteps: [Int] = []
        let summary = try trainer.train { event in
            switch event {
            case .step(let report) where report.step == 7: trainer.stopRequest.request()
            case .evaluated(let report): evaluatedSteps.append(report.step)
            default: break
            }
        }
        XCTAssertEqual(summary.stopReason, .requested)
        XCTAssertEqual(summary.steps, 7)
        XCTAssertEqual(evaluatedSteps, [5, 7])
        XCTAssertFalse(trainer.stopRequest.isRequested, "cleared once honoured")

        // A request before `train` stops it before the first step, without another evaluation.
        trainer.stopRequest.request()
        let nothing = try trainer.train { event in if case .evaluated = event { XCTFail("no evaluation without a step") } }
        XCTAssertEqual(nothing.stopReason, .requested)
        XCTAssertEqual(nothing.steps, 7)
        XCTAssertEqual(nothing.validationLoss, summary.validationLoss)

        // Calling train again continues the run up to its limit, as if it had not stopped.
        let rest = try trainer.train { event in if case .evaluated(let report) = event { evaluatedSteps.append(report.step) } }
        XCTAssertEqual(rest.stopReason, .maxSteps)
        XCTAssertEqual(evaluatedSteps, [5, 7, 10, 12])
        let uninterrupted = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: nil)
        try uninterrupted.train()
        XCTAssertEqual(weightBits(trainer.model), weightBits(uninterrupted.model))
    }

    // MARK: Events

    func testEventsAndSummary() throws {
        var configuration = tinyConfiguration(maxSteps: 12)
        configuration.evaluateEvery = 5
        let corpus = try arithmeticCorpus(configuration)
        let run = try makeTemporaryDirectory(self, "events")
        let trainer = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: run)
        trainer.sampleHook = testSampleHook
        var names: [String] = []
        var evaluations: [TrainingEvaluationReport] = []
        var finished: TrainingSummary?
        var losses: [Float] = []
        let summary = try trainer.train { event in
            switch event {
            case .started(let start):
                names.append("started")
                XCTAssertFalse(start.resumed)
                XCTAssertEqual(start.windowsPerEpoch, 22)
                XCTAssertEqual(start.tokensPerStep, 32)
                XCTAssertEqual(start.parameterCount, trainer.model.parameterCount)
                XCTAssertEqual(start.trainingTokens, corpus.training.count)
            case .step(let report):
                names.append("step")
                losses.append(report.trainLoss)
                XCTAssertEqual(report.windowsPerEpoch, 22)
                XCTAssertEqual(report.fractionComplete, Double(report.step) / 12, accuracy: 1e-12)
            case .evaluated(let report):
                names.append("evaluated")
                evaluations.append(report)
            case .checkpointWritten(let report):
                names.append("checkpoint")
                XCTAssertEqual(report.directory.lastPathComponent, String(format: "step-%08d", report.step))
            case .finished(let summary):
                names.append("finished")
                finished = summary
            }
        }
        let steps = { (n: Int) in Array(repeating: "step", count: n) }
        XCTAssertEqual(names, ["started"] + steps(5) + ["evaluated", "checkpoint"] + steps(5) + ["evaluated", "checkpoint"]
                       + steps(2) + ["evaluated", "checkpoint", "finished"])
        XCTAssertEqual(evaluations.map(\.step), [5, 10, 12])
        // The training loss of an evaluation is the mean of the step losses since the previous one.
        XCTAssertEqual(evaluations[0].trainLoss, losses[0..<5].reduce(0.0) { $0 + Double($1) } / 5, accuracy: 1e-9)
        XCTAssertEqual(evaluations[2].trainLoss, losses[10..<12].reduce(0.0) { $0 + Double($1) } / 2, accuracy: 1e-9)
        XCTAssertTrue(evaluations.allSatisfy { $0.sample?.count == 6 })
        // The validation loss is the model's evaluation on the validation part (here at the end).
        let expected = try trainer.model.evaluate(tokens: corpus.validation, batchSize: 4, sequenceLength: 8)
        XCTAssertEqual(evaluations[2].validationLoss, expected.loss)
        XCTAssertEqual(summary.validationLoss, expected.loss)
        XCTAssertEqual(summary.validationBitsPerToken!, expected.loss / log(2), accuracy: 1e-12)
        XCTAssertEqual(summary.bestValidationLoss, evaluations.compactMap(\.validationLoss).min())
        XCTAssertEqual(summary.steps, 12)
        XCTAssertEqual(finished?.steps, 12)
        XCTAssertEqual(summary.checkpoint, run.standardizedFileURL.appendingPathComponent("checkpoints/step-00000012").path)

        // The JSON form has the keys `recurrent train --json` promises.
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(summary)) as? [String: Any]
        for key in ["val_loss", "val_bpc", "tokens_per_s", "steps", "seconds"] { XCTAssertNotNil(json?[key], key) }
        let evaluationJSON = try JSONSerialization.jsonObject(with: JSONEncoder().encode(evaluations[0])) as? [String: Any]
        for key in ["val_loss", "val_bpc", "tokens_per_s", "step", "train_loss", "sample"] { XCTAssertNotNil(evaluationJSON?[key], key) }
    }

    // MARK: Evaluation

    /// `evaluate` equals the loss computed row by row: each of the B rows of ⌈(N−1)/B⌉ positions run as
    /// one long sequence from the zero state, all per-position losses summed and divided by N − 1.
    func testEvaluationEqualsRowByRowComputation() throws {
        var rng = RandomGenerator(seed: 3)
        let model = try LanguageModel(.init(cell: .lstm, vocabularySize: 7, embeddingSize: 4, hiddenSize: 5, numLayers: 2,
                                            dropout: 0.5), using: &rng)
        let tokens = (0..<53).map { _ in rng.nextInt(below: 7) }
        let result = try model.evaluate(tokens: tokens, batchSize: 3, sequenceLength: 4)
        XCTAssertTrue(model.isTraining, "evaluate restores training mode")

        // 52 predictions in 3 rows of ⌈52 / 3⌉ = 18: rows of 18, 18 and 16 positions.
        model.isTraining = false
        var total = 0.0
        for (start, length) in [(0, 18), (18, 18), (36, 16)] {
            let inputs = Array(tokens[start..<(start + length)])
            let targets = Array(tokens[(start + 1)...(start + length)])
            let (logits, _) = model(inputs, batchSize: 1, sequenceLength: length)
            let perPosition = crossEntropy(logits: logits, targets: targets, reduction: .none).value.scalars
            total += perPosition.reduce(0.0) { $0 + Double($1) }
        }
        let expected = total / 52
        XCTAssertEqual(result.predictions, 52)
        XCTAssertEqual(result.loss, expected, accuracy: 1e-5 * expected)
        XCTAssertEqual(result.bitsPerToken, result.loss / log(2), accuracy: 1e-12)
        // Dropout was off: evaluating in training mode gives the same number.
        model.isTraining = true
        XCTAssertEqual(try model.evaluate(tokens: tokens, batchSize: 3, sequenceLength: 4), result)
        // The window length changes only the rounding.
        XCTAssertEqual(try model.evaluate(tokens: tokens, batchSize: 3, sequenceLength: 7).loss, result.loss, accuracy: 1e-5 * expected)
        XCTAssertEqual(try LanguageModelTrainer.evaluate(model: model, tokens: tokens, batchSize: 3, sequenceLength: 4), result)
        // A window of Int.max (evaluate --seq) is refused instead of overflowing ⌈rowLength / T⌉.
        XCTAssertThrowsError(try model.evaluate(tokens: tokens, batchSize: 3, sequenceLength: .max)) {
            XCTAssertEqual($0.localizedDescription, "invalid sequenceLength: must be at most 16777216, got \(Int.max)")
        }
    }

    func testUniformModelEvaluatesToLogVocabularySize() throws {
        // All weights zero: every logit is 0, so the loss is ln V nats = log2 V bits per token.
        var rng = RandomGenerator(seed: 1)
        let model = try LanguageModel(.init(cell: .gru, vocabularySize: 16, embeddingSize: 3, hiddenSize: 4), using: &rng)
        for (_, parameter) in model.namedParameters { parameter.value = Tensor(zeros: parameter.value.shape) }
        let result = try model.evaluate(tokens: (0..<40).map { $0 % 16 }, batchSize: 2, sequenceLength: 5)
        XCTAssertEqual(result.loss, log(16), accuracy: 1e-6)
        XCTAssertEqual(result.bitsPerToken, 4, accuracy: 1e-6)
    }

    func testEvaluationRejectsBadInput() throws {
        var rng = RandomGenerator(seed: 1)
        let model = try LanguageModel(.init(cell: .rnn, vocabularySize: 5, embeddingSize: 3, hiddenSize: 4), using: &rng)
        XCTAssertThrowsError(try model.evaluate(tokens: [1], batchSize: 2, sequenceLength: 3)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "tokens")
        }
        XCTAssertThrowsError(try model.evaluate(tokens: [1, 2, 5], batchSize: 2, sequenceLength: 3)) { error in
            XCTAssertEqual(error.localizedDescription, "invalid tokens: id 5 is outside the model's vocabulary 0..<5")
        }
        XCTAssertThrowsError(try model.evaluate(tokens: [1, 2, 3], batchSize: 0, sequenceLength: 3))
    }

    // MARK: Learning

    func testTrainingReducesValidationLossOnArithmetic() throws {
        let configuration = TrainingConfiguration(
            model: .init(cell: .lstm, vocabularySize: 0, embeddingSize: 8, hiddenSize: 32, numLayers: 1),
            validationFraction: 0.1, batchSize: 8, sequenceLength: 16, learningRate: 0.01, clipNorm: 5,
            maxSteps: 150, evaluateEvery: 50, seed: 5)
        let corpus = try arithmeticCorpus(lines: 600, configuration)
        let trainer = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: nil)
        let initial = try trainer.model.evaluate(tokens: corpus.validation, batchSize: 8, sequenceLength: 16)
        XCTAssertEqual(initial.loss, log(Double(corpus.vocabulary.count)), accuracy: 0.2, "an untrained model is near uniform")
        let summary = try trainer.train()
        let final = try XCTUnwrap(summary.validationLoss)
        // The entropy of the validation part's character frequencies: the best loss without context.
        var counts: [Int: Double] = [:]
        for id in corpus.validation { counts[id, default: 0] += 1 }
        let n = Double(corpus.validation.count)
        let unigram = counts.values.reduce(0.0) { $0 - $1 / n * log($1 / n) }
        XCTAssertGreaterThan(unigram, 2.2)
        // 150 steps learn the shape of the lines (digits, one operator, '=', the newline): 1.60 here.
        // The operands are random, so even a perfect model stays near 1 nat per character.
        XCTAssertLessThan(final, 1.70, "initial \(initial.loss), unigram \(unigram)")
    }

    // MARK: Configuration

    func testInvalidConfigurationsNameTheField() throws {
        let corpus = try arithmeticCorpus(tinyConfiguration())
        func assertInvalid(_ field: String, _ change: (inout TrainingConfiguration) -> Void, line: UInt = #line) {
            var configuration = tinyConfiguration()
            change(&configuration)
            XCTAssertThrowsError(try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: nil),
                                 line: line) { error in
                XCTAssertEqual((error as? ConfigurationError)?.argument, field, "\(error)", line: line)
                XCTAssertFalse(error.localizedDescription.contains("\n"), line: line)
            }
        }
        assertInvalid("learningRate") { $0.learningRate = 0 }
        assertInvalid("learningRate") { $0.learningRate = .nan }
        assertInvalid("learningRateDecay") { $0.learningRateDecay = 1.5 }
        assertInvalid("clipNorm") { $0.clipNorm = -1 }
        assertInvalid("clipValue") { $0.clipValue = 0 }
        assertInvalid("epochs") { $0.epochs = 0 }
        assertInvalid("timeBudget") { $0.timeBudget = -3 }
        assertInvalid("maxSteps") { $0.maxSteps = 0 }
        assertInvalid("stopping") { $0.maxSteps = nil }
        assertInvalid("evaluateEvery") { $0.evaluateEvery = 0 }
        assertInvalid("hiddenSize") { $0.model.hiddenSize = 0 }
        assertInvalid("embeddingSize") { $0.model.embeddingSize = -1 }
        assertInvalid("numLayers") { $0.model.numLayers = 0 }
        assertInvalid("dropout") { $0.model.dropout = 1.5 }   // the layer's rule: a probability in [0, 1]
        assertInvalid("validationFraction") { $0.validationFraction = 1 }
        // The corpus must be read with the configuration's geometry.
        assertInvalid("corpus") { $0.batchSize = 2 }
    }

    func testConfigurationRoundTripsThroughJSON() throws {
        var configuration = tinyConfiguration()
        configuration.clipValue = 0.5
        configuration.timeBudget = 12.5
        configuration.level = .word
        configuration.optimizer = .rmsprop
        let data = try JSONEncoder().encode(configuration)
        XCTAssertEqual(try JSONDecoder().decode(TrainingConfiguration.self, from: data), configuration)
    }

    func testEveryOptimizerKindTrains() throws {
        for kind in TrainingConfiguration.OptimizerKind.allCases {
            var configuration = tinyConfiguration(maxSteps: 3)
            configuration.optimizer = kind
            let corpus = try arithmeticCorpus(configuration)
            let trainer = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: nil)
            let before = weightBits(trainer.model)
            try trainer.train()
            XCTAssertNotEqual(weightBits(trainer.model), before, "\(kind)")
            XCTAssertEqual(String(describing: type(of: trainer.optimizer)).lowercased(), kind.rawValue)
        }
    }
}
