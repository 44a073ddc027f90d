import Foundation
import RecurrentCore
import RecurrentLayers
import RecurrentOptim
import RecurrentText
import RecurrentTestSupport
import XCTest

/// Every field of the JSON files of a checkpoint of each text model kind (language model, classify,
/// translate), mutated (huge, negative, zero, wrong type, null, removed ...): loading refuses with one
/// line or gives a model that runs to finite results, quickly (`CheckpointMutations`).
final class CheckpointMutationTests: XCTestCase {
    /// The most seconds one load and run may take: a load and run takes at most 0.03 s here; a size
    /// that slipped through would allocate gigabytes or decode for minutes.
    private let timeLimit = 2.0

    /// Asserts no failure, and that both outcomes occurred (informational fields accept anything of
    /// their type; sizes refuse most mutations) unless `accepting` is false.
    private func assertHandled(_ report: CheckpointMutations.Report, _ label: String, accepting: Bool = true,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(report.failures, [], "\(label): \(report)", file: file, line: line)
        XCTAssertGreaterThan(report.refused, 50, "\(label): \(report)", file: file, line: line)
        if accepting { XCTAssertGreaterThan(report.accepted, 20, "\(label): \(report)", file: file, line: line) }
    }

    // MARK: Language model

    func testEveryFieldOfALanguageModelCheckpoint() throws {
        var configuration = tinyConfiguration(layers: 2, maxSteps: 2)
        configuration.evaluateEvery = 2
        let corpus = try arithmeticCorpus(configuration)
        let run = try makeTemporaryDirectory(self, "lm-mutations")
        try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: run).train()
        let directory = try XCTUnwrap(CheckpointStore(runDirectory: run).checkpoint(.latest))
        let tokens = Array(corpus.training.prefix(40))
        let load = { try TrainingCheckpoint.load(from: run) }
        let exercise = { (checkpoint: TrainingCheckpoint) -> [Double] in
            // As `recurrent evaluate` and `recurrent sample` use a checkpoint.
            let model = checkpoint.model
            let evaluation = try model.evaluate(tokens: tokens, batchSize: min(checkpoint.configuration.batchSize, tokens.count - 1),
                                                sequenceLength: checkpoint.configuration.sequenceLength)
            model.isTraining = false
            let stepper = LanguageModelStepper(model)
            return [evaluation.loss, stepper.totalCrossEntropy(Array(tokens.prefix(8)))]
        }
        for name in [TrainingCheckpoint.File.configuration, TrainingCheckpoint.File.state, TrainingCheckpoint.File.vocabulary] {
            let report = try CheckpointMutations.check(directory.appendingPathComponent(name), timeLimit: timeLimit,
                                                       isLoadError: { $0 is CheckpointError }, load: load, run: exercise)
            // Every field of the vocabulary is needed: no mutation of it loads.
            assertHandled(report, name, accepting: name != TrainingCheckpoint.File.vocabulary)
        }
    }

    // MARK: Classify

    /// The shapes the loader compares the weights with before building the model are the model's own.
    func testClassifierParameterShapesAreTheModelsStateDict() throws {
        let vocabulary = ClassificationVocabulary(level: .word, texts: ["a b c"], maxSize: 10)
        for cell in CellKind.allCases {
            for bidirectional in [false, true] {
                let configuration = TextClassifierConfiguration(cell: cell, vocabularySize: vocabulary.count, classCount: 3,
                                                                embeddingSize: 4, hiddenSize: 5, numLayers: 2, bidirectional: bidirectional)
                var rng = RandomGenerator(seed: 1)
                let state = try TextClassifier(configuration, vocabulary: vocabulary, labels: ["x", "y", "z"], using: &rng).stateDict()
                XCTAssertEqual(configuration.parameterShapes.map(\.name), state.map(\.name), "\(configuration)")
                XCTAssertEqual(configuration.parameterShapes.map(\.shape), state.map(\.tensor.shape), "\(configuration)")
            }
        }
    }

    func testEveryFieldOfAClassifierCheckpoint() throws {
        let texts = ["good film", "bad plot", "not good", "very bad"]
        let vocabulary = ClassificationVocabulary(level: .word, texts: texts, maxSize: 20)
        for (cell, bidirectional) in [(CellKind.lstm, true), (.gru, false)] {
            var rng = RandomGenerator(seed: 3)
            let model = try TextClassifier(TextClassifierConfiguration(cell: cell, vocabularySize: vocabulary.count, classCount: 2,
                                                                       embeddingSize: 4, hiddenSize: 5, numLayers: 2,
                                                                       bidirectional: bidirectional, pooling: .mean),
                                           vocabulary: vocabulary, labels: ["negative", "positive"], maxLength: 8, using: &rng)
            let directory = try makeTemporaryDirectory(self, "classify-mutations")
            try TextClassificationCheckpoint.save(model, to: directory, textColumn: "text", labelColumn: "label",
                                                  training: TextClassificationTrainingConfiguration(epochs: 1, batchSize: 2, learningRate: 0.01,
                                                                                                    clipNorm: 1, seed: 1),
                                                  summary: .init(epoch: 1, validationAccuracy: 0.5, validationMacroF1: 0.5, baselineAccuracy: 0.5))
            let report = try CheckpointMutations.check(
                directory.appendingPathComponent(TextClassificationCheckpoint.configurationFile), timeLimit: timeLimit,
                isLoadError: { $0 is CheckpointError }, load: { try TextClassificationCheckpoint.load(from: directory).classifier },
                run: { classifier in classifier.probabilities(of: texts + ["unknown words"]).flatMap { $0.map(Double.init) } })
            assertHandled(report, "\(cell) bidirectional \(bidirectional)")
        }
    }

    // MARK: Translate

    func testEveryFieldOfATranslationCheckpoint() throws {
        for attention in [true, false] {
            var configuration = TranslationConfiguration()
            configuration.level = .word
            configuration.cell = attention ? .gru : .lstm
            configuration.attention = attention
            configuration.hiddenSize = 5
            configuration.embeddingSize = 4
            configuration.steps = 1
            configuration.batchSize = 4
            configuration.validationFraction = 0.25
            let corpus = try ParallelCorpus(text: "a b\tx y\nb c\ty z\nc a\tz x\na c\tx z\n", level: .word)
            let trainer = try TranslationTrainer(configuration: configuration, corpus: corpus)
            let result = try trainer.train()
            let directory = try makeTemporaryDirectory(self, "translate-mutations")
            try TranslationCheckpoint.save(result.translator, to: directory, training: configuration, trainingPairs: 3,
                                           heldOutPairs: 1, heldOut: result.heldOut)
            let report = try CheckpointMutations.check(
                directory.appendingPathComponent(TranslationCheckpoint.configurationFile), timeLimit: timeLimit,
                isLoadError: { $0 is CheckpointError }, load: { try TranslationCheckpoint.load(from: directory).translator },
                run: { translator in
                    translator.translate(["a b c", "c"], beamWidth: 1).map { Double($0.logProbability) }
                        + translator.translate(["b a"], beamWidth: 2).map { Double($0.logProbability) }
                })
            assertHandled(report, "attention \(attention)")
        }
    }
}
