import Foundation
import XCTest
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentFormats
import RecurrentOptim
import RecurrentText

/// Pretrained vectors in an `Embedding`, a frozen embedding in the trainer (also across a resume),
/// and the initialisation scheme recorded in the run's configuration.
final class PretrainedEmbeddingTests: XCTestCase {
    private func wordConfiguration(_ cell: LanguageModel.Cell = .lstm, maxSteps: Int = 6) -> TrainingConfiguration {
        TrainingConfiguration(
            model: .init(cell: cell, vocabularySize: 0, embeddingSize: 4, hiddenSize: 8, numLayers: 1),
            level: .word, maxVocabularySize: 40, validationFraction: 0.1, batchSize: 4, sequenceLength: 8,
            optimizer: .adam, learningRate: 0.01, clipNorm: 1, maxSteps: maxSteps, evaluateEvery: 3, seed: 3)
    }

    private func wordCorpus(_ configuration: TrainingConfiguration) throws -> TextCorpus {
        try TextCorpus(text: GeneratedCorpus.sentences(lines: 200, seed: 5), source: "sentences",
                       configuration: configuration.corpusConfiguration)
    }

    func testLoadCopiesKnownRowsAndKeepsTheOthers() throws {
        let vocabulary = try Vocabulary.words(of: "The cat saw the dog. the cat", maxSize: 10)
        var rng = RandomGenerator(seed: 1)
        let embedding = try Embedding(count: vocabulary.count, dimension: 2, using: &rng)
        let before = embedding.weight.value.scalars
        let vectors = try WordVectors.parse(Data("the 1 2\ncat 3 4\nbird 5 6\n<unk> 7 8\n".utf8), source: "v.txt")
        let report = try embedding.load(vectors, vocabulary: vocabulary)
        // Tokens: <unk>, " ", cat, the, ".", The, dog, saw: <unk>, cat, the and The (as "the") are found.
        XCTAssertEqual(report, PretrainedEmbeddingReport(found: 4, foundByLowercase: 1, missing: vocabulary.count - 4,
                                                         vocabularySize: vocabulary.count))
        let after = embedding.weight.value.scalars
        for (id, token) in vocabulary.tokens.enumerated() {
            let row = Array(after[(2 * id)..<(2 * id + 2)])
            switch token {
            case "<unk>": XCTAssertEqual(row, [7, 8])
            case "the", "The": XCTAssertEqual(row, [1, 2], token)
            case "cat": XCTAssertEqual(row, [3, 4])
            default: XCTAssertEqual(row, Array(before[(2 * id)..<(2 * id + 2)]), "'\(token)' keeps its initialisation")
            }
        }
        let wide = try WordVectors.parse(Data("the 1 2 3\n".utf8), source: "wide.txt")
        XCTAssertThrowsError(try embedding.load(wide, vocabulary: vocabulary, source: "wide.txt")) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "embeddingSize")
            XCTAssertTrue("\(error.localizedDescription)".contains("wide.txt holds vectors of dimension 3"))
        }
    }

    /// A frozen pretrained embedding stays as loaded through training, checkpoints and a resume; the
    /// rest of the model trains; the source file and the freezing are in config.json.
    func testFrozenPretrainedEmbeddingSurvivesTrainingAndResume() throws {
        var configuration = wordConfiguration(maxSteps: 6)
        configuration.freezeEmbeddings = true
        let corpus = try wordCorpus(configuration)
        let directory = try makeTemporaryDirectory(self, "frozen")
        let trainer = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: directory)
        let words = corpus.vocabulary.tokens
        var text = ""
        for (k, word) in words.enumerated() where word.allSatisfy(\.isLetter) {
            text += "\(word) \(Float(k) * 0.125) \(-Float(k)) 0.5 1\n"
        }
        let report = try trainer.loadPretrainedEmbeddings(try WordVectors.parse(Data(text.utf8), source: "vec.txt"), source: "vec.txt")
        XCTAssertGreaterThan(report.found, 10)
        let loaded = trainer.model.embedding.weight.value.scalars
        let headBefore = trainer.model.head.weight.value.scalars
        try trainer.train()
        XCTAssertEqual(trainer.model.embedding.weight.value.scalars, loaded, "frozen")
        XCTAssertNotEqual(trainer.model.head.weight.value.scalars, headBefore, "the rest trains")
        XCTAssertThrowsError(try trainer.loadPretrainedEmbeddings(try WordVectors.parse(Data(text.utf8), source: "v"), source: "v"))

        let checkpoint = try TrainingCheckpoint.load(from: directory)
        XCTAssertEqual(checkpoint.configuration.freezeEmbeddings, true)
        XCTAssertEqual(checkpoint.configuration.pretrainedEmbeddings, "vec.txt")
        let resumed = try LanguageModelTrainer(resuming: checkpoint, corpus: corpus) { $0.maxSteps = 12 }
        XCTAssertFalse(resumed.model.embedding.weight.requiresGrad, "frozen again after the resume")
        XCTAssertThrowsError(try resumed.loadPretrainedEmbeddings(try WordVectors.parse(Data(text.utf8), source: "v"), source: "v"))
        try resumed.train()
        XCTAssertEqual(resumed.state.step, 12)
        XCTAssertEqual(resumed.model.embedding.weight.value.scalars, loaded, "still frozen")
    }

    /// The scheme is applied to a new run, recorded in config.json, and not applied again on resume:
    /// the resumed model holds the checkpoint's weights.
    func testInitializationIsRecordedAndNotReappliedOnResume() throws {
        var configuration = wordConfiguration(maxSteps: 3)
        configuration.initialization = .orthogonal
        configuration.forgetBias = 1
        let corpus = try wordCorpus(configuration)
        let fresh = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: nil)
        let dict = Dictionary(uniqueKeysWithValues: fresh.model.stateDict().map { ($0.name, $0.tensor.scalars) })
        let H = 8
        XCTAssertEqual(zip(dict["lstm.bias_ih_l0"]![H..<(2 * H)], dict["lstm.bias_hh_l0"]![H..<(2 * H)]).map { $0 + $1 },
                       [Float](repeating: 1, count: H))
        let w = dict["lstm.weight_hh_l0"]!
        var gram00 = 0.0
        for r in 0..<H { gram00 += Double(w[r * H]) * Double(w[r * H]) }
        XCTAssertEqual(gram00, 1, accuracy: 1e-5, "the first column of the i block has norm 1")

        let directory = try makeTemporaryDirectory(self, "init")
        let trainer = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: directory)
        try trainer.train()
        let checkpoint = try TrainingCheckpoint.load(from: directory)
        XCTAssertEqual(checkpoint.configuration.initialization, .orthogonal)
        XCTAssertEqual(checkpoint.configuration.forgetBias, 1)
        let resumed = try LanguageModelTrainer(resuming: checkpoint, corpus: corpus) { $0.maxSteps = 4 }
        XCTAssertEqual(weightBits(resumed.model), weightBits(trainer.model), "no re-initialisation on resume")
        XCTAssertThrowsError(try LanguageModelTrainer(resuming: checkpoint, corpus: corpus) { $0.initialization = .identity }) { error in
            XCTAssertTrue("\(error.localizedDescription)".contains("initialization"), "\(error)")
        }
    }

    /// The default scheme draws nothing: the same weights and generators as before the option existed
    /// (a model built directly from the seed), and `forgetBias` is refused for a GRU.
    func testDefaultInitializationIsUnchanged() throws {
        for scheme in [nil, InitializationScheme.pytorch] {
            var configuration = wordConfiguration(.gru)
            configuration.initialization = scheme
            let corpus = try wordCorpus(configuration)
            let trainer = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: nil)
            var rng = RandomGenerator(seed: configuration.seed)
            var model = configuration.model
            model.vocabularySize = corpus.vocabulary.count
            let direct = try LanguageModel(model, using: &rng)
            XCTAssertEqual(weightBits(trainer.model), weightBits(direct))
            XCTAssertEqual(trainer.state.dropoutGenerator, RandomGenerator(seed: rng.next()))
            XCTAssertTrue(trainer.model.embedding.weight.requiresGrad)
        }
        var configuration = wordConfiguration(.gru)
        configuration.forgetBias = 1
        XCTAssertThrowsError(try LanguageModelTrainer(configuration: configuration, corpus: try wordCorpus(configuration),
                                                      outputDirectory: nil)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "forgetBias")
        }
    }
}
