import Foundation
import XCTest
import Recurrent

/// Cell variants as options of the standard cells: the reset-before GRU (Cho et al. 2014) and layer
/// normalisation inside RNN, GRU and LSTM cells (Ba et al. 2016). Values by hand in Double and against
/// the equations written out in torch (scripts/reference/cell_variants.py); finite-difference gradients.
final class CellVariantTests: XCTestCase {
    typealias S = CellTestSupport

    // The inputs of cells.py / cell_variants.py: batchSize 2, inputSize 3, hiddenSize 4.
    private let x = Variable(S.pattern([2, 3], a: 5, b: 3, m: 9, scale: 0.25))
    private let h0 = Variable(S.pattern([2, 4], a: 3, b: 1, m: 7, scale: 0.2))
    private let c0 = Variable(S.pattern([2, 4], a: 11, b: 2, m: 13, scale: 0.15))

    // MARK: GRU, reset-before

    func testResetBeforeGRUStepComputedByHandInDouble() throws {
        // Hand-set weights: inputSize 2, hiddenSize 2, batchSize 2; every number is written here.
        let cell = try GRUCell(inputSize: 2, hiddenSize: 2, resetAfter: false)
        XCTAssertFalse(cell.resetAfter)
        let wIH: [[Double]] = [[0.5, -0.3], [0.2, 0.4], [-0.6, 0.1], [0.3, 0.3], [0.7, -0.2], [-0.1, 0.5]]
        let wHH: [[Double]] = [[0.4, 0.1], [-0.2, 0.6], [0.3, -0.5], [0.1, 0.2], [0.9, -0.4], [-0.3, 0.8]]
        let bIH: [Double] = [0.1, -0.1, 0.05, 0.2, -0.3, 0.15]
        let bHH: [Double] = [-0.05, 0.1, 0.2, -0.1, 0.25, -0.2]
        func tensor(_ rows: [[Double]]) -> Tensor { Tensor(rows: rows.map { $0.map(Float.init) }) }
        try cell.loadStateDict(["weight_ih": tensor(wIH), "weight_hh": tensor(wHH),
                                "bias_ih": Tensor(bIH.map(Float.init)), "bias_hh": Tensor(bHH.map(Float.init))])
        let xs: [[Double]] = [[1.0, -0.5], [0.25, 0.75]], hs: [[Double]] = [[0.3, -0.6], [-0.8, 0.1]]

        func sigmoid(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }
        var expected = [Float]()
        for b in 0..<2 {
            // Row k of W·v + bias.
            func affine(_ w: [[Double]], _ bias: [Double], _ k: Int, _ v: [Double]) -> Double {
                bias[k] + w[k][0] * v[0] + w[k][1] * v[1]
            }
            let x = xs[b], h = hs[b]
            let r = (0..<2).map { j in sigmoid(affine(wIH, bIH, j, x) + affine(wHH, bHH, j, h)) }
            let z = (0..<2).map { j in sigmoid(affine(wIH, bIH, 2 + j, x) + affine(wHH, bHH, 2 + j, h)) }
            let rh = [r[0] * h[0], r[1] * h[1]]   // the reset gate acts BEFORE W_hn
            let n = (0..<2).map { j in Foundation.tanh(affine(wIH, bIH, 4 + j, x) + affine(wHH, bHH, 4 + j, rh)) }
            expected += (0..<2).map { j in Float((1 - z[j]) * n[j] + z[j] * h[j]) }
        }
        let step = cell(Variable(tensor(xs)), state: Variable(tensor(hs)))
        S.assertClose(step.output.value, expected, rtol: 1e-6, atol: 1e-6)
        // The reset-after form of the same parameters differs (r multiplies W_hn h + b_hn instead).
        let after = try GRUCell(inputSize: 2, hiddenSize: 2)
        try after.loadStateDict(Dictionary(uniqueKeysWithValues: cell.stateDict().map { ($0.name, $0.tensor) }))
        let difference = zip(after(Variable(tensor(xs)), state: Variable(tensor(hs))).output.value.scalars, expected)
            .map { abs($0 - $1) }.max()!
        XCTAssertGreaterThan(difference, 0.01)
    }

    func testResetBeforeGRUMatchesWrittenOutEquations() throws {
        let cell = try GRUCell(inputSize: 3, hiddenSize: 4, resetAfter: false)
        try S.loadPattern(cell)
        S.assertClose(cell(x, state: h0).output.value, [
            -0.56947956, 0.13146818, -0.043330322, -0.097205405, 0.1372294, -0.2052663, 0.52492249, -0.34280601,
        ])
        XCTAssertEqual(cell.namedParameters.map(\.name), ["weight_ih", "weight_hh", "bias_ih", "bias_hh"])
        // Both forms agree at h = 0 only when b_hn = 0; with a zero state and no bias they coincide.
        let a = try GRUCell(inputSize: 3, hiddenSize: 4, bias: false), b = try GRUCell(inputSize: 3, hiddenSize: 4, bias: false, resetAfter: false)
        try S.loadPattern(a)
        try S.loadPattern(b)
        XCTAssertEqual(a(x, state: nil).output.value, b(x, state: nil).output.value)
    }

    func testResetBeforeGRUGradients() throws {
        var rng = RandomGenerator(seed: 51)
        for bias in [true, false] {
            let cell = try GRUCell(inputSize: 3, hiddenSize: 4, bias: bias, resetAfter: false, using: &rng)
            let input = S.leaf([2, 3], &rng), state = S.leaf([2, 4], &rng)
            let probe = Variable(.uniform(shape: [2, 4], low: -1, high: 1, using: &rng))
            let bad = S.gradientMismatches([("input", input), ("state", state)] + cell.namedParameters.map { ($0.name, $0.parameter) }) {
                (cell(input, state: state).output * probe).sum()
            }
            XCTAssertTrue(bad.isEmpty, "bias \(bias): \(bad)")
        }
    }

    // MARK: Layer normalisation inside cells

    func testLayerNormCellsMatchWrittenOutEquations() throws {
        let lstm = try LSTMCell(inputSize: 3, hiddenSize: 4, layerNorm: true)
        try S.loadPattern(lstm)
        let step = lstm(x, state: LSTMState(h: h0, c: c0))
        S.assertClose(step.state.h.value, [
            0.10205278, 0.19454866, 0.21427878, -0.23539803, 0.10840713, -0.0025455911, 0.22581811, -0.2163174,
        ])
        S.assertClose(step.state.c.value, [
            -0.83118079, -0.70756057, 0.7951634, 0.33852014, -0.5180768, -0.14979098, 0.27506356, -0.43084054,
        ])
        let gruAfter = try GRUCell(inputSize: 3, hiddenSize: 4, layerNorm: true)
        try S.loadPattern(gruAfter)
        S.assertClose(gruAfter(x, state: h0).output.value, [
            -0.76078309, 0.068437892, -0.34648284, 0.29934839, -0.2722795, -0.17222704, 0.48913467, -0.19203282,
        ])
        let gruBefore = try GRUCell(inputSize: 3, hiddenSize: 4, resetAfter: false, layerNorm: true)
        try S.loadPattern(gruBefore)
        S.assertClose(gruBefore(x, state: h0).output.value, [
            -0.78028069, 0.072512836, -0.3082203, 0.39843184, -0.2804135, -0.16252518, 0.52535864, -0.17327114,
        ])
        let rnn = try RNNCell(inputSize: 3, hiddenSize: 4, layerNorm: true)
        try S.loadPattern(rnn)
        S.assertClose(rnn(x, state: h0).output.value, [
            0.65825742, 0.32715683, 0.65497504, -0.79941892, 0.56414955, 0.46207405, 0.22024903, 0.48400525,
        ])
    }

    func testLayerNormParameterNamesShapesAndInitialisation() throws {
        let lstm = try LSTMCell(inputSize: 3, hiddenSize: 5, peephole: true, layerNorm: true)
        XCTAssertTrue(lstm.hasLayerNorm)
        XCTAssertEqual(lstm.namedParameters.map(\.name), [
            "weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_ci", "weight_cf", "weight_co",
            "ln_ih.weight", "ln_ih.bias", "ln_hh.weight", "ln_hh.bias", "ln_c.weight", "ln_c.bias",
        ])
        XCTAssertEqual(lstm.namedParameters.suffix(6).map(\.parameter.shape), [[20], [20], [20], [20], [5], [5]])
        let gru = try GRUCell(inputSize: 3, hiddenSize: 5, bias: false, layerNorm: true)
        XCTAssertEqual(gru.namedParameters.map(\.name), ["weight_ih", "weight_hh", "ln_ih.weight", "ln_ih.bias", "ln_hh.weight", "ln_hh.bias"])
        XCTAssertEqual(gru.namedParameters.map(\.parameter.shape), [[15, 3], [15, 5], [15], [15], [15], [15]])
        let rnn = try RNNCell(inputSize: 3, hiddenSize: 5, layerNorm: true)
        XCTAssertEqual(rnn.namedParameters.suffix(4).map(\.name), ["ln_ih.weight", "ln_ih.bias", "ln_hh.weight", "ln_hh.bias"])
        XCTAssertEqual(rnn.namedParameters.suffix(4).map(\.parameter.shape), [[5], [5], [5], [5]])
        // Gains 1, shifts 0, and no draws: the other parameters equal those of the plain cell.
        for (name, p) in lstm.namedParameters where name.hasPrefix("ln_") {
            XCTAssertEqual(p.value, Tensor(repeating: name.hasSuffix(".weight") ? 1 : 0, shape: p.shape), name)
        }
        var a = RandomGenerator(seed: 3), b = RandomGenerator(seed: 3)
        let plain = try GRUCell(inputSize: 3, hiddenSize: 5, using: &a)
        let normed = try GRUCell(inputSize: 3, hiddenSize: 5, layerNorm: true, using: &b)
        XCTAssertEqual(plain.stateDict().map(\.tensor), Array(normed.stateDict().map(\.tensor).prefix(4)))
        XCTAssertEqual(a, b)
        XCTAssertFalse(plain.hasLayerNorm)
    }

    func testLayerNormCellGradients() throws {
        var rng = RandomGenerator(seed: 52)
        // Gains and shifts away from their initial 1 and 0, so that every term is exercised.
        func randomizeNorms(_ cell: some Module) {
            for (name, p) in cell.namedParameters where name.hasPrefix("ln_") {
                p.value = .uniform(shape: p.shape, low: name.hasSuffix(".weight") ? 0.5 : -0.5,
                                   high: name.hasSuffix(".weight") ? 1.5 : 0.5, using: &rng)
            }
        }
        func parameters(_ cell: some Module) -> [(String, Variable)] { cell.namedParameters.map { ($0.name, $0.parameter) } }
        for peephole in [false, true] {
            let cell = try LSTMCell(inputSize: 3, hiddenSize: 4, peephole: peephole, layerNorm: true, using: &rng)
            randomizeNorms(cell)
            let input = S.leaf([2, 3], &rng), h = S.leaf([2, 4], &rng), c = S.leaf([2, 4], &rng)
            let probeH = Variable(.uniform(shape: [2, 4], low: -1, high: 1, using: &rng))
            let probeC = Variable(.uniform(shape: [2, 4], low: -1, high: 1, using: &rng))
            let bad = S.gradientMismatches([("input", input), ("h", h), ("c", c)] + parameters(cell)) {
                let step = cell(input, state: LSTMState(h: h, c: c))
                return (step.state.h * probeH).sum() + (step.state.c * probeC).sum()
            }
            XCTAssertTrue(bad.isEmpty, "LSTM peephole \(peephole): \(bad)")
        }
        for resetAfter in [true, false] {
            let cell = try GRUCell(inputSize: 3, hiddenSize: 4, resetAfter: resetAfter, layerNorm: true, using: &rng)
            randomizeNorms(cell)
            let input = S.leaf([2, 3], &rng), state = S.leaf([2, 4], &rng)
            let probe = Variable(.uniform(shape: [2, 4], low: -1, high: 1, using: &rng))
            let bad = S.gradientMismatches([("input", input), ("state", state)] + parameters(cell)) {
                (cell(input, state: state).output * probe).sum()
            }
            XCTAssertTrue(bad.isEmpty, "GRU resetAfter \(resetAfter): \(bad)")
        }
        let rnn = try RNNCell(inputSize: 3, hiddenSize: 4, layerNorm: true, using: &rng)
        randomizeNorms(rnn)
        let input = S.leaf([2, 3], &rng), state = S.leaf([2, 4], &rng)
        let probe = Variable(.uniform(shape: [2, 4], low: -1, high: 1, using: &rng))
        let bad = S.gradientMismatches([("input", input), ("state", state)] + parameters(rnn)) {
            (rnn(input, state: state).output * probe).sum()
        }
        XCTAssertTrue(bad.isEmpty, "RNN: \(bad)")
    }

    func testVariantsRunOverSequencesWithBPTTGradients() throws {
        // Every option through runSequence: gradients reach the input, the initial state and all parameters.
        var rng = RandomGenerator(seed: 53)
        let cell = try GRUCell(inputSize: 3, hiddenSize: 4, resetAfter: false, layerNorm: true, using: &rng)
        let input = S.leaf([4, 2, 3], &rng), state = S.leaf([2, 4], &rng)
        let probe = Variable(.uniform(shape: [4, 2, 4], low: -1, high: 1, using: &rng))
        let bad = S.gradientMismatches([("input", input), ("state", state)] + cell.namedParameters.map { ($0.name, $0.parameter) }) {
            (runSequence(cell, over: input, initialState: state).output * probe).sum()
        }
        XCTAssertTrue(bad.isEmpty, "\(bad)")
        let lstm = try LSTMCell(inputSize: 3, hiddenSize: 4, layerNorm: true, using: &rng)
        let result = runSequence(lstm, over: input, lengths: [4, 2])
        XCTAssertEqual(result.output.shape, [4, 2, 4])
        XCTAssertEqual(result.output.value.scalars[(3 * 2 + 1) * 4], 0, "padding steps give zero output")
    }
}
