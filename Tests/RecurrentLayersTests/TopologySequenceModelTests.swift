import Foundation
import XCTest
import Recurrent
import RecurrentTestSupport

/// Many-to-one (SequenceClassifier), one-to-many (SequenceGenerator) and synchronised many-to-many
/// (SequenceTagger): gradient checks, padding, and a learning test each.
final class TopologySequenceModelTests: XCTestCase {
    func testClassifierGradientsAndPaddedBatches() throws {
        for cell in GatedCellKind.allCases {
            var rng = RandomGenerator(seed: 1)
            let model = try SequenceClassifier(cell: cell, vocabularySize: 3, embeddingSize: 2, hiddenSize: 3, outputSize: 2, using: &rng)
            XCTAssertEqual(model.namedParameters.map(\.name).first, "embedding.weight")
            XCTAssertEqual(model.namedParameters.map(\.name).last, "head.bias")
            let sequences = [[0, 1, 2, 1], [2], [1, 1]]
            let batch = model(sequences).value
            // Embedding rows (N(0, 1)) into the cell over up to 4 steps, then the head.
            let rule = Float32Tolerance.recurrentLayer(.init(cell: .lstm, inputSize: 2, hiddenSize: 3), sequenceLength: 5, valueBound: 4)
            for (b, s) in sequences.enumerated() {
                assertClose(batch.row(b), model([s]).value.row(0), within: rule, "\(cell) row \(b)")
            }
            let probe = Variable(.uniform(shape: [3, 2], low: -1, high: 1, using: &rng))
            let mismatches = GradientCheck().mismatches(of: model.namedParameters.map { ($0.name, $0.parameter) }) {
                (model(sequences) * probe).sum()
            }
            XCTAssertEqual(mismatches.map(\.description), [], "\(cell)")
        }
    }

    /// Sum of symbols mod 3, trained on lengths 1–10 (with `seed`), tested on lengths 5, 10 and 15
    /// (longer than any training string).
    static func modularSum(seed: UInt64) throws -> [Double] {
        let task = try ModularSumTask(modulus: 3, lengths: 1...10)
        let model = try task.train(steps: 300, seed: seed)
        var rng = RandomGenerator(seed: 9)
        return [5, 10, 15].map { task.accuracy(of: model, length: $0, count: 300, using: &rng) }
    }

    func testClassifierLearnsModularSum() throws {
        let accuracies = try Self.modularSum(seed: 1)
        print("modular sum (mod 3) accuracy at lengths 5, 10, 15: \(accuracies)")
        // Thresholds inside the margins over 20 seeds (docs/learning-margins.md).
        XCTAssertGreaterThanOrEqual(accuracies[0], 0.98)
        XCTAssertGreaterThanOrEqual(accuracies[1], 0.98)
        XCTAssertGreaterThanOrEqual(accuracies[2], 0.9)
    }

    func testGeneratorGradientsInBothConditionings() throws {
        for conditioning in SequenceGenerator.Conditioning.allCases {
            for cell in GatedCellKind.allCases {
                var rng = RandomGenerator(seed: 2)
                let model = try SequenceGenerator(cell: cell, conditioning: conditioning, vectorSize: 2, hiddenSize: 3,
                                                  outputSize: 2, using: &rng)
                XCTAssertEqual(model.namedParameters.first?.name, conditioning == .initialState ? "condition.weight" : "cell.weight_ih")
                let v = Variable(.uniform(shape: [2, 2], low: -1, high: 1, using: &rng), requiresGrad: true)
                let probe = Variable(.uniform(shape: [4, 2, 2], low: -1, high: 1, using: &rng))
                let mismatches = GradientCheck().mismatches(of: [("v", v)] + model.namedParameters.map { ($0.name, $0.parameter) }) {
                    (model(v, sequenceLength: 4) * probe).sum()
                }
                XCTAssertEqual(mismatches.map(\.description), [], "\(conditioning), \(cell)")
            }
        }
    }

    /// One-to-many: a one-hot class k of 4 must unroll into its own sequence of 6 tokens,
    /// token_t = (k + t·(k + 1)) mod 5. Both conditionings learn all four exactly (as on every one of
    /// 20 seeds: docs/learning-margins.md).
    func testGeneratorLearnsAClassToSequenceMap() throws {
        for conditioning in SequenceGenerator.Conditioning.allCases {
            let (predicted, targets) = try Self.classToSequence(conditioning, seed: 3)
            XCTAssertEqual(predicted, targets, "\(conditioning)")
        }
    }

    /// The tokens predicted for the 4 classes after 150 Adam steps (model from `seed`), and the targets.
    static func classToSequence(_ conditioning: SequenceGenerator.Conditioning, seed: UInt64) throws -> (predicted: [Int], targets: [Int]) {
        let classes = 4, length = 6
        func token(_ k: Int, _ t: Int) -> Int { (k + t * (k + 1)) % 5 }
        let vectors = Variable(Tensor(rows: (0..<classes).map { k in (0..<classes).map { $0 == k ? 1 : 0 } }))
        // Time-major targets (t, k).
        let targets = (0..<length).flatMap { t in (0..<classes).map { token($0, t) } }
        var rng = RandomGenerator(seed: seed)
        let model = try SequenceGenerator(cell: .gru, conditioning: conditioning, vectorSize: classes, hiddenSize: 16,
                                          outputSize: 5, using: &rng)
        let optimizer = try Adam(model.parameters, learningRate: 0.03)
        for _ in 0..<150 {
            let loss = crossEntropy(logits: model(vectors, sequenceLength: length), targets: targets)
            optimizer.zeroGrad()
            loss.backward()
            optimizer.step()
        }
        let logits = GradientMode.withoutGradients { model(vectors, sequenceLength: length).value }
        let predicted = (0..<(length * classes)).map { n in
            let row = Array(logits.scalars[(n * 5)..<((n + 1) * 5)])
            return row.firstIndex(of: row.max()!)!
        }
        return (predicted, targets)
    }

    func testMarginsOverSeeds() throws {
        try LearningMargins.sweep("sequence models") { seed in
            let sums = try Self.modularSum(seed: seed)
            let generated = try SequenceGenerator.Conditioning.allCases.map { conditioning -> Double in
                let (predicted, targets) = try Self.classToSequence(conditioning, seed: seed)
                return Double(zip(predicted, targets).filter { $0 != $1 }.count)
            }
            return [("modular sum at 5", sums[0]), ("modular sum at 10", sums[1]), ("modular sum at 15", sums[2]),
                    ("generator wrong tokens", generated.max()!)]
        }
    }
}
