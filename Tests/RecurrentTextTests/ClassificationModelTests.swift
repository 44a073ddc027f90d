import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentFormats
import RecurrentOptim
import RecurrentText
import XCTest

/// The pooling ops against finite differences, the metrics against a hand-computed confusion
/// matrix, the classifier's padded batches, and checkpoints.
final class ClassificationModelTests: XCTestCase {
    var rng = RandomGenerator(seed: 11)

    /// (T, B, F) = (4, 3, 5) with lengths 4, 1, 3; every value of a (b, f) column at least 0.05 from
    /// the others (so the maximum has no near tie within ±epsilon), and large values at the padding,
    /// which a maximum or mean that read the padding would pick up.
    func poolingInput() -> (Variable, [Int]) {
        let (T, B, F) = (4, 3, 5), lengths = [4, 1, 3]
        var scalars = [Float](repeating: 0, count: T * B * F)
        for b in 0..<B {
            for f in 0..<F {
                var levels = Array(0..<T).map { Float($0) * 0.3 - 0.5 }
                for i in stride(from: T - 1, to: 0, by: -1) { levels.swapAt(i, rng.nextInt(below: i + 1)) }
                for t in 0..<T { scalars[(t * B + b) * F + f] = t < lengths[b] ? levels[t] + 0.01 * rng.nextUniform() : 9 }
            }
        }
        return (Variable(Tensor(shape: [T, B, F], scalars: scalars), requiresGrad: true), lengths)
    }

    func testMaskedMeanAndMaxMatchFiniteDifferencesAndIgnorePadding() {
        let (x, lengths) = poolingInput()
        let probe = Variable(.uniform(shape: [3, 5], low: -1, high: 1, using: &rng))
        for (name, pool) in [("mean", { x.maskedMean(overTimeWithLengths: lengths) }), ("max", { x.maskedMax(overTimeWithLengths: lengths) })] {
            let bad = GradientCheck().mismatches(of: [("x", x)]) { (pool() * probe).sum() }
            XCTAssertTrue(bad.isEmpty, "\(name): \(bad)")
            // The padding gets no gradient.
            x.zeroGrad()
            (pool() * probe).sum().backward()
            for t in 0..<4 { for b in 0..<3 where t >= lengths[b] { for f in 0..<5 { XCTAssertEqual(x.grad![t, b, f], 0) } } }
        }
        // Values: row 1 has length 1, so its mean and max are its first step.
        let mean = x.maskedMean(overTimeWithLengths: lengths).value, max = x.maskedMax(overTimeWithLengths: lengths).value
        for f in 0..<5 {
            XCTAssertEqual(mean[1, f], x.value[0, 1, f])
            XCTAssertEqual(max[1, f], x.value[0, 1, f])
            XCTAssertEqual(mean[2, f], (0..<3).map { x.value[$0, 2, f] }.reduce(0, +) / 3, accuracy: 1e-6)
            XCTAssertEqual(max[0, f], (0..<4).map { x.value[$0, 0, f] }.max()!)
            XCTAssertLessThan(max[2, f], 1)   // the padding (9) is never read
        }
    }

    func testMetricsOfAHandComputedConfusionMatrix() {
        // rows: actual a, b, c; columns: predicted.
        let metrics = ClassificationMetrics(labels: ["a", "b", "c"], confusion: [[5, 1, 0], [2, 3, 1], [0, 0, 4]])
        XCTAssertEqual(metrics.count, 16)
        XCTAssertEqual(metrics.accuracy, 12.0 / 16.0)
        XCTAssertEqual(metrics.precision(0), 5.0 / 7.0, accuracy: 1e-12)
        XCTAssertEqual(metrics.precision(1), 3.0 / 4.0, accuracy: 1e-12)
        XCTAssertEqual(metrics.precision(2), 4.0 / 5.0, accuracy: 1e-12)
        XCTAssertEqual(metrics.recall(0), 5.0 / 6.0, accuracy: 1e-12)
        XCTAssertEqual(metrics.recall(1), 0.5, accuracy: 1e-12)
        XCTAssertEqual(metrics.recall(2), 1, accuracy: 1e-12)
        XCTAssertEqual(metrics.f1(0), 10.0 / 13.0, accuracy: 1e-12)
        XCTAssertEqual(metrics.f1(1), 0.6, accuracy: 1e-12)
        XCTAssertEqual(metrics.f1(2), 8.0 / 9.0, accuracy: 1e-12)
        XCTAssertEqual(metrics.macroF1, (10.0 / 13.0 + 0.6 + 8.0 / 9.0) / 3, accuracy: 1e-12)
        // The same matrix from predictions and targets.
        var predictions: [Int] = [], targets: [Int] = []
        for (actual, row) in metrics.confusion.enumerated() {
            for (predicted, n) in row.enumerated() {
                predictions += Array(repeating: predicted, count: n)
                targets += Array(repeating: actual, count: n)
            }
        }
        XCTAssertEqual(ClassificationMetrics(labels: ["a", "b", "c"], predictions: predictions, targets: targets), metrics)
        // A class never predicted: precision, recall and F1 are 0, not NaN.
        let never = ClassificationMetrics(labels: ["x", "y"], confusion: [[2, 0], [1, 0]])
        XCTAssertEqual([never.precision(1), never.recall(1), never.f1(1)], [0, 0, 0])
        XCTAssertEqual(never.f1(0), 0.8, accuracy: 1e-12)
        XCTAssertEqual(never.macroF1, 0.4, accuracy: 1e-12)
    }

    func makeClassifier(_ cell: CellKind = .gru, pooling: SequencePooling = .last, bidirectional: Bool = false,
                        layers: Int = 1) throws -> TextClassifier {
        let vocabulary = ClassificationVocabulary(level: .word, keptTokens: ["a", "b", "c", "d", "e"])
        return try TextClassifier(TextClassifierConfiguration(cell: cell, vocabularySize: vocabulary.count, classCount: 3,
                                                              embeddingSize: 4, hiddenSize: 5, numLayers: layers,
                                                              bidirectional: bidirectional, pooling: pooling),
                                  vocabulary: vocabulary, labels: ["x", "y", "z"], using: &rng)
    }

    func testPaddingDoesNotChangeARowsLogits() throws {
        let sequences = [[2, 3, 4, 5, 6], [3, 4], [6, 5, 4]]
        for cell in [CellKind.rnn, .lstm, .gru] {
            for pooling in SequencePooling.allCases {
                for bidirectional in [false, true] {
                    let model = try makeClassifier(cell, pooling: pooling, bidirectional: bidirectional, layers: 2)
                    model.isTraining = false
                    let together = model.logits(ClassificationBatch(sequences: sequences)).value
                    for (b, sequence) in sequences.enumerated() {
                        let alone = model.logits(ClassificationBatch(sequences: [sequence])).value
                        for c in 0..<3 {
                            XCTAssertEqual(together[b, c], alone[0, c], accuracy: 1e-5, "\(cell) \(pooling) bidirectional \(bidirectional) row \(b)")
                        }
                    }
                }
            }
        }
    }

    func testClassifierGradientsThroughPoolingMatchFiniteDifferences() throws {
        let batch = ClassificationBatch(sequences: [[2, 3, 4], [5], [6, 2]], labels: [0, 2, 1])
        for pooling in SequencePooling.allCases {
            let model = try makeClassifier(.lstm, pooling: pooling, bidirectional: true)
            let parameters = model.namedParameters.filter { $0.name.hasPrefix("embedding") || $0.name.hasPrefix("head") || $0.name.hasSuffix("ih_l0") }
            let bad = GradientCheck(maxElementsPerVariable: 12).mismatches(of: parameters.map { ($0.name, $0.parameter) }) {
                crossEntropy(logits: model.logits(batch), targets: batch.labels, reduction: .sum)
            }
            XCTAssertTrue(bad.isEmpty, "\(pooling): \(bad)")
        }
    }

    func testCheckpointRoundTripPredictsIdenticallyAndRejectsBadFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cls-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try makeClassifier(.lstm, pooling: .max, bidirectional: true)
        model.isTraining = false
        let texts = ["a b c", "e", "d d zzz a", "unknown words only"]
        try TextClassificationCheckpoint.save(model, to: directory, textColumn: "review", labelColumn: "stars",
                                              summary: .init(epoch: 3, validationAccuracy: 0.5))
        let (loaded, contents) = try TextClassificationCheckpoint.load(from: directory)
        XCTAssertEqual(loaded.probabilities(of: texts), model.probabilities(of: texts))   // bit for bit
        XCTAssertEqual(loaded.labels, ["x", "y", "z"])
        XCTAssertEqual(loaded.vocabulary, model.vocabulary)
        XCTAssertEqual(loaded.configuration, model.configuration)
        XCTAssertEqual(contents.textColumn, "review")
        XCTAssertEqual(contents.summary?.epoch, 3)
        XCTAssertEqual(model.namedParameters.map(\.name).prefix(2), ["embedding.weight", "lstm.weight_ih_l0"])

        let configURL = directory.appendingPathComponent("config.json"), modelURL = directory.appendingPathComponent("model.safetensors")
        let config = try Data(contentsOf: configURL), weights = try Data(contentsOf: modelURL)
        func expect(_ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try TextClassificationCheckpoint.load(from: directory), file: file, line: line) { error in
                XCTAssertTrue(error is CheckpointError, "\(error)", file: file, line: line)
                XCTAssertTrue(error.localizedDescription.contains(fragment), error.localizedDescription, file: file, line: line)
            }
        }
        // Truncated weights.
        try weights.prefix(weights.count / 2).write(to: modelURL)
        expect("model.safetensors' is malformed")
        // Weights of another shape (a different hidden size).
        let other = try TextClassifier(TextClassifierConfiguration(cell: .lstm, vocabularySize: 7, classCount: 3, embeddingSize: 4,
                                                                   hiddenSize: 6, bidirectional: true, pooling: .max),
                                       vocabulary: model.vocabulary, labels: model.labels, using: &rng)
        try other.save(to: modelURL)
        expect("do not match its config.json")
        try weights.write(to: modelURL)
        // A config.json that is not JSON, of another program, or whose vocabulary does not fit.
        try Data("{".utf8).write(to: configURL)
        expect("not JSON")
        try Data(#"{"format": "recurrent.forecast-checkpoint", "formatVersion": 1}"#.utf8).write(to: configURL)
        expect("has format 'recurrent.forecast-checkpoint'")
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: config) as? [String: Any])
        var vocabulary = try XCTUnwrap(object["vocabulary"] as? [String: Any])
        vocabulary["tokens"] = ["<pad>", "<unk>", "a"]
        object["vocabulary"] = vocabulary
        try JSONSerialization.data(withJSONObject: object).write(to: configURL)
        expect("vocabulary mismatch: the vocabulary has 3 tokens, the model 7")
        try FileManager.default.removeItem(at: configURL)
        expect("config.json' is missing")
    }

    /// A text of any length costs what its first `maxLength` tokens cost (512 unless set, as
    /// Keras's `maxlen` and Hugging Face's `max_length` with truncation): a 10 MB text used to
    /// allocate gigabytes and abort.
    func testLongTextsAreTruncatedToMaxLength() throws {
        let model = try makeClassifier(.lstm)
        XCTAssertEqual(model.maxLength, TextClassifier.defaultMaxLength)
        XCTAssertEqual(TextClassifier.defaultMaxLength, 512)
        let words = ["a", "b", "c", "d", "e", "zz"]
        let long = (0..<200_000).map { words[$0 % 6] }.joined(separator: " ")   // 1.1 MB, 200,000 tokens
        let first = (0..<512).map { words[$0 % 6] }.joined(separator: " ")
        XCTAssertEqual(model.encode(long).count, 512)
        XCTAssertEqual(model.probabilities(of: [long]), model.probabilities(of: [first]))
        // A checkpoint written without maxLength reads the default; one beyond the limit is refused.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cls-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try TextClassificationCheckpoint.save(model, to: directory)
        let configURL = directory.appendingPathComponent("config.json")
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any])
        XCTAssertEqual(object["maxLength"] as? Int, 512)
        object.removeValue(forKey: "maxLength")
        try JSONSerialization.data(withJSONObject: object).write(to: configURL)
        XCTAssertEqual(try TextClassificationCheckpoint.load(from: directory).classifier.maxLength, 512)
        object["maxLength"] = 1_000_000_000
        try JSONSerialization.data(withJSONObject: object).write(to: configURL)
        XCTAssertThrowsError(try TextClassificationCheckpoint.load(from: directory)) {
            XCTAssertEqual($0.localizedDescription, "checkpoint file '\(configURL.path)' is malformed: "
                           + "invalid maxLength: must be at most 10000, got 1000000000")
        }
        XCTAssertThrowsError(try TextClassifier(model.configuration, vocabulary: model.vocabulary, labels: model.labels, maxLength: 0,
                                                using: &rng)) {
            XCTAssertEqual($0.localizedDescription, "invalid maxLength: must be positive, got 0")
        }
    }
}
