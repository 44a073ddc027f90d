import XCTest
import Recurrent

final class LayerValidationTests: XCTestCase {
    /// Asserts that `body` throws a ConfigurationError naming `argument`.
    func assertRejects(_ argument: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected a ConfigurationError for \(argument)", file: file, line: line)
        } catch let error as ConfigurationError {
            XCTAssertEqual(error.argument, argument, file: file, line: line)
            XCTAssertTrue(error.localizedDescription.contains(argument), error.localizedDescription, file: file, line: line)
        } catch {
            XCTFail("expected a ConfigurationError, got \(error)", file: file, line: line)
        }
    }

    func testInvalidConstructorArgumentsThrowNamingTheArgument() {
        var rng = RandomGenerator(seed: 1)
        assertRejects("hiddenSize") { _ = try LSTM(inputSize: 3, hiddenSize: 0, using: &rng) }
        assertRejects("hiddenSize") { _ = try GRU(inputSize: 3, hiddenSize: -2, using: &rng) }
        assertRejects("inputSize") { _ = try RNN(inputSize: 0, hiddenSize: 4, using: &rng) }
        assertRejects("projSize") { _ = try LSTM(inputSize: 3, hiddenSize: 4, projSize: 4, using: &rng) }
        assertRejects("projSize") { _ = try LSTM(inputSize: 3, hiddenSize: 4, projSize: 9, using: &rng) }
        assertRejects("projSize") { _ = try LSTM(inputSize: 3, hiddenSize: 4, projSize: -1, using: &rng) }
        assertRejects("dropout") { _ = try LSTM(inputSize: 3, hiddenSize: 4, numLayers: 2, dropout: -0.1, using: &rng) }
        assertRejects("dropout") { _ = try GRU(inputSize: 3, hiddenSize: 4, numLayers: 2, dropout: 1.5, using: &rng) }
        assertRejects("dropout") { _ = try RNN(inputSize: 3, hiddenSize: 4, dropout: .nan, using: &rng) }
        assertRejects("numLayers") { _ = try LSTM(inputSize: 3, hiddenSize: 4, numLayers: 0, using: &rng) }
        assertRejects("numLayers") { _ = try RNN(inputSize: 3, hiddenSize: 4, numLayers: 0) }
        // The boundaries themselves are valid.
        XCTAssertNoThrow(try LSTM(inputSize: 1, hiddenSize: 2, numLayers: 1, dropout: 1, projSize: 1, using: &rng))
        XCTAssertNoThrow(try GRU(inputSize: 1, hiddenSize: 1, dropout: 0, using: &rng))
    }

    func testConfigurationValidationRejectsLSTMOnlyOptionsElsewhere() {
        assertRejects("projSize") {
            try RecurrentLayerConfiguration(cell: .gru, inputSize: 2, hiddenSize: 4, projSize: 2).validate()
        }
        assertRejects("peephole") {
            try RecurrentLayerConfiguration(cell: .rnn(.relu), inputSize: 2, hiddenSize: 4, peephole: true).validate()
        }
    }

    func testFailedConstructionDrawsNothingFromTheGlobalGenerator() throws {
        // A failed construction draws nothing: validation runs before initialisation.
        GlobalRandom.seed(9)
        let before = GlobalRandom.state
        XCTAssertThrowsError(try LSTM(inputSize: 3, hiddenSize: 0))
        XCTAssertEqual(GlobalRandom.state, before)
    }

    func testLoadStateDictWithWrongShapeNamesTheParameter() throws {
        var rng = RandomGenerator(seed: 2)
        let lstm = try LSTM(inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, using: &rng)
        var dict = Dictionary(uniqueKeysWithValues: lstm.stateDict().map { ($0.name, $0.tensor) })
        let original = lstm.stateDict().map(\.tensor)
        dict["weight_hh_l1_reverse"] = Tensor(zeros: [16, 5])
        XCTAssertThrowsError(try lstm.loadStateDict(dict)) { error in
            XCTAssertEqual(error as? StateDictError,
                           .shapeMismatch(name: "weight_hh_l1_reverse", expected: [16, 4], found: [16, 5]))
        }
        XCTAssertEqual(lstm.stateDict().map(\.tensor), original, "a failed load changes nothing")
        dict["weight_hh_l1_reverse"] = nil
        XCTAssertThrowsError(try lstm.loadStateDict(dict)) { error in
            XCTAssertEqual(error as? StateDictError, .missing(name: "weight_hh_l1_reverse"))
        }
    }

    func testStateDictRoundTripReproducesOutputs() throws {
        var rng = RandomGenerator(seed: 3)
        let a = try LSTM(inputSize: 3, hiddenSize: 4, numLayers: 2, projSize: 2, peephole: true, using: &rng)
        let b = try LSTM(inputSize: 3, hiddenSize: 4, numLayers: 2, projSize: 2, peephole: true, using: &rng)
        let x = Variable(.uniform(shape: [3, 2, 3], low: -1, high: 1, using: &rng))
        XCTAssertNotEqual(a(x).output.value, b(x).output.value)
        try b.loadStateDict(Dictionary(uniqueKeysWithValues: a.stateDict().map { ($0.name, $0.tensor) }))
        XCTAssertEqual(a(x).output.value, b(x).output.value)
        // Layer 0: 16·3 + 16·2 + 2·16 + 2·4 + 3·4 = 132; layer 1 reads the projected width 2: 16·2 + 16·2 + 32 + 8 + 12 = 116.
        XCTAssertEqual(a.parameterCount, 248)
    }
}
