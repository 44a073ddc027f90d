import Foundation
import RecurrentCore
import RecurrentLayers
import RecurrentText
import XCTest

/// The generated mirror task (word order reversed, words translated) with and without attention, same
/// data, same steps, same seed. A bounded run (two models, about 11 s in a debug build, 2 s in
/// release); the full comparison is in docs/applications.md, "Translation".
final class TranslationLearningTests: XCTestCase {
    func testAttentionBeatsAFixedContextOnTheMirrorTask() throws {
        let text = try GeneratedTranslationTask.mirror.text(count: 1000, seed: 1, lengths: 5...8)
        let corpus = try ParallelCorpus(text: text, level: .word, label: "mirror")
        var scores = [Bool: TranslationScores]()
        for attention in [false, true] {
            var configuration = TranslationConfiguration()
            configuration.level = .word
            configuration.attention = attention
            configuration.hiddenSize = 32
            configuration.embeddingSize = 16
            configuration.batchSize = 16
            configuration.learningRate = 0.01
            configuration.steps = 150
            configuration.validationFraction = 0.1
            let result = try TranslationTrainer(configuration: configuration, corpus: corpus).train()
            scores[attention] = try XCTUnwrap(result.heldOut)
        }
        let plain = scores[false]!, attended = scores[true]!
        print("mirror 5-8 words, 150 steps: fixed context exact \(plain.exactMatch) BLEU \(plain.bleu); "
              + "attention exact \(attended.exactMatch) BLEU \(attended.bleu)")
        XCTAssertEqual(attended.count, 100)
        // Measured (debug, this seed): fixed context exact 0.00, BLEU 0.10; attention exact 0.37, BLEU 0.74.
        XCTAssertGreaterThanOrEqual(attended.bleu - plain.bleu, 0.3)
        XCTAssertGreaterThanOrEqual(attended.exactMatch - plain.exactMatch, 0.15)
    }
}
