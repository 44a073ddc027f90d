import XCTest
import RecurrentTestSupport
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentClassics

/// Truncated BPTT(k1, k2): equal to full BPTT when k1 = k2 = T, and to an explicitly truncated
/// graph (a detached state at the window start) for k2 > k1 and k2 < k1.
final class AlgorithmTruncatedBPTTTests: XCTestCase {
    private let inputSize = 3, hiddenSize = 4, batchSize = 2

    private func data(steps: Int, seed: UInt64) -> (inputs: [Tensor], targets: [Tensor]) {
        var rng = RandomGenerator(seed: seed)
        let inputs = (0..<steps).map { _ in Tensor.uniform(shape: [batchSize, inputSize], low: -1, high: 1, using: &rng) }
        let targets = (0..<steps).map { _ in Tensor.uniform(shape: [batchSize, 1], low: -1, high: 1, using: &rng) }
        return (inputs, targets)
    }

    private func gradients(_ parameters: [Parameter]) -> [[Float]] {
        parameters.map { $0.grad?.scalars ?? Array(repeating: 0, count: $0.value.count) }
    }

    /// Full BPTT on the tape: one graph over all steps, loss = Σ_t L_t.
    private func fullBPTT<Cell: RecurrentCell>(_ cell: Cell, readout: Linear, inputs: [Tensor], targets: [Tensor],
                                               from start: Int = 0, through end: Int? = nil,
                                               lossesFrom: Int = 0) -> Variable where Cell.State: TruncatableState {
        let end = end ?? inputs.count
        var state = cell.zeroState(batchSize: batchSize)
        // Steps before `start` run without a graph: the state entering `start` is a constant.
        GradientMode.withoutGradients {
            for t in 0..<start { state = cell(Variable(inputs[t]), state: state).state }
        }
        state = Cell.State.fromStateComponents(state.stateComponents.map { $0.detached() })
        var total: Variable? = nil
        for t in start..<end {
            let step = cell(Variable(inputs[t]), state: state)
            state = step.state
            if t >= lossesFrom {
                let loss = mseLoss(readout(step.output), targets[t])
                total = total.map { $0 + loss } ?? loss
            }
        }
        return total!
    }

    private func checkFullCase<Cell: RecurrentCell>(_ cell: Cell, _ name: String) throws where Cell.State: TruncatableState {
        var rng = RandomGenerator(seed: 7)
        let readout = try Linear(inputSize: hiddenSize, outputSize: 1, using: &rng)
        let parameters = cell.parameters + readout.parameters
        let (inputs, targets) = data(steps: 6, seed: 11)

        fullBPTT(cell, readout: readout, inputs: inputs, targets: targets).backward()
        let expected = gradients(parameters)
        for p in parameters { p.zeroGrad() }

        let trainer = try TruncatedBPTT(cell: cell, k1: 6, k2: 6)
        var updates = 0
        for t in 0..<6 {
            let result = trainer.step(inputs[t]) { mseLoss(readout($0), targets[t]) }
            updates += result.updated ? 1 : 0
        }
        XCTAssertEqual(updates, 1, name)
        XCTAssertEqual(trainer.updateCount, 1, name)
        let actual = gradients(parameters)
        XCTAssertTrue(expected.allSatisfy { $0.contains { $0 != 0 } }, "\(name): some gradient is zero")
        // Bit for bit: the same terms, added in the same order.
        XCTAssertEqual(actual, expected, name)
    }

    func testFullWindowEqualsBPTTExactlyForEachCell() throws {
        var rng = RandomGenerator(seed: 3)
        try checkFullCase(try RNNCell(inputSize: inputSize, hiddenSize: hiddenSize, using: &rng), "RNNCell")
        try checkFullCase(try LSTMCell(inputSize: inputSize, hiddenSize: hiddenSize, using: &rng), "LSTMCell")
        try checkFullCase(try LSTMCell(inputSize: inputSize, hiddenSize: hiddenSize, peephole: true, using: &rng), "LSTMCell+peephole")
        try checkFullCase(try GRUCell(inputSize: inputSize, hiddenSize: hiddenSize, using: &rng), "GRUCell")
        // A recurrent multilayer perceptron (a state per layer) whose output layer has hiddenSize units.
        try checkFullCase(try RecurrentMultilayerPerceptron(inputSize: inputSize, layerSizes: [5, hiddenSize], using: &rng),
                          "RecurrentMultilayerPerceptron")
    }

    /// Every update's gradient against the explicitly truncated graph: losses of steps τ−k1+1…τ,
    /// graph over steps τ−k2+1…τ, the state entering the window detached.
    private func checkAgainstExplicitGraph<Cell: RecurrentCell>(_ cell: Cell, k1: Int, k2: Int, steps: Int,
                                                               _ name: String) throws where Cell.State: TruncatableState {
        var rng = RandomGenerator(seed: 5)
        let readout = try Linear(inputSize: hiddenSize, outputSize: 1, using: &rng)
        let parameters = cell.parameters + readout.parameters
        let (inputs, targets) = data(steps: steps, seed: 13)
        let trainer = try TruncatedBPTT(cell: cell, k1: k1, k2: k2)
        var checked = 0
        for t in 0..<steps {
            let result = trainer.step(inputs[t]) { mseLoss(readout($0), targets[t]) }
            guard result.updated else { continue }
            let actual = gradients(parameters)
            for p in parameters { p.zeroGrad() }
            let tau = t + 1                                   // steps done
            let start = max(0, tau - k2), lossesFrom = tau - k1
            fullBPTT(cell, readout: readout, inputs: inputs, targets: targets, from: start, through: tau,
                     lossesFrom: lossesFrom).backward()
            let expected = gradients(parameters)
            for p in parameters { p.zeroGrad() }
            // The same terms summed in another grouping (the windows' gradients, then the readout's).
            let rule = Float32Tolerance.recurrentLayerGradients(.init(cell: .lstm, inputSize: inputSize, hiddenSize: hiddenSize),
                                                                sequenceLength: k2, batchSize: batchSize)
            for (a, e) in zip(actual, expected) {
                assertClose(a, e, within: rule, "\(name) k1=\(k1) k2=\(k2) update at step \(tau)")
            }
            checked += 1
        }
        XCTAssertEqual(checked, steps / k1, name)
    }

    func testLongerWindowThanUpdateIntervalMatchesExplicitTruncation() throws {
        var rng = RandomGenerator(seed: 9)
        try checkAgainstExplicitGraph(try RNNCell(inputSize: inputSize, hiddenSize: hiddenSize, using: &rng),
                                      k1: 2, k2: 5, steps: 10, "RNNCell")
        try checkAgainstExplicitGraph(try LSTMCell(inputSize: inputSize, hiddenSize: hiddenSize, using: &rng),
                                      k1: 3, k2: 4, steps: 12, "LSTMCell")
        try checkAgainstExplicitGraph(try GRUCell(inputSize: inputSize, hiddenSize: hiddenSize, using: &rng),
                                      k1: 1, k2: 3, steps: 5, "GRUCell")
    }

    func testShorterWindowThanUpdateIntervalUsesOnlyTheWindow() throws {
        var rng = RandomGenerator(seed: 10)
        try checkAgainstExplicitGraph(try RNNCell(inputSize: inputSize, hiddenSize: hiddenSize, using: &rng),
                                      k1: 4, k2: 2, steps: 8, "RNNCell")
        try checkAgainstExplicitGraph(try LSTMCell(inputSize: inputSize, hiddenSize: hiddenSize, using: &rng),
                                      k1: 3, k2: 1, steps: 6, "LSTMCell")
    }

    /// A hand-computed case: a scalar linear "RNN" h_t = w·h_{t−1} + x_t (identity activation via
    /// a user cell), loss L_t = h_t. With k1 = 1, k2 = 2 at step 3: ∂L_3/∂w through two steps is
    /// h_2 + w·h_1 (the state entering step 2, h_1, is a constant).
    func testHandComputedScalarCase() throws {
        let cell = ScalarLinearCell(w: 0.5)
        let trainer = try TruncatedBPTT(cell: cell, k1: 1, k2: 2)
        let xs: [Float] = [1, 2, 3]
        var grads: [Float] = []
        for x in xs {
            cell.w.zeroGrad()
            trainer.step(Tensor(shape: [1, 1], scalars: [x])) { $0.sum() }
            grads.append(cell.w.grad!.scalars[0])
        }
        // h1 = 1, h2 = 0.5 + 2 = 2.5, h3 = 1.25 + 3 = 4.25.
        XCTAssertEqual(grads[0], 0)                 // ∂h1/∂w = h0 = 0
        XCTAssertEqual(grads[1], 1)                 // h1 + w·h0 = 1
        XCTAssertEqual(grads[2], 2.5 + 0.5 * 1)     // h2 + w·h1 (truncated: no w²·h0 term)
    }

    func testEpochwiseResetsAndContinuousCarriesTheState() throws {
        var rng = RandomGenerator(seed: 4)
        let cell = try RNNCell(inputSize: inputSize, hiddenSize: hiddenSize, using: &rng)
        let (inputs, _) = data(steps: 5, seed: 1)
        let epochwise = try TruncatedBPTT(cell: cell, k1: 2, k2: 2)
        epochwise.trainEpoch(inputs, mode: .epochwise) { _, out in out.sum() }
        XCTAssertNil(epochwise.state)
        XCTAssertEqual(epochwise.updateCount, 3)        // after steps 2, 4 and the final flush
        XCTAssertEqual(epochwise.pendingSteps, 0)
        cell.zeroGrad()

        let continuous = try TruncatedBPTT(cell: cell, k1: 2, k2: 2)
        continuous.trainEpoch(inputs, mode: .continuous) { _, out in out.sum() }
        XCTAssertEqual(continuous.updateCount, 2)
        XCTAssertEqual(continuous.pendingSteps, 1)
        // The carried state is the state after five steps from zero.
        var h = cell.zeroState(batchSize: batchSize)
        for x in inputs { h = cell(Variable(x), state: h).state }
        XCTAssertEqual(continuous.state?.value, h.value)
        continuous.trainEpoch(inputs, mode: .continuous) { _, out in out.sum() }
        XCTAssertEqual(continuous.updateCount, 5)
        XCTAssertEqual(continuous.pendingSteps, 0)
    }

    func testInvalidTruncationIsRejected() throws {
        var rng = RandomGenerator(seed: 1)
        let cell = try RNNCell(inputSize: 1, hiddenSize: 1, using: &rng)
        XCTAssertThrowsError(try TruncatedBPTT(cell: cell, k1: 0, k2: 1)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "k1")
        }
        XCTAssertThrowsError(try TruncatedBPTT(cell: cell, k1: 1, k2: 0)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "k2")
        }
    }

    /// With an optimizer, TBPTT(4, 8) on a stream trains an LSTM to output the input of two steps
    /// before (continuous mode, Adam): the loss falls by a factor of five (by 11 to 44 over 20 seeds,
    /// docs/learning-margins.md).
    func testContinuousTrainingLearnsADelay() throws {
        let (early, late) = try Self.continuousDelay(seed: 21)
        XCTAssertLessThan(late, early / 5, "early \(early), late \(late)")
    }

    /// The mean loss of the first and of the last 200 of 1600 steps, the model and stream drawn from `seed`.
    static func continuousDelay(seed: UInt64) throws -> (early: Double, late: Double) {
        var rng = RandomGenerator(seed: seed)
        let cell = try LSTMCell(inputSize: 1, hiddenSize: 8, using: &rng)
        let readout = try Linear(inputSize: 8, outputSize: 1, using: &rng)
        let optimizer = try Adam(cell.parameters + readout.parameters, learningRate: 0.02)
        let trainer = try TruncatedBPTT(cell: cell, k1: 4, k2: 8, optimizer: optimizer, clipNorm: 5)
        var stream = [Float](repeating: 0, count: 2)
        var early = 0.0, late = 0.0
        let steps = 1600
        for t in 0..<steps {
            let x = rng.nextUniform(-1, 1)
            stream.append(x)
            let target = Tensor(shape: [1, 1], scalars: [stream[stream.count - 3]])
            let loss = trainer.step(Tensor(shape: [1, 1], scalars: [x])) { mseLoss(readout($0), target) }.loss!
            if t < 200 { early += Double(loss) }
            if t >= steps - 200 { late += Double(loss) }
        }
        return (early / 200, late / 200)
    }

    func testMarginsOverSeeds() throws {
        try LearningMargins.sweep("TBPTT delay") { seed in
            let (early, late) = try Self.continuousDelay(seed: seed)
            return [("late / early loss", late / early)]
        }
    }
}

/// h_t = w·h_{t−1} + x_t with a scalar w, for the hand-computed case.
private final class ScalarLinearCell: RecurrentCell {
    let w: Parameter
    var isTraining = true
    init(w: Float) { self.w = .parameter(Tensor(shape: [1, 1], scalars: [w])) }
    var namedParameters: [(name: String, parameter: Parameter)] { [("w", w)] }
    func zeroState(batchSize: Int) -> Variable { Variable(Tensor(zeros: [batchSize, 1])) }
    func callAsFunction(_ input: Variable, state: Variable) -> (output: Variable, state: Variable) {
        let h = matmul(state, w) + input
        return (h, h)
    }
}
