import XCTest
import Recurrent
import RecurrentTestSupport

/// Variable-length batches on the generic runner: each row's final state at its own last step,
/// zero outputs on padding, masks, per-sample resets, the masked mean.
final class TopologyMaskTests: XCTestCase {
    private func tokensInput(_ rows: [[Float]], inputSize: Int) -> (Variable, Int) {
        // rows[b] holds lengths[b]·inputSize values; pads to the longest.
        let T = rows.map { $0.count / inputSize }.max()!, B = rows.count
        var grid = Tensor(zeros: [T, B, inputSize])
        for (b, row) in rows.enumerated() {
            for t in 0..<(row.count / inputSize) { for i in 0..<inputSize { grid[t, b, i] = row[t * inputSize + i] } }
        }
        return (Variable(grid, requiresGrad: true), T)
    }

    func testPaddedBatchMatchesEachSequenceAloneForwardAndReversed() throws {
        var rng = RandomGenerator(seed: 3)
        let gru = try GRUCell(inputSize: 2, hiddenSize: 3, using: &rng)
        let lstm = try LSTMCell(inputSize: 2, hiddenSize: 3, using: &rng)
        let lengths = [4, 1, 3]
        let rows = lengths.map { n in (0..<(2 * n)).map { _ in rng.nextUniform(-1, 1) } }
        let (batch, T) = tokensInput(rows, inputSize: 2)
        // The padded batch and each row alone differ only in the order of the products' additions.
        let gruRule = Float32Tolerance.recurrentLayer(.init(cell: .gru, inputSize: 2, hiddenSize: 3), sequenceLength: T)
        let lstmRule = Float32Tolerance.recurrentLayer(.init(cell: .lstm, inputSize: 2, hiddenSize: 3), sequenceLength: T)
        for reversed in [false, true] {
            let g = runSequence(gru, over: batch, lengths: lengths, reversed: reversed)
            let l = runSequence(lstm, over: batch, lengths: lengths, reversed: reversed)
            XCTAssertEqual(g.output.shape, [T, 3, 3])
            for (b, n) in lengths.enumerated() {
                let alone = Variable(Tensor(shape: [n, 1, 2], scalars: rows[b]))
                let ga = runSequence(gru, over: alone, reversed: reversed)
                let la = runSequence(lstm, over: alone, reversed: reversed)
                assertClose(g.state.value.row(b), ga.state.value.row(0), within: gruRule, "GRU h_n of row \(b)")
                assertClose(l.state.h.value.row(b), la.state.h.value.row(0), within: lstmRule, "LSTM h_n of row \(b)")
                assertClose(l.state.c.value.row(b), la.state.c.value.row(0), within: lstmRule, "LSTM c_n of row \(b)")
                for t in 0..<T {
                    let expected = t < n ? ga.output.value.row(t).row(0) : Tensor(zeros: [3])
                    assertClose(g.output.value.row(t).row(b), expected, within: gruRule, "row \(b) step \(t) reversed \(reversed)")
                }
            }
            // A length mask gives the same as lengths (forward direction).
            if !reversed {
                let m = runSequence(gru, over: batch, mask: sequenceMask(lengths: lengths, sequenceLength: T))
                XCTAssertEqual(m.output.value, g.output.value)
                XCTAssertEqual(m.state.value, g.state.value)
            }
        }
        XCTAssertEqual(sequenceMask(lengths: [2, 0, 1], sequenceLength: 2).scalars, [1, 0, 1, 1, 0, 0])
    }

    func testMaskedRunGradientsMatchFiniteDifferences() throws {
        var rng = RandomGenerator(seed: 4)
        let cell = try LSTMCell(inputSize: 2, hiddenSize: 3, using: &rng)
        let input = Variable(.uniform(shape: [3, 2, 2], low: -1, high: 1, using: &rng), requiresGrad: true)
        let h0 = Variable(.uniform(shape: [2, 3], low: -0.5, high: 0.5, using: &rng), requiresGrad: true)
        let c0 = Variable(.uniform(shape: [2, 3], low: -0.5, high: 0.5, using: &rng), requiresGrad: true)
        let probeOut = Variable(.uniform(shape: [3, 2, 3], low: -1, high: 1, using: &rng))
        let probeState = Variable(.uniform(shape: [2, 3], low: -1, high: 1, using: &rng))
        for reversed in [false, true] {
            let mismatches = GradientCheck().mismatches(
                of: [("input", input), ("h0", h0), ("c0", c0)] + cell.namedParameters.map { ($0.name, $0.parameter) }
            ) {
                let r = runSequence(cell, over: input, lengths: [3, 1], initialState: LSTMState(h: h0, c: c0), reversed: reversed)
                return (r.output * probeOut).sum() + (r.state.c * probeState).sum() + (r.state.h * probeState).sum()
            }
            XCTAssertEqual(mismatches.map(\.description), [], "reversed \(reversed)")
        }
        // Padding of row 1 (steps 1, 2) gets no gradient.
        input.zeroGrad()
        let r = runSequence(cell, over: input, lengths: [3, 1], initialState: LSTMState(h: h0, c: c0))
        ((r.output * probeOut).sum() + (r.state.h * probeState).sum()).backward()
        let g = try XCTUnwrap(input.grad)
        for t in 1..<3 { XCTAssertEqual(g.row(t).row(1).scalars, [0, 0]) }
        XCTAssertNotEqual(g.row(0).row(1).scalars, [0, 0])
    }

    func testSelectAndResetRowsValuesAndGradients() throws {
        let a = Variable(Tensor(rows: [[1, 2], [3, 4], [5, 6]]), requiresGrad: true)
        let b = Variable(Tensor(rows: [[-1, -2], [-3, -4], [-5, -6]]), requiresGrad: true)
        let s = selectRows([true, false, true], a, otherwise: b)
        XCTAssertEqual(s.value.scalars, [1, 2, -3, -4, 5, 6])
        (s * Variable(Tensor(rows: [[1, 2], [3, 4], [5, 6]]))).sum().backward()
        XCTAssertEqual(a.grad?.scalars, [1, 2, 0, 0, 5, 6])
        XCTAssertEqual(b.grad?.scalars, [0, 0, 3, 4, 0, 0])
        XCTAssertEqual(a.resettingRows([false, true, false]).value.scalars, [1, 2, 0, 0, 5, 6])
        // Along axis 1, as a fused layer's (layers, batch, hidden) state.
        let state = RecurrentLayerState(h: Variable(Tensor(shape: [2, 2, 1], scalars: [1, 2, 3, 4])))
        XCTAssertEqual(state.resettingRows([true, false]).h.value.scalars, [0, 2, 0, 4])
    }

    func testMaskedMeanIgnoresPadding() {
        let values = Variable(Tensor(shape: [2, 2, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8]), requiresGrad: true)
        let mask = Tensor(shape: [2, 2], scalars: [1, 1, 0, 1])
        let m = maskedMean(values, mask: mask)
        // (1 + 2 + 3 + 4 + 7 + 8) / 6
        XCTAssertEqual(m.value.scalar, 25.0 / 6.0, accuracy: 1e-6)
        m.backward()
        XCTAssertEqual(values.grad?.scalars, [1, 1, 1, 1, 0, 0, 1, 1].map { Float($0) / 6 })
    }

    /// Streaming at batch size 2 with the fused GRU: row 1 starts a new sequence halfway (its state
    /// is reset), row 0 carries on. Each must match a run of its own.
    func testPerSampleResetForStreamingWithFusedLayer() throws {
        var rng = RandomGenerator(seed: 5)
        let gru = try GRU(inputSize: 2, hiddenSize: 3, using: &rng)
        let first = Tensor.uniform(shape: [4, 2, 2], low: -1, high: 1, using: &rng)
        let second = Tensor.uniform(shape: [3, 2, 2], low: -1, high: 1, using: &rng)
        let (_, s1) = gru.run(Variable(first), state: nil)
        let (out2, _) = gru.run(Variable(second), state: s1.resettingRows([false, true]))
        // Row 0: the whole stream in one call. Row 1: the second chunk alone from zeros.
        let whole = Tensor.concatenated([first, second], axis: 0)
        let (wholeOut, _) = gru(Variable(whole))
        let (aloneOut, _) = gru(Variable(second))
        let rule = Float32Tolerance.recurrentLayer(gru.configuration, sequenceLength: 7)
        for t in 0..<3 {
            assertClose(out2.value.row(t).row(0), wholeOut.value.row(4 + t).row(0), within: rule, "row 0 step \(t)")
            assertClose(out2.value.row(t).row(1), aloneOut.value.row(t).row(1), within: rule, "row 1 step \(t)")
        }
    }
}
