import Foundation
import XCTest
import Recurrent

/// The reference cells: one step against PyTorch (scripts/reference/cells.py), finite-difference
/// gradients with respect to the input, the state and every parameter, state-dict names, shapes,
/// initialisation and argument validation.
final class CellTests: XCTestCase {
    typealias S = CellTestSupport

    // The inputs of cells.py: batchSize 2, inputSize 3, hiddenSize 4.
    private let x = Variable(S.pattern([2, 3], a: 5, b: 3, m: 9, scale: 0.25))
    private let h0 = Variable(S.pattern([2, 4], a: 3, b: 1, m: 7, scale: 0.2))
    private let c0 = Variable(S.pattern([2, 4], a: 11, b: 2, m: 13, scale: 0.15))

    // MARK: One step against PyTorch

    func testRNNCellMatchesPyTorch() throws {
        let tanhCell = try RNNCell(inputSize: 3, hiddenSize: 4)
        try S.loadPattern(tanhCell)
        S.assertClose(tanhCell(x, state: h0).output.value, [
            0.73751106, -0.36096932, 0.32658437, 0.035984449, 0.37652119, -0.64401262, 0.11350872, -0.65954054,
        ])
        let reluCell = try RNNCell(inputSize: 3, hiddenSize: 4, nonlinearity: .relu)
        try S.loadPattern(reluCell)
        S.assertClose(reluCell(x, state: h0).output.value, [0.945, 0, 0.33900003, 0.035999993, 0.39599997, 0, 0.11400001, 0])

        let noBias = try RNNCell(inputSize: 3, hiddenSize: 4, bias: false)
        try S.loadPattern(noBias)
        let step = noBias(x, state: nil)
        S.assertClose(step.output.value, [
            0.43415058, -0.31852079, -0.10461582, 0.1194273, 0.39693043, -0.27752635, 0.029991005, -0.39693042,
        ])
        XCTAssertTrue(step.state === step.output)
    }

    func testLSTMCellMatchesPyTorch() throws {
        let cell = try LSTMCell(inputSize: 3, hiddenSize: 4)
        try S.loadPattern(cell)
        let step = cell(x, state: LSTMState(h: h0, c: c0))
        S.assertClose(step.output.value, [
            -0.25864771, -0.15444768, 0.35755699, 0.068718798, -0.082321207, -0.083677261, 0.039257, -0.33595511,
        ])
        S.assertClose(step.state.c.value, [
            -0.83703169, -0.31678381, 0.92256845, 0.16639865, -0.21878362, -0.18412285, 0.080618494, -0.58295482,
        ])
        XCTAssertEqual(step.state.h.value, step.output.value)

        let fromZero = cell(x, state: nil)
        S.assertClose(fromZero.state.h.value, [
            -0.15348359, -0.011874284, 0.21232566, -0.071221332, -0.1888752, -0.0099703818, 0.20016743, -0.029350499,
        ])
        S.assertClose(fromZero.state.c.value, [
            -0.45363644, -0.021648237, 0.4083074, -0.14791615, -0.47699034, -0.022274306, 0.45482318, -0.0475479,
        ])
    }

    func testGRUCellMatchesPyTorch() throws {
        let cell = try GRUCell(inputSize: 3, hiddenSize: 4)
        try S.loadPattern(cell)
        S.assertClose(cell(x, state: h0).output.value, [
            -0.56198811, 0.20172617, -0.080749766, -0.14662532, 0.14629787, -0.090869068, 0.47947433, -0.3815519,
        ])
        let noBias = try GRUCell(inputSize: 3, hiddenSize: 4, bias: false)
        try S.loadPattern(noBias)
        S.assertClose(noBias(x, state: h0).output.value, [
            -0.37863329, 0.11251954, -0.061930998, -0.11903299, 0.23090975, -0.1817627, 0.39295214, -0.35192761,
        ])
    }

    func testPeepholeLSTMCellMatchesWrittenOutEquations() throws {
        // cells.py evaluates the Gers & Schmidhuber equations with torch ops (PyTorch has no peepholes).
        let cell = try LSTMCell(inputSize: 3, hiddenSize: 4, peephole: true)
        try S.loadPattern(cell)
        let step = cell(x, state: LSTMState(h: h0, c: c0))
        S.assertClose(step.output.value, [
            -0.25244057, -0.11973659, 0.28684603, 0.074355592, -0.083952527, -0.084117619, 0.051028755, -0.32274132,
        ])
        S.assertClose(step.state.c.value, [
            -0.84693779, -0.23710796, 0.9106456, 0.17382258, -0.22520324, -0.18182091, 0.10744969, -0.61741625,
        ])
    }

    func testPeepholeLSTMWithZeroPeepholesIsPlainLSTM() throws {
        var rng = RandomGenerator(seed: 11)
        let plain = try LSTMCell(inputSize: 3, hiddenSize: 4, using: &rng)
        let peephole = try LSTMCell(inputSize: 3, hiddenSize: 4, peephole: true, using: &rng)
        var dict = Dictionary(uniqueKeysWithValues: plain.stateDict().map { ($0.name, $0.tensor) })
        for name in ["weight_ci", "weight_cf", "weight_co"] { dict[name] = Tensor(zeros: [4]) }
        try peephole.loadStateDict(dict)
        let a = plain(x, state: LSTMState(h: h0, c: c0)), b = peephole(x, state: LSTMState(h: h0, c: c0))
        XCTAssertEqual(a.state.h.value, b.state.h.value)
        XCTAssertEqual(a.state.c.value, b.state.c.value)
    }

    func testNilStateIsExactlyZeroState() throws {
        var rng = RandomGenerator(seed: 12)
        let gru = try GRUCell(inputSize: 3, hiddenSize: 4, using: &rng)
        XCTAssertEqual(gru(x, state: nil).output.value, gru(x, state: Variable(Tensor(zeros: [2, 4]))).output.value)
        let lstm = try LSTMCell(inputSize: 3, hiddenSize: 4, peephole: true, using: &rng)
        XCTAssertEqual(lstm(x, state: nil).state.c.value, lstm(x, state: lstm.zeroState(batchSize: 2)).state.c.value)
        XCTAssertEqual(lstm.zeroState(batchSize: 5).h.value, Tensor(zeros: [5, 4]))
    }

    // MARK: Gradients

    func testRNNCellGradients() throws {
        var rng = RandomGenerator(seed: 21)
        for nonlinearity in RNNNonlinearity.allCases {
            let cell = try RNNCell(inputSize: 3, hiddenSize: 4, nonlinearity: nonlinearity, using: &rng)
            let input = S.leaf([2, 3], &rng), state = S.leaf([2, 4], &rng)
            let probe = Variable(.uniform(shape: [2, 4], low: -1, high: 1, using: &rng))
            if nonlinearity == .relu {
                // Keep away from ReLU's kink, where finite differences are meaningless: a perturbation
                // of ε = 0.01 in one input, state, weight or bias (|inputs| ≤ 1, |weights| ≤ 1/2) moves
                // a pre-activation by at most 0.01, so every |pre-activation| must exceed that.
                let z = linear(input, weight: cell.weightIH, bias: cell.biasIH) + linear(state, weight: cell.weightHH, bias: cell.biasHH)
                XCTAssertGreaterThan(z.value.scalars.map(abs).min()!, 0.02, "pick another seed: a pre-activation is near 0")
            }
            let bad = S.gradientMismatches([("input", input), ("state", state)] + cell.namedParameters.map { ($0.name, $0.parameter) }) {
                (cell(input, state: state).output * probe).sum()
            }
            XCTAssertTrue(bad.isEmpty, "\(nonlinearity): \(bad)")
        }
    }

    func testLSTMCellGradients() throws {
        var rng = RandomGenerator(seed: 22)
        for peephole in [false, true] {
            let cell = try LSTMCell(inputSize: 3, hiddenSize: 4, peephole: peephole, using: &rng)
            let input = S.leaf([2, 3], &rng), h = S.leaf([2, 4], &rng), c = S.leaf([2, 4], &rng)
            let probeH = Variable(.uniform(shape: [2, 4], low: -1, high: 1, using: &rng))
            let probeC = Variable(.uniform(shape: [2, 4], low: -1, high: 1, using: &rng))
            let variables = [("input", input), ("h", h), ("c", c)] + cell.namedParameters.map { ($0.name, $0.parameter) }
            XCTAssertEqual(variables.count, peephole ? 10 : 7)
            let bad = S.gradientMismatches(variables) {
                let step = cell(input, state: LSTMState(h: h, c: c))
                return (step.state.h * probeH).sum() + (step.state.c * probeC).sum()
            }
            XCTAssertTrue(bad.isEmpty, "peephole \(peephole): \(bad)")
        }
    }

    func testGRUCellGradients() throws {
        var rng = RandomGenerator(seed: 23)
        for bias in [true, false] {
            let cell = try GRUCell(inputSize: 3, hiddenSize: 4, bias: bias, using: &rng)
            let input = S.leaf([2, 3], &rng), state = S.leaf([2, 4], &rng)
            let probe = Variable(.uniform(shape: [2, 4], low: -1, high: 1, using: &rng))
            let bad = S.gradientMismatches([("input", input), ("state", state)] + cell.namedParameters.map { ($0.name, $0.parameter) }) {
                (cell(input, state: state).output * probe).sum()
            }
            XCTAssertTrue(bad.isEmpty, "bias \(bias): \(bad)")
        }
    }

    // MARK: Parameters, initialisation, validation

    func testStateDictNamesAndShapes() throws {
        let rnn = try RNNCell(inputSize: 3, hiddenSize: 5)
        XCTAssertEqual(rnn.namedParameters.map(\.name), ["weight_ih", "weight_hh", "bias_ih", "bias_hh"])
        XCTAssertEqual(rnn.namedParameters.map(\.parameter.shape), [[5, 3], [5, 5], [5], [5]])
        let lstm = try LSTMCell(inputSize: 3, hiddenSize: 5, peephole: true)
        XCTAssertEqual(lstm.namedParameters.map(\.name),
                       ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_ci", "weight_cf", "weight_co"])
        XCTAssertEqual(lstm.namedParameters.map(\.parameter.shape), [[20, 3], [20, 5], [20], [20], [5], [5], [5]])
        XCTAssertTrue(lstm.hasPeepholes)
        let gru = try GRUCell(inputSize: 3, hiddenSize: 5, bias: false)
        XCTAssertEqual(gru.namedParameters.map(\.name), ["weight_ih", "weight_hh"])
        XCTAssertEqual(gru.namedParameters.map(\.parameter.shape), [[15, 3], [15, 5]])
        XCTAssertEqual(try LSTMCell(inputSize: 2, hiddenSize: 3, bias: false).parameterCount, 12 * 2 + 12 * 3)
    }

    func testDefaultInitialisationIsUniformWithinOneOverSqrtHiddenSize() throws {
        var rng = RandomGenerator(seed: 31)
        let cell = try LSTMCell(inputSize: 10, hiddenSize: 16, peephole: true, using: &rng)
        let bound: Float = 1 / 4
        for (name, p) in cell.namedParameters {
            XCTAssertTrue(p.value.scalars.allSatisfy { abs($0) <= bound }, "\(name) exceeds ±1/√hiddenSize")
            XCTAssertTrue(p.requiresGrad && p.isLeaf, name)
        }
        // Uniform on ±b has mean 0 and variance b²/3: check the 64·26 = 1664 weights of weight_hh.
        let w = cell.weightHH.value
        XCTAssertEqual(w.mean(), 0, accuracy: 0.02)
        let variance = w.scalars.map { $0 * $0 }.reduce(0, +) / Float(w.count)
        XCTAssertEqual(variance, bound * bound / 3, accuracy: 0.003)
    }

    func testGlobalRandomInitialiserDrawsFromTheProcessWideGenerator() throws {
        GlobalRandom.seed(99)
        let a = try GRUCell(inputSize: 3, hiddenSize: 4)
        var rng = RandomGenerator(seed: 99)
        let b = try GRUCell(inputSize: 3, hiddenSize: 4, using: &rng)
        XCTAssertEqual(a.stateDict().map(\.tensor), b.stateDict().map(\.tensor))
        // Drawing advanced the global generator exactly as it advanced the explicit one.
        XCTAssertEqual(GlobalRandom.state, rng)
    }

    func testInvalidSizesThrowErrorsNamingTheArgument() {
        XCTAssertThrowsError(try RNNCell(inputSize: 0, hiddenSize: 4)) { error in
            XCTAssertEqual(error as? ConfigurationError, ConfigurationError(argument: "inputSize", reason: "must be positive, got 0"))
        }
        XCTAssertThrowsError(try LSTMCell(inputSize: 3, hiddenSize: -2)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "hiddenSize")
            XCTAssertEqual(error.localizedDescription, "invalid hiddenSize: must be positive, got -2")
        }
        var rng = RandomGenerator(seed: 1)
        let before = rng
        XCTAssertThrowsError(try GRUCell(inputSize: 3, hiddenSize: 0, using: &rng))
        XCTAssertEqual(rng, before, "a rejected configuration must not consume random numbers")
    }
}
