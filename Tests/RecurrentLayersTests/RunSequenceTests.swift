import Foundation
import XCTest
import Recurrent

/// The generic sequence runner: both directions against a bidirectional PyTorch GRU
/// (scripts/reference/cells.py), agreement with a hand-written loop, and BPTT gradients.
final class RunSequenceTests: XCTestCase {
    typealias S = CellTestSupport

    func testBothDirectionsMatchBidirectionalPyTorchGRU() throws {
        // nn.GRU(3, 2, bidirectional=True) over (T 3, B 2, I 3); forward parameters are pattern
        // numbers 0-3, reverse ones 4-7.
        let forward = try GRUCell(inputSize: 3, hiddenSize: 2), backward = try GRUCell(inputSize: 3, hiddenSize: 2)
        try S.loadPattern(forward)
        try S.loadPattern(backward, offset: 4)
        let input = Variable(S.pattern([3, 2, 3], a: 5, b: 3, m: 9, scale: 0.25))
        let f = runSequence(forward, over: input)
        let r = runSequence(backward, over: input, reversed: true)
        XCTAssertEqual(f.output.shape, [3, 2, 2])
        let output = Variable.concatenated([f.output, r.output], axis: 2)
        S.assertClose(output.value, [
            -0.0091692106, -0.043692646, -0.10676937, 0.24144168, 0.12026331, 0.19761041, -0.34652649, 0.25877761,
            0.28541712, -0.10320611, -0.2142715, -0.06082574, 0.053598762, 0.060814372, -0.058469054, 0.22737265,
            0.29758535, 0.15362224, -0.30326892, 0.13293051, 0.32172688, -0.046412166, -0.05134456, -0.10076835,
        ])
        // h_n: the forward state after the last step, the reverse state after reading step 0.
        S.assertClose(Variable.stacked([f.state, r.state]).value, [
            0.29758535, 0.15362224, 0.32172688, -0.046412166, -0.10676937, 0.24144168, -0.34652649, 0.25877761,
        ])
    }

    func testRunnerEqualsHandWrittenLoopAndReverseReadsBackwards() throws {
        var rng = RandomGenerator(seed: 41)
        let cell = try LSTMCell(inputSize: 3, hiddenSize: 4, using: &rng)
        let input = Variable(.uniform(shape: [5, 2, 3], low: -1, high: 1, using: &rng))
        let initial = LSTMState(h: Variable(.uniform(shape: [2, 4], low: -1, high: 1, using: &rng)),
                                c: Variable(.uniform(shape: [2, 4], low: -1, high: 1, using: &rng)))
        let result = runSequence(cell, over: input, initialState: initial)
        var state = initial
        for t in 0..<5 {
            state = cell(input.select(t), state: state).state
            XCTAssertEqual(result.output.select(t).value, state.h.value, "step \(t)")
        }
        XCTAssertEqual(result.state.c.value, state.c.value)

        // Reversed: the same as running forward over the time-reversed input, then reversing the outputs.
        let flipped = Variable.stacked((0..<5).reversed().map { input.select($0) })
        let forwardOverFlipped = runSequence(cell, over: flipped, initialState: initial)
        let reversed = runSequence(cell, over: input, initialState: initial, reversed: true)
        for t in 0..<5 {
            XCTAssertEqual(reversed.output.select(t).value, forwardOverFlipped.output.select(4 - t).value)
        }
        XCTAssertEqual(reversed.state.h.value, forwardOverFlipped.state.h.value)
    }

    func testGradientsThroughTimeReachInputInitialStateAndParameters() throws {
        var rng = RandomGenerator(seed: 42)
        let cell = try LSTMCell(inputSize: 2, hiddenSize: 3, peephole: true, using: &rng)
        let input = S.leaf([4, 2, 2], &rng), h = S.leaf([2, 3], &rng), c = S.leaf([2, 3], &rng)
        let probe = Variable(.uniform(shape: [4, 2, 3], low: -1, high: 1, using: &rng))
        for reversed in [false, true] {
            let variables = [("input", input), ("h0", h), ("c0", c)] + cell.namedParameters.map { ($0.name, $0.parameter) }
            let bad = S.gradientMismatches(variables) {
                let run = runSequence(cell, over: input, initialState: LSTMState(h: h, c: c), reversed: reversed)
                return (run.output * probe).sum() + run.state.c.sum()
            }
            XCTAssertTrue(bad.isEmpty, "reversed \(reversed): \(bad)")
        }
    }

    func testRNNCellOverSequenceGradients() throws {
        var rng = RandomGenerator(seed: 43)
        let cell = try RNNCell(inputSize: 2, hiddenSize: 3, using: &rng)
        let input = S.leaf([3, 2, 2], &rng)
        let probe = Variable(.uniform(shape: [3, 2, 3], low: -1, high: 1, using: &rng))
        let bad = S.gradientMismatches([("input", input)] + cell.namedParameters.map { ($0.name, $0.parameter) }) {
            (runSequence(cell, over: input).output * probe).sum()
        }
        XCTAssertTrue(bad.isEmpty, "\(bad)")
    }
}
