import XCTest
import Recurrent
import RecurrentTestSupport

final class LanguageModelTests: XCTestCase {
    private func model(_ cell: LanguageModel.Cell, layers: Int = 2) throws -> LanguageModel {
        var rng = RandomGenerator(seed: 5)
        return try LanguageModel(.init(cell: cell, vocabularySize: 5, embeddingSize: 3, hiddenSize: 4, numLayers: layers),
                                 using: &rng)
    }

    func testStateDictNamesFollowPyTorchModuleNames() throws {
        XCTAssertEqual(try model(.lstm, layers: 1).namedParameters.map(\.name), [
            "embedding.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0",
            "head.weight", "head.bias",
        ])
        XCTAssertEqual(try model(.gru, layers: 1).namedParameters.map(\.name)[1], "gru.weight_ih_l0")
        XCTAssertEqual(try model(.rnn, layers: 1).namedParameters.map(\.name)[1], "rnn.weight_ih_l0")
        XCTAssertTrue(try model(.peepholeLSTM, layers: 1).namedParameters.map(\.name).contains("lstm.weight_ci_l0"))
    }

    func testGradientsOfEveryCellKindMatchFiniteDifferences() throws {
        let tokens = [0, 3, 1, 4, 2, 2, 1, 0], targets = [3, 1, 4, 2, 2, 1, 0, 3]
        for cell in LanguageModel.Cell.allCases {
            let m = try model(cell)
            let bad = GradientCheck(maxElementsPerVariable: 12).mismatches(of: m.namedParameters.map { ($0.name, $0.parameter) }) {
                crossEntropy(logits: m(tokens, batchSize: 2, sequenceLength: 4).logits, targets: targets) * 10
            }
            XCTAssertTrue(bad.isEmpty, "\(cell): \(bad)")
        }
    }

    func testCarriedStateEqualsOneLongSequence() throws {
        // Running two windows with the state carried equals running the concatenated sequence.
        let m = try model(.lstm)
        m.isTraining = false
        let whole = m([1, 2, 3, 4, 0, 1], batchSize: 1, sequenceLength: 6).logits.value
        let first = m([1, 2, 3], batchSize: 1, sequenceLength: 3)
        let second = m([4, 0, 1], batchSize: 1, sequenceLength: 3, state: first.state.detached()).logits.value
        let joined = Tensor.concatenated([first.logits.value, second], axis: 1)
        assertClose(joined, whole, within: .languageModel(m, sequenceLength: 6))
    }

    func testInvalidVocabularyIsNamed() {
        XCTAssertThrowsError(try LanguageModel(.init(vocabularySize: 0, embeddingSize: 3, hiddenSize: 4))) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "vocabularySize")
        }
        XCTAssertThrowsError(try LanguageModel(.init(vocabularySize: 4, embeddingSize: 3, hiddenSize: 0))) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "hiddenSize")
        }
    }
}
