import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentText
import XCTest
import RecurrentTestSupport

final class GenerationBeamSearchTests: XCTestCase {
    private typealias F = GenerationFixtures

    func testWidthOneEqualsGreedy() throws {
        for cell in [LanguageModel.Cell.lstm, .rnn, .peepholeLSTM] {
            let vocabulary = Vocabulary.characters(of: F.text)
            let model = try F.randomModel(cell, vocabularySize: vocabulary.count)
            let greedy = try TextGenerator(model: model, vocabulary: vocabulary, options: .init(temperature: 0))
                .generate(prime: "quick", length: 40)
            let beam = try TextGenerator(model: model, vocabulary: vocabulary, options: .init(beamWidth: 1))
                .generate(prime: "quick", length: 40)
            XCTAssertEqual(beam.ids, greedy.ids, "\(cell)")
            // Greedy decoding steps on the batch-1 stepper, beam search on the batched model call: the
            // logits agree up to the order of the products' additions.
            XCTAssertEqual(beam.logProbability, greedy.logProbability,
                           accuracy: F.logProbabilityAccuracy(count: 40, context: greedy.contextIDs.count, model: model))
        }
    }

    /// After "a" the model prefers b (0.5) over c (0.4), but after b every token has probability 1/3
    /// while after c, c has 0.9. Greedy takes b; a beam of two finds c c.
    func testWiderBeamBeatsGreedyWhereGreedyIsShortSighted() throws {
        let table: [[Float]] = [
            [log(0.1), log(0.5), log(0.4)],      // after a
            [0, 0, 0],                           // after b: uniform
            [log(0.05), log(0.05), log(0.9)],    // after c
        ]
        let model = try F.markovModel(table)
        let vocabulary = Vocabulary.characters(of: "abc")
        let greedy = try TextGenerator(model: model, vocabulary: vocabulary, options: .init(temperature: 0))
            .generate(prime: "a", length: 2)
        XCTAssertEqual(greedy.text, "ba")
        XCTAssertEqual(greedy.logProbability, log(0.5 / 3), accuracy: 1e-5)
        var streamed: [GeneratedToken] = []
        let beam = try TextGenerator(model: model, vocabulary: vocabulary, options: .init(beamWidth: 2))
            .generate(prime: "a", length: 2) { streamed.append($0) }
        XCTAssertEqual(beam.text, "cc")
        XCTAssertEqual(beam.logProbability, log(0.4 * 0.9), accuracy: 1e-5)
        XCTAssertEqual(F.logProbability(of: beam.ids, after: beam.contextIDs, model: model), log(0.36), accuracy: 1e-5)
        // Beam search streams the winner after the search, with the same contract as sampling.
        XCTAssertEqual(streamed.map(\.id), beam.ids)
        XCTAssertEqual(streamed.map(\.text).joined(), "cc")
        XCTAssertEqual(streamed.map(\.index), [0, 1])
    }

    /// Vocabulary 3, length 3: a beam of width 9 = 3² keeps every prefix of length 2, so it must find
    /// the most probable of all 27 sequences, found here by brute force with independent log-probabilities.
    /// (Narrower beams are not guaranteed to beat greedy in general, so only their scores are checked.)
    func testWideBeamFindsTheExhaustiveOptimum() throws {
        let vocabulary = Vocabulary.characters(of: "xyz")
        var greedyWasBeaten = false
        for seed in UInt64(20)..<UInt64(40) {
            let model = try F.randomModel(.lstm, vocabularySize: 3, layers: 2, hidden: 6, seed: seed)
            // Larger weights than the default initialisation: peaked, state-dependent distributions.
            try model.loadStateDict(Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor * 4) }))
            let context = try vocabulary.encode("xy")
            var bestIDs: [Int] = [], bestScore = -Double.infinity
            for a in 0..<3 { for b in 0..<3 { for c in 0..<3 {
                let score = F.logProbability(of: [a, b, c], after: context, model: model)
                if score > bestScore { bestScore = score; bestIDs = [a, b, c] }
            } } }
            func run(_ options: TextGenerator.Options) throws -> GeneratedText {
                try TextGenerator(model: model, vocabulary: vocabulary, options: options).generate(prime: "xy", length: 3)
            }
            let exhaustive = try run(.init(beamWidth: 9))
            XCTAssertEqual(exhaustive.ids, bestIDs, "seed \(seed)")
            let accuracy = F.logProbabilityAccuracy(count: 3, context: context.count, model: model)
            XCTAssertEqual(exhaustive.logProbability, bestScore, accuracy: accuracy)
            XCTAssertEqual(try run(.init(beamWidth: 100)).ids, bestIDs, "a width above the candidate count is fine")

            let greedy = try run(.init(temperature: 0))
            let greedyScore = F.logProbability(of: greedy.ids, after: context, model: model)
            XCTAssertGreaterThanOrEqual(exhaustive.logProbability, greedy.logProbability - 1e-6)
            for width in 2...3 {
                let beam = try run(.init(beamWidth: width))
                let score = F.logProbability(of: beam.ids, after: context, model: model)
                XCTAssertEqual(beam.logProbability, score, accuracy: accuracy)
                XCTAssertLessThanOrEqual(score, bestScore + 1e-6)
            }
            if bestScore > greedyScore + 1e-3 { greedyWasBeaten = true }
        }
        XCTAssertTrue(greedyWasBeaten, "no seed where greedy is suboptimal: the test proves little")
    }

    func testBeamSearchIsDeterministicAndIgnoresTheSeed() throws {
        let vocabulary = Vocabulary.characters(of: F.text)
        let model = try F.randomModel(.gru, vocabularySize: vocabulary.count)
        let a = try TextGenerator(model: model, vocabulary: vocabulary, options: .init(beamWidth: 4, seed: 1))
            .generate(prime: "dog", length: 25)
        let b = try TextGenerator(model: model, vocabulary: vocabulary, options: .init(temperature: 3, beamWidth: 4, seed: 2))
            .generate(prime: "dog", length: 25)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.logProbability, F.logProbability(of: a.ids, after: a.contextIDs, model: model),
                       accuracy: F.logProbabilityAccuracy(count: a.ids.count, context: a.contextIDs.count, model: model))
    }
}
