import Foundation
import XCTest
import Recurrent
import RecurrentTestSupport

/// The input–output recurrent model (NARX): regressor order and delay-line alignment by hand,
/// finite-difference gradients in both modes, and identification of a nonlinear system with
/// closed-loop prediction compared against trivial baselines.
final class ArchitectureNARXTests: XCTestCase {
    typealias S = CellTestSupport

    /// A (T, B=1, 1) sequence.
    private func column(_ values: [Float]) -> Variable { Variable(Tensor(shape: [values.count, 1, 1], scalars: values)) }

    // MARK: Forward by hand

    func testRegressorOrderAndAlignmentByHand() throws {
        // F(r) = r · [1, 10, 100, 1000] with r = [y(n), y(n−1), u(n), u(n−1)]: each lag lands on its
        // own decimal digit, so the numbers spell out which value fed which column.
        let narx = try NARXNetwork(inputSize: 1, outputSize: 1, delay: 2, hiddenSize: 1, activation: .identity)
        try narx.loadStateDict([
            "hidden.weight": Tensor(rows: [[1, 10, 100, 1000]]), "hidden.bias": Tensor([0]),
            "output.weight": Tensor(rows: [[1]]), "output.bias": Tensor([0]),
        ])
        XCTAssertEqual(narx.regressorSize, 4)
        let u = column([5, 6, 7, 8]), y = column([1, 2, 3, 4])
        // ŷ(2) = y(1) + 10 y(0) + 100 u(1) + 1000 u(0); ŷ(3) = y(2) + 10 y(1) + 100 u(2) + 1000 u(1).
        let open = narx.openLoop(inputs: u, outputs: y)
        XCTAssertEqual(open.shape, [2, 1, 1])
        XCTAssertEqual(open.value.scalars, [5612, 6723] as [Float])
        // Closed loop: ŷ(3) reads the prediction ŷ(2) = 5612 instead of y(2) = 3; u(3) is never used.
        let closed = narx.closedLoop(inputs: u, warmUpOutputs: y.slice(0..<2))
        XCTAssertEqual(closed.value.scalars, [5612, 12332] as [Float])   // 5612 + 20 + 700 + 6000
        let otherLastInput = narx.closedLoop(inputs: column([5, 6, 7, -100]), warmUpOutputs: y.slice(0..<2))
        XCTAssertEqual(otherLastInput.value, closed.value)

        // One step from explicit delay lines, and advancing them.
        var lines = narx.warmUp(inputs: u, outputs: y)
        XCTAssertEqual(lines.outputs.map(\.value.scalars), [[2], [1]])
        XCTAssertEqual(narx(lines).value.scalars, [5612])
        lines.advance(output: Variable(Tensor(shape: [1, 1], scalars: [3])), input: Variable(Tensor(shape: [1, 1], scalars: [7])))
        XCTAssertEqual(narx(lines).value.scalars, [6723])
    }

    func testTanhHiddenLayerWithTwoInputsAndTwoOutputs() throws {
        // inputSize 2, outputSize 2, delay 1, hiddenSize 2: r(n) = [y1, y2, u1, u2].
        let narx = try NARXNetwork(inputSize: 2, outputSize: 2, delay: 1, hiddenSize: 2)
        try narx.loadStateDict([
            "hidden.weight": Tensor(rows: [[0.5, 0, 1, 0], [0, -0.5, 0, 2]]), "hidden.bias": Tensor([0.1, -0.1]),
            "output.weight": Tensor(rows: [[1, 1], [2, -1]]), "output.bias": Tensor([0, 0.5]),
        ])
        // T = 2, B = 1: one prediction ŷ(1) from y(0) = (0.2, 0.4), u(0) = (0.3, -0.1).
        let u = Variable(Tensor(shape: [2, 1, 2], scalars: [0.3, -0.1, 9, 9]))
        let y = Variable(Tensor(shape: [2, 1, 2], scalars: [0.2, 0.4, 9, 9]))
        let h1 = Float(tanh(0.5 * 0.2 + 0.3 + 0.1)), h2 = Float(tanh(-0.5 * 0.4 + 2 * -0.1 - 0.1))
        let expected: [Float] = [h1 + h2, 2 * h1 - h2 + 0.5]
        S.assertClose(narx.openLoop(inputs: u, outputs: y).value, expected)
        S.assertClose(narx.closedLoop(inputs: u, warmUpOutputs: y.slice(0..<1)).value, expected)
    }

    // MARK: Gradients

    func testOpenLoopGradients() throws {
        var rng = RandomGenerator(seed: 51)
        let narx = try NARXNetwork(inputSize: 2, outputSize: 2, delay: 2, hiddenSize: 3, using: &rng)
        let u = S.leaf([5, 2, 2], &rng), y = S.leaf([5, 2, 2], &rng)
        let probe = Variable(.uniform(shape: [3, 2, 2], low: -1, high: 1, using: &rng))
        let variables = [("inputs", u), ("outputs", y)] + narx.namedParameters.map { ($0.name, $0.parameter) }
        XCTAssertEqual(variables.count, 6)
        let bad = S.gradientMismatches(variables) { (narx.openLoop(inputs: u, outputs: y) * probe).sum() }
        XCTAssertTrue(bad.isEmpty, "\(bad)")
        // The last input enters no prediction: its gradient is exactly zero.
        narx.zeroGrad()
        (narx.openLoop(inputs: u, outputs: y) * probe).sum().backward()
        XCTAssertEqual(u.grad!.row(4).scalars, [0, 0, 0, 0])
        XCTAssertNotEqual(u.grad!.row(3).scalars, [0, 0, 0, 0])
    }

    func testClosedLoopGradientsFlowThroughFedBackPredictions() throws {
        var rng = RandomGenerator(seed: 52)
        for activation in [ActivationFunction.tanh, .sigmoid] {
            let narx = try NARXNetwork(inputSize: 2, outputSize: 2, delay: 2, hiddenSize: 3, activation: activation, using: &rng)
            let u = S.leaf([6, 2, 2], &rng), warmUp = S.leaf([2, 2, 2], &rng)
            let probe = Variable(.uniform(shape: [4, 2, 2], low: -1, high: 1, using: &rng))
            let variables = [("inputs", u), ("warmUpOutputs", warmUp)] + narx.namedParameters.map { ($0.name, $0.parameter) }
            let bad = S.gradientMismatches(variables) { (narx.closedLoop(inputs: u, warmUpOutputs: warmUp) * probe).sum() }
            XCTAssertTrue(bad.isEmpty, "\(activation): \(bad)")
        }
    }

    // MARK: Parameters and validation

    func testStateDictNamesShapesAndGlobalRandom() throws {
        GlobalRandom.seed(7)
        let a = try NARXNetwork(inputSize: 3, outputSize: 2, delay: 4, hiddenSize: 8)
        XCTAssertEqual(a.namedParameters.map(\.name), ["hidden.weight", "hidden.bias", "output.weight", "output.bias"])
        XCTAssertEqual(a.namedParameters.map(\.parameter.shape), [[8, 20], [8], [2, 8], [2]])
        var rng = RandomGenerator(seed: 7)
        let b = try NARXNetwork(inputSize: 3, outputSize: 2, delay: 4, hiddenSize: 8, using: &rng)
        XCTAssertEqual(a.stateDict().map(\.tensor), b.stateDict().map(\.tensor))
        XCTAssertEqual(GlobalRandom.state, rng)
        // Linear's initialisation: ±1/√fanIn.
        XCTAssertTrue(a.hidden.weight.value.scalars.allSatisfy { abs($0) <= 1 / Float(20).squareRoot() })
        XCTAssertTrue(a.output.weight.value.scalars.allSatisfy { abs($0) <= 1 / Float(8).squareRoot() })
    }

    func testInvalidArgumentsThrowErrorsNamingThem() {
        func argument(_ body: () throws -> NARXNetwork) -> String? {
            do { _ = try body(); return nil } catch let error as ConfigurationError { return error.argument } catch { return "\(error)" }
        }
        XCTAssertEqual(argument { try NARXNetwork(inputSize: 0, outputSize: 1, delay: 1, hiddenSize: 1) }, "inputSize")
        XCTAssertEqual(argument { try NARXNetwork(inputSize: 1, outputSize: -1, delay: 1, hiddenSize: 1) }, "outputSize")
        XCTAssertEqual(argument { try NARXNetwork(inputSize: 1, outputSize: 1, delay: 0, hiddenSize: 1) }, "delay")
        XCTAssertEqual(argument { try NARXNetwork(inputSize: 1, outputSize: 1, delay: 1, hiddenSize: 0) }, "hiddenSize")
        XCTAssertThrowsError(try NARXNetwork(inputSize: 1, outputSize: 1, delay: 0, hiddenSize: 1)) { error in
            XCTAssertEqual(error.localizedDescription,
                           "invalid delay: must be positive (the number of past values in each delay line), got 0")
        }
        XCTAssertThrowsError(try SystemIdentificationTask(system: .narendra, sequenceLength: 10, inputAmplitude: 2)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "inputAmplitude")
        }
    }

    // MARK: Learning

    func testSystemSimulatorFollowsItsEquation() throws {
        let task = try SystemIdentificationTask(system: .bilinearCubic, sequenceLength: 4, washout: 0)
        // From rest: y(0) = 0, y(1) = u(0)³, y(2) = 0.5 y(1) + 0.3 u(1) y(0) + u(1)³, ...
        let y = task.simulate([0.5, -1, 0.2, 0])
        XCTAssertEqual(y[0], 0)
        XCTAssertEqual(y[1], 0.125)
        XCTAssertEqual(y[2], 0.0625 - 1, accuracy: 1e-6)
        XCTAssertEqual(y[3], 0.5 * (0.0625 - 1) + 0.3 * 0.2 * 0.125 + 0.008, accuracy: 1e-6)
        var rng = RandomGenerator(seed: 1)
        let batch = task.batch(size: 3, using: &rng)
        XCTAssertEqual(batch.inputs.shape, [4, 3, 1])
        XCTAssertTrue(batch.inputs.scalars.allSatisfy { abs($0) <= 1 })
        let impulse = try SystemIdentificationTask(system: .resonator, sequenceLength: 4, washout: 0).simulate([1, 0, 0, 0])
        S.assertClose(Tensor(impulse), [0, 0.2, 0.32, 1.6 * 0.32 - 0.8 * 0.2])
    }

    /// Closed- and open-loop errors of an identified system, with the trivial baselines.
    struct IdentificationResult {
        /// One-step-ahead (teacher-forced) MSE.
        var openLoopMSE: Float
        /// MSE of the 48-step closed-loop prediction from 2 observed outputs.
        var closedLoopMSE: Float
        /// Predicting the mean of the targets: their variance.
        var meanBaselineMSE: Float
        /// Predicting the last observed output y(1) for every future step.
        var persistenceBaselineMSE: Float
    }

    /// Identifies `system` by open-loop (teacher-forced) training, then predicts 48 steps in closed
    /// loop on 64 fresh sequences from 2 observed outputs.
    ///
    /// Hyper-parameters: delay 2, hiddenSize 32, tanh; Adam, learningRate 0.03; 600 steps of 16
    /// sequences of 50 steps (inputs uniform in ±1, washout 20); `seed` draws the model and the
    /// training data, `testSeed` the test data.
    static func identify(_ system: SystemIdentificationTask.System, seed: UInt64, testSeed: UInt64) throws -> IdentificationResult {
        var rng = RandomGenerator(seed: seed)
        let task = try SystemIdentificationTask(system: system, sequenceLength: 50)
        let narx = try NARXNetwork(inputSize: 1, outputSize: 1, delay: 2, hiddenSize: 32, using: &rng)
        let optimizer = try Adam(narx.parameters, learningRate: 0.03)
        for _ in 0..<600 {
            let batch = task.batch(size: 16, using: &rng)
            let y = Variable(batch.outputs)
            optimizer.zeroGrad()
            let loss = mseLoss(narx.openLoop(inputs: Variable(batch.inputs), outputs: y), y.value.rows(2..<50))
            loss.backward()
            optimizer.step()
        }

        var testRng = RandomGenerator(seed: testSeed)
        let test = task.batch(size: 64, using: &testRng)
        let truth = test.outputs.rows(2..<50)
        let (openMSE, closedMSE) = GradientMode.withoutGradients {
            (mseLoss(narx.openLoop(inputs: Variable(test.inputs), outputs: Variable(test.outputs)), truth).value.scalar,
             mseLoss(narx.closedLoop(inputs: Variable(test.inputs), warmUpOutputs: Variable(test.outputs.rows(0..<2))), truth).value.scalar)
        }
        let mean = truth.mean()
        let meanMSE = truth.scalars.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(truth.count)
        var persistence: Float = 0
        for n in 0..<48 {
            for b in 0..<64 {
                let d = truth.scalars[n * 64 + b] - test.outputs.scalars[1 * 64 + b]
                persistence += d * d
            }
        }
        return IdentificationResult(openLoopMSE: openMSE, closedLoopMSE: closedMSE, meanBaselineMSE: meanMSE,
                                    persistenceBaselineMSE: persistence / Float(truth.count))
    }

    /// y(n+1) = 0.5 y(n) + 0.3 u(n) y(n−1) + u(n)³, seeds 1 (model and data) and 2 (test data).
    func testLearnsNonlinearSystemAndPredictsInClosedLoop() throws {
        let r = try Self.identify(.bilinearCubic, seed: 1, testSeed: 2)
        print(String(format: "NARX bilinearCubic: open-loop MSE %.5f, closed-loop (48 steps) MSE %.5f; baselines: mean %.4f, persistence %.4f",
                     r.openLoopMSE, r.closedLoopMSE, r.meanBaselineMSE, r.persistenceBaselineMSE))
        // Seed 1: 0.09 % and 0.22 % of the variance. Over 20 seeds up to 0.78 % (open loop) and 1.4 %
        // (closed loop, 0.86 % of persistence's error): the bounds leave a factor 2 to the worst seed
        // (docs/learning-margins.md).
        XCTAssertLessThan(r.openLoopMSE, 0.02 * r.meanBaselineMSE)
        XCTAssertLessThan(r.closedLoopMSE, 0.03 * r.meanBaselineMSE)
        XCTAssertLessThan(r.closedLoopMSE, 0.02 * r.persistenceBaselineMSE)
    }

    func testMarginsOverSeeds() throws {
        try LearningMargins.sweep("NARX bilinear cubic") { seed in
            let r = try Self.identify(.bilinearCubic, seed: seed, testSeed: 2)
            return [("open-loop MSE / mean", Double(r.openLoopMSE / r.meanBaselineMSE)),
                    ("closed-loop MSE / mean", Double(r.closedLoopMSE / r.meanBaselineMSE)),
                    ("closed-loop MSE / persistence", Double(r.closedLoopMSE / r.persistenceBaselineMSE))]
        }
    }
}
