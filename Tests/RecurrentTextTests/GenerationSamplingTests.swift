import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentText
import XCTest

/// Sampling frequencies against the exact distribution, on a model whose logits are fixed.
final class GenerationSamplingTests: XCTestCase {
    private typealias F = GenerationFixtures

    private let logits: [Float] = [2, 1, 0.5, -1, 0]
    private let draws = 8000

    private func counts(logits: [Float], options: TextGenerator.Options) throws -> [Int] {
        let model = try F.constantModel(logits: logits)
        let vocabulary = Vocabulary.characters(of: String("abcdefgh".prefix(logits.count)))
        let result = try TextGenerator(model: model, vocabulary: vocabulary, options: options)
            .generate(prime: "a", length: draws)
        var counts = [Int](repeating: 0, count: logits.count)
        for id in result.ids { counts[id] += 1 }
        return counts
    }

    // χ² critical values at p = 0.001.
    private let critical = [1: 10.83, 2: 13.82, 4: 18.47]

    func testFrequenciesFollowSoftmaxOfLogitsOverTemperature() throws {
        for (temperature, seed) in [(0.8, UInt64(1)), (1.0, 2), (2.5, 3)] {
            let observed = try counts(logits: logits, options: .init(temperature: Float(temperature), seed: seed))
            let expected = F.softmax(logits, temperature: temperature)
            let chi2 = F.chiSquare(counts: observed, probabilities: expected)
            XCTAssertLessThan(chi2, critical[4]!, "T = \(temperature): observed \(observed), expected \(expected)")
            // The check has power: the same counts are far from the distribution at another temperature.
            let wrong = F.softmax(logits, temperature: temperature * 2)
            XCTAssertGreaterThan(F.chiSquare(counts: observed, probabilities: wrong), 100, "T = \(temperature)")
        }
    }

    func testTopKDrawsOnlyFromTheKMostProbableRenormalised() throws {
        for (k, temperature) in [(2, 1.0), (3, 0.5)] {
            let observed = try counts(logits: logits, options: .init(temperature: Float(temperature), topK: k, seed: 7))
            // The k largest logits are ids 0..<k here.
            XCTAssertEqual(observed[k...].reduce(0, +), 0, "top-\(k) emitted a token outside the top \(k): \(observed)")
            let expected = F.softmax(Array(logits[0..<k]), temperature: temperature)
            let chi2 = F.chiSquare(counts: Array(observed[0..<k]), probabilities: expected)
            XCTAssertLessThan(chi2, critical[k - 1]!, "top-\(k): observed \(observed), expected \(expected)")
        }
        // K at or above the vocabulary size keeps every token.
        let all = try counts(logits: logits, options: .init(topK: 50, seed: 8))
        XCTAssertLessThan(F.chiSquare(counts: all, probabilities: F.softmax(logits)), critical[4]!)
    }

    func testTopKBreaksTiesTowardsLowerIds() throws {
        let observed = try counts(logits: [1, 3, 3, 3, 0], options: .init(topK: 2, seed: 9))
        XCTAssertEqual(observed[0] + observed[3] + observed[4], 0, "\(observed)")
        XCTAssertLessThan(F.chiSquare(counts: [observed[1], observed[2]], probabilities: [0.5, 0.5]), critical[1]!)
    }

    func testTopKNeverLeavesTheTopKOfARealModel() throws {
        let vocabulary = Vocabulary.characters(of: F.text)
        let model = try F.randomModel(.gru, vocabularySize: vocabulary.count, hidden: 12)
        let k = 3
        let result = try TextGenerator(model: model, vocabulary: vocabulary, options: .init(temperature: 2, topK: k, seed: 4))
            .generate(prime: "fox", length: 200)
        let rows = F.logitsPredicting(result.ids, after: result.contextIDs, model: model)
        var ranks = [Int](repeating: 0, count: k)
        for (row, id) in zip(rows, result.ids) {
            // The number of logits clearly above the chosen one (1e-5 allows for rounding between paths).
            let above = row.filter { $0 > row[id] + 1e-5 }.count
            XCTAssertLessThan(above, k)
            ranks[min(above, k - 1)] += 1
        }
        // At temperature 2 every rank of the top 3 is drawn.
        XCTAssertTrue(ranks.allSatisfy { $0 > 0 }, "\(ranks)")
    }
}
