import Foundation
import XCTest
import Recurrent

/// Variational (recurrent) dropout and zoneout as cell wrappers: identity / expectation in evaluation
/// mode, one mask per sequence (variational) versus a new mask per step (zoneout), keep rates measured
/// on many units, and finite-difference gradients with fixed seeds.
final class CellRegularizationTests: XCTestCase {
    typealias S = CellTestSupport

    // MARK: Variational dropout

    func testVariationalDropoutInEvaluationIsTheWrappedCell() throws {
        var rng = RandomGenerator(seed: 61)
        let lstm = try LSTMCell(inputSize: 3, hiddenSize: 4, using: &rng)
        let wrapped = try VariationalDropoutCell(lstm, recurrentProbability: 0.5, inputProbability: 0.3)
        XCTAssertEqual(wrapped.namedParameters.map(\.name), lstm.namedParameters.map(\.name))
        wrapped.isTraining = false
        XCTAssertFalse(lstm.isTraining, "the mode is the wrapped cell's")
        let input = Variable(.uniform(shape: [5, 2, 3], low: -1, high: 1, using: &rng))
        let state = wrapped.zeroState(batchSize: 2)
        XCTAssertNil(state.recurrentMask)
        XCTAssertNil(state.inputMask)
        let a = runSequence(wrapped, over: input), b = runSequence(lstm, over: input)
        XCTAssertEqual(a.output.value, b.output.value)
        XCTAssertEqual(a.state.inner.c.value, b.state.c.value)
        // Probability 0 while training is the identity too.
        let zero = try VariationalDropoutCell(try GRUCell(inputSize: 3, hiddenSize: 4, using: &rng), recurrentProbability: 0)
        XCTAssertTrue(zero.isTraining)
        XCTAssertEqual(runSequence(zero, over: input).output.value, runSequence(zero.cell, over: input).output.value)
    }

    func testVariationalMaskIsDrawnOncePerSequenceAndUsedAtEveryStep() throws {
        var rng = RandomGenerator(seed: 62)
        let p: Float = 0.4
        for cellKind in 0..<3 {
            let input = Variable(.uniform(shape: [6, 3, 2], low: -1, high: 1, using: &rng))
            func check<Cell: RecurrentInputMaskable>(_ cell: Cell, _ lastOutput: (Cell.State) -> Variable) throws {
                let wrapped = try VariationalDropoutCell(cell, recurrentProbability: p)
                wrapped.generator = RandomGenerator(seed: 7)
                let initial = wrapped.zeroState(batchSize: 3)
                let mask = try XCTUnwrap(initial.recurrentMask)
                XCTAssertEqual(mask.shape, [3, cell.hiddenSize])
                XCTAssertTrue(mask.scalars.allSatisfy { $0 == 0 || $0 == 1 / (1 - p) })
                XCTAssertTrue(mask.scalars.contains(0) && mask.scalars.contains { $0 > 0 }, "the mask drops and keeps")
                let result = runSequence(wrapped, over: input, initialState: initial)
                XCTAssertEqual(result.state.recurrentMask, mask, "the mask travels unchanged in the state")
                // Replaying the steps with the plain cell and that one mask reproduces every output.
                var state = initial.inner
                let steps = input.unstacked(axis: 0)
                for t in 0..<6 {
                    let step = cell.step(steps[t], state: state, recurrentInputMask: mask)
                    XCTAssertEqual(step.output.value, result.output.select(t, axis: 0).value, "cell \(cellKind), step \(t)")
                    state = step.state
                }
                XCTAssertEqual(lastOutput(state).value, result.output.select(5, axis: 0).value)
                // The next sequence gets a new mask; the same seed gives the same one.
                XCTAssertNotEqual(wrapped.zeroState(batchSize: 3).recurrentMask, mask)
                wrapped.generator = RandomGenerator(seed: 7)
                XCTAssertEqual(wrapped.zeroState(batchSize: 3).recurrentMask, mask)
            }
            switch cellKind {
            case 0: try check(try RNNCell(inputSize: 2, hiddenSize: 5, using: &rng)) { $0 }
            case 1: try check(try GRUCell(inputSize: 2, hiddenSize: 5, resetAfter: false, using: &rng)) { $0 }
            default: try check(try LSTMCell(inputSize: 2, hiddenSize: 5, using: &rng)) { $0.h }
            }
        }
    }

    func testDroppedUnitsOfHDoNotReachTheLSTMGates() throws {
        // In an LSTM, h enters only through W_hh, so a dropped unit of h_{t−1} has no effect on the step.
        var rng = RandomGenerator(seed: 63)
        let cell = try LSTMCell(inputSize: 2, hiddenSize: 6, using: &rng)
        let wrapped = try VariationalDropoutCell(cell, recurrentProbability: 0.5)
        wrapped.generator = RandomGenerator(seed: 8)
        let h = S.leaf([4, 6], &rng), c = Variable(.uniform(shape: [4, 6], low: -1, high: 1, using: &rng))
        let state = wrapped.initialState(LSTMState(h: h, c: c), batchSize: 4)
        let mask = try XCTUnwrap(state.recurrentMask)
        let step = wrapped(Variable(.uniform(shape: [4, 2], low: -1, high: 1, using: &rng)), state: state)
        (step.state.inner.h.sum() + step.state.inner.c.sum()).backward()
        let dH = try XCTUnwrap(h.grad)
        for i in 0..<mask.count {
            if mask.scalars[i] == 0 { XCTAssertEqual(dH.scalars[i], 0) } else { XCTAssertNotEqual(dH.scalars[i], 0) }
        }
    }

    func testVariationalDropRateMatchesTheProbability() throws {
        let wrapped = try VariationalDropoutCell(try GRUCell(inputSize: 4, hiddenSize: 20), recurrentProbability: 0.3,
                                                 inputProbability: 0.2)
        wrapped.generator = RandomGenerator(seed: 9)
        let state = wrapped.zeroState(batchSize: 1000)
        // 20 000 recurrent units: the standard deviation of the drop rate is √(0.3·0.7/20000) ≈ 0.0032.
        let recurrent = try XCTUnwrap(state.recurrentMask).scalars
        XCTAssertEqual(Double(recurrent.filter { $0 == 0 }.count) / Double(recurrent.count), 0.3, accuracy: 0.016)
        let input = try XCTUnwrap(state.inputMask)
        XCTAssertEqual(input.shape, [1000, 4])
        XCTAssertEqual(Double(input.scalars.filter { $0 == 0 }.count) / Double(input.count), 0.2, accuracy: 0.03)   // σ ≈ 0.0063
    }

    func testVariationalDropoutGradientsWithAFixedSeed() throws {
        var rng = RandomGenerator(seed: 64)
        let gru = try GRUCell(inputSize: 3, hiddenSize: 4, using: &rng)
        let input = S.leaf([4, 2, 3], &rng), h = S.leaf([2, 4], &rng)
        let probe = Variable(.uniform(shape: [4, 2, 4], low: -1, high: 1, using: &rng))
        let wrappedGRU = try VariationalDropoutCell(gru, recurrentProbability: 0.4, inputProbability: 0.3)
        var bad = S.gradientMismatches([("input", input), ("h", h)] + gru.namedParameters.map { ($0.name, $0.parameter) }) {
            wrappedGRU.generator = RandomGenerator(seed: 10)   // the same masks on every evaluation
            let initial = wrappedGRU.initialState(h, batchSize: 2)
            return (runSequence(wrappedGRU, over: input, initialState: initial).output * probe).sum()
        }
        XCTAssertTrue(bad.isEmpty, "GRU: \(bad)")
        // A layer-normalised LSTM under the mask. A layer norm is scale-invariant, so its curvature
        // grows like 1/σ of the row it normalises; over few features (hiddenSize 4, half of h dropped)
        // rows with a small spread make the O(ε²) truncation error of the ε = 1e-2 differences exceed
        // the tolerance although the analytic gradient is right (it agrees at ε = 1e-3). hiddenSize 8
        // with p = 0.25 keeps the rows well spread.
        let lstm = try LSTMCell(inputSize: 3, hiddenSize: 8, layerNorm: true, using: &rng)
        let h8 = S.leaf([2, 8], &rng), c8 = S.leaf([2, 8], &rng)
        let probe8 = Variable(.uniform(shape: [4, 2, 8], low: -1, high: 1, using: &rng))
        let wrappedLSTM = try VariationalDropoutCell(lstm, recurrentProbability: 0.25)
        bad = S.gradientMismatches([("input", input), ("h", h8), ("c", c8)] + lstm.namedParameters.map { ($0.name, $0.parameter) }) {
            wrappedLSTM.generator = RandomGenerator(seed: 11)
            let initial = wrappedLSTM.initialState(LSTMState(h: h8, c: c8), batchSize: 2)
            let result = runSequence(wrappedLSTM, over: input, initialState: initial)
            return (result.output * probe8).sum() + result.state.inner.c.sum()
        }
        XCTAssertTrue(bad.isEmpty, "LSTM: \(bad)")
        wrappedLSTM.generator = RandomGenerator(seed: 11)
        XCTAssertTrue(try XCTUnwrap(wrappedLSTM.zeroState(batchSize: 2).recurrentMask).scalars.contains(0), "some units are dropped")
    }

    // MARK: Zoneout

    func testZoneoutInEvaluationIsTheExpectation() throws {
        var rng = RandomGenerator(seed: 71)
        let x = Variable(.uniform(shape: [3, 2], low: -1, high: 1, using: &rng))
        let h = Variable(.uniform(shape: [3, 5], low: -1, high: 1, using: &rng))
        let c = Variable(.uniform(shape: [3, 5], low: -1, high: 1, using: &rng))
        let gru = try GRUCell(inputSize: 2, hiddenSize: 5, using: &rng)
        let zonedGRU = try ZoneoutCell(gru, probability: 0.3)
        zonedGRU.isTraining = false
        let candidate = gru(x, state: h).output.value
        let step = zonedGRU(x, state: h)
        S.assertClose(step.output.value, zip(h.value.scalars, candidate.scalars).map { 0.3 * $0 + 0.7 * $1 }, rtol: 1e-6, atol: 1e-7)
        XCTAssertTrue(step.output === step.state, "the output is the zoned h")

        let lstm = try LSTMCell(inputSize: 2, hiddenSize: 5, using: &rng)
        let zonedLSTM = try ZoneoutCell(lstm, probabilities: [0.2, 0.6])
        zonedLSTM.isTraining = false
        let plain = lstm(x, state: LSTMState(h: h, c: c)).state
        let zoned = zonedLSTM(x, state: LSTMState(h: h, c: c))
        S.assertClose(zoned.state.h.value, zip(h.value.scalars, plain.h.value.scalars).map { 0.2 * $0 + 0.8 * $1 }, rtol: 1e-6, atol: 1e-7)
        S.assertClose(zoned.state.c.value, zip(c.value.scalars, plain.c.value.scalars).map { 0.6 * $0 + 0.4 * $1 }, rtol: 1e-6, atol: 1e-7)
        XCTAssertEqual(zoned.output.value, zoned.state.h.value)
        // Probability 0 is the wrapped cell, in both modes.
        let none = try ZoneoutCell(lstm, probability: 0)
        XCTAssertEqual(none(x, state: LSTMState(h: h, c: c)).state.c.value, plain.c.value)
    }

    func testZoneoutKeepRateAndANewMaskEveryStep() throws {
        // Training: every unit is either its previous value or the candidate, exactly. A unit keeps its
        // value with probability p at each step independently, so it keeps it at two steps with p².
        var rng = RandomGenerator(seed: 72)
        let p: Float = 0.4
        let lstm = try LSTMCell(inputSize: 2, hiddenSize: 25, using: &rng)
        let zoned = try ZoneoutCell(lstm, probabilities: [p, p])
        zoned.generator = RandomGenerator(seed: 12)
        let batchSize = 400   // 10 000 units per component
        let x = Variable(.uniform(shape: [batchSize, 2], low: -1, high: 1, using: &rng))
        var state = LSTMState(h: Variable(.uniform(shape: [batchSize, 25], low: -1, high: 1, using: &rng)),
                              c: Variable(.uniform(shape: [batchSize, 25], low: -1, high: 1, using: &rng)))
        var kept: [[Bool]] = []   // per step, per unit of h then c
        for _ in 0..<2 {
            let candidate = lstm(x, state: state).state   // what the unzoned cell would give from the same state
            let next = zoned(x, state: state).state
            var keptNow: [Bool] = []
            for (old, new, cand) in [(state.h, next.h, candidate.h), (state.c, next.c, candidate.c)] {
                for i in 0..<old.value.count {
                    let o = old.value.scalars[i], n = new.value.scalars[i], k = cand.value.scalars[i]
                    XCTAssertTrue(n == o || n == k, "unit \(i) is neither its previous value nor the candidate")
                    keptNow.append(n == o && n != k)
                }
            }
            kept.append(keptNow)
            state = next
        }
        let n = Double(kept[0].count)   // 20 000
        for step in kept {
            // σ = √(0.24/20000) ≈ 0.0035
            XCTAssertEqual(Double(step.filter { $0 }.count) / n, Double(p), accuracy: 0.018)
        }
        let both = zip(kept[0], kept[1]).filter { $0 && $1 }.count
        XCTAssertEqual(Double(both) / n, Double(p * p), accuracy: 0.016)   // σ ≈ 0.0031; a repeated mask would give 0.4
    }

    func testZoneoutGradientsWithAFixedSeedAndInEvaluation() throws {
        var rng = RandomGenerator(seed: 73)
        let gru = try GRUCell(inputSize: 3, hiddenSize: 4, resetAfter: false, using: &rng)
        let lstm = try LSTMCell(inputSize: 3, hiddenSize: 4, peephole: true, using: &rng)
        let input = S.leaf([4, 2, 3], &rng), h = S.leaf([2, 4], &rng), c = S.leaf([2, 4], &rng)
        let probe = Variable(.uniform(shape: [4, 2, 4], low: -1, high: 1, using: &rng))
        for training in [true, false] {
            let zonedGRU = try ZoneoutCell(gru, probability: 0.5)
            zonedGRU.isTraining = training
            var bad = S.gradientMismatches([("input", input), ("h", h)] + gru.namedParameters.map { ($0.name, $0.parameter) }) {
                zonedGRU.generator = RandomGenerator(seed: 13)   // the same masks on every evaluation
                return (runSequence(zonedGRU, over: input, initialState: h).output * probe).sum()
            }
            XCTAssertTrue(bad.isEmpty, "GRU training \(training): \(bad)")
            let zonedLSTM = try ZoneoutCell(lstm, probabilities: [0.3, 0.6])
            zonedLSTM.isTraining = training
            bad = S.gradientMismatches([("input", input), ("h", h), ("c", c)] + lstm.namedParameters.map { ($0.name, $0.parameter) }) {
                zonedLSTM.generator = RandomGenerator(seed: 14)
                let result = runSequence(zonedLSTM, over: input, initialState: LSTMState(h: h, c: c))
                return (result.output * probe).sum() + result.state.c.sum()
            }
            XCTAssertTrue(bad.isEmpty, "LSTM training \(training): \(bad)")
        }
        gru.isTraining = true
        lstm.isTraining = true
    }

    func testWrappersCompose() throws {
        // Zoneout around variational dropout around a layer-normalised LSTM, over a padded batch.
        var rng = RandomGenerator(seed: 74)
        let lstm = try LSTMCell(inputSize: 3, hiddenSize: 4, layerNorm: true, using: &rng)
        let dropped = try VariationalDropoutCell(lstm, recurrentProbability: 0.25)
        dropped.generator = RandomGenerator(seed: 15)
        let zoned = try ZoneoutCell(dropped, probabilities: [0.1, 0.1])
        XCTAssertEqual(dropped.generator, RandomGenerator(seed: 15), "wrapping draws no random numbers")
        zoned.generator = RandomGenerator(seed: 16)
        XCTAssertEqual(zoned.namedParameters.map(\.name), lstm.namedParameters.map(\.name))
        let input = Variable(.uniform(shape: [5, 2, 3], low: -1, high: 1, using: &rng))
        let result = runSequence(zoned, over: input, lengths: [5, 3])
        XCTAssertEqual(result.output.shape, [5, 2, 4])
        XCTAssertEqual(result.output.value.scalars[((4 * 2) + 1) * 4], 0, "padding gives zero output")
        XCTAssertNotNil(result.state.recurrentMask)
        XCTAssertEqual(result.output.select(4, axis: 0).value.scalars.prefix(4), result.state.inner.h.value.scalars.prefix(4),
                       "the output is the zoned h")
        // In evaluation mode the stack is deterministic: the expectation of zoneout around the plain cell.
        zoned.isTraining = false
        XCTAssertFalse(lstm.isTraining)
        let once = runSequence(zoned, over: input).output.value
        XCTAssertEqual(runSequence(zoned, over: input).output.value, once)
        XCTAssertEqual(runSequence(try ZoneoutCell(lstm, probabilities: [0.1, 0.1]), over: input).output.value, once)
    }

    func testInvalidProbabilitiesThrowErrorsNamingTheArgument() throws {
        let gru = try GRUCell(inputSize: 2, hiddenSize: 3)
        XCTAssertThrowsError(try VariationalDropoutCell(gru, recurrentProbability: 1.5)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "recurrentProbability")
        }
        XCTAssertThrowsError(try VariationalDropoutCell(gru, recurrentProbability: 0.1, inputProbability: -0.1)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "inputProbability")
        }
        XCTAssertThrowsError(try ZoneoutCell(gru, probability: -1)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "probability")
        }
        XCTAssertThrowsError(try ZoneoutCell(try LSTMCell(inputSize: 2, hiddenSize: 3), probabilities: [0.1])) { error in
            XCTAssertEqual(error.localizedDescription,
                           "invalid probabilities: needs one probability per state component (2), got 1")
        }
    }
}
