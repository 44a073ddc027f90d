import Foundation
import XCTest
import Recurrent
import RecurrentTestSupport

/// The state-space model: the lecture's worked series example, hand-computed steps, gradients
/// through time and identification of a linear resonator.
final class ArchitectureStateSpaceTests: XCTestCase {
    typealias S = CellTestSupport

    // MARK: Forward by hand

    func testLectureSeriesExampleFirstStep() throws {
        // 01-…, "input series {0.2, 0.4, 0.6, 0.8}": two sigmoid hidden nodes, linear output,
        // w_h = [[0.1, 0.5], [0.5, 0.9]], w_x = [0.6, 0.2], w_y = [0.4, 0.7], h_0 = 0. The slide writes
        // tanh but applies the sigmoid (GUIDE §5): σ([0.12, 0.04]) = [0.53, 0.51] and y = 0.57.
        let model = try StateSpaceModel(inputSize: 1, stateSize: 2, outputSize: 1, bias: false, activation: .sigmoid)
        try model.loadStateDict([
            "weight_a": Tensor(rows: [[0.1, 0.5], [0.5, 0.9]]), "weight_b": Tensor(rows: [[0.6], [0.2]]),
            "weight_c": Tensor(rows: [[0.4, 0.7]]),
        ])
        let step = model(Variable(Tensor(shape: [1, 1], scalars: [0.2])), state: nil)
        let h = [1 / (1 + exp(-0.12)), 1 / (1 + exp(-0.04))]
        S.assertClose(step.state.value, h.map { Float($0) })
        S.assertClose(step.output.value, [Float(0.4 * h[0] + 0.7 * h[1])])
        XCTAssertEqual(step.state.value.scalars.map { ($0 * 100).rounded() / 100 }, [0.53, 0.51])
        XCTAssertEqual((step.output.value.scalar * 100).rounded() / 100, 0.57)
    }

    func testTwoLinearStepsByHand() throws {
        // φ = identity: x(1) = W_a·0 + W_b·1 + b = [1, −0.9], y(1) = C x(1) = −0.8;
        // x(2) = W_a x(1) + W_b·0.5 + b = [0.5 + 0.5, 0.1 − 0.18 − 0.5 + 0.1] = [1, −0.48], y(2) = 0.04.
        let model = try StateSpaceModel(inputSize: 1, stateSize: 2, outputSize: 1, activation: .identity)
        try model.loadStateDict([
            "weight_a": Tensor(rows: [[0.5, 0], [0.1, 0.2]]), "weight_b": Tensor(rows: [[1], [-1]]),
            "bias": Tensor([0, 0.1]), "weight_c": Tensor(rows: [[1, 2]]),
        ])
        let result = runSequence(model, over: Variable(Tensor(shape: [2, 1, 1], scalars: [1, 0.5])))
        S.assertClose(result.output.value, [-0.8, 0.04], atol: 1e-6)
        S.assertClose(result.state.value, [1, -0.48], atol: 1e-6)
        // y(0) = C x(0) is the readout of the initial state.
        XCTAssertEqual(model.readout(Variable(Tensor(shape: [1, 2], scalars: [3, 4]))).value.scalars, [11])

        // The same with tanh: every state passes through tanh before the readout.
        let tanhModel = try StateSpaceModel(inputSize: 1, stateSize: 2, outputSize: 1)
        try tanhModel.loadStateDict(Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor) }))
        let x1 = [tanh(1.0), tanh(-0.9)]
        let x2 = [tanh(0.5 * x1[0] + 0.5), tanh(0.1 * x1[0] + 0.2 * x1[1] - 0.5 + 0.1)]
        let tanhResult = runSequence(tanhModel, over: Variable(Tensor(shape: [2, 1, 1], scalars: [1, 0.5])))
        S.assertClose(tanhResult.output.value, [Float(x1[0] + 2 * x1[1]), Float(x2[0] + 2 * x2[1])])
    }

    // MARK: Gradients

    func testGradientsThroughTimeReachInputInitialStateAndEveryParameter() throws {
        var rng = RandomGenerator(seed: 61)
        for (activation, bias) in [(ActivationFunction.tanh, true), (.sigmoid, true), (.identity, false)] {
            let model = try StateSpaceModel(inputSize: 3, stateSize: 4, outputSize: 2, bias: bias, activation: activation, using: &rng)
            let input = S.leaf([4, 2, 3], &rng), x0 = S.leaf([2, 4], &rng)
            let probe = Variable(.uniform(shape: [4, 2, 2], low: -1, high: 1, using: &rng))
            let probeState = Variable(.uniform(shape: [2, 4], low: -1, high: 1, using: &rng))
            let variables = [("input", input), ("initialState", x0)] + model.namedParameters.map { ($0.name, $0.parameter) }
            XCTAssertEqual(variables.count, bias ? 6 : 5)
            let bad = S.gradientMismatches(variables) {
                let result = runSequence(model, over: input, initialState: x0)
                return (result.output * probe).sum() + (result.state * probeState).sum()
            }
            XCTAssertTrue(bad.isEmpty, "\(activation): \(bad)")
        }
    }

    // MARK: Parameters and validation

    func testStateDictNamesShapesInitialisationAndValidation() throws {
        var rng = RandomGenerator(seed: 62)
        let model = try StateSpaceModel(inputSize: 3, stateSize: 16, outputSize: 2, using: &rng)
        XCTAssertEqual(model.namedParameters.map(\.name), ["weight_a", "weight_b", "bias", "weight_c"])
        XCTAssertEqual(model.namedParameters.map(\.parameter.shape), [[16, 16], [16, 3], [16], [2, 16]])
        for (name, p) in model.namedParameters {
            XCTAssertTrue(p.value.scalars.allSatisfy { abs($0) <= 0.25 }, "\(name) exceeds ±1/√stateSize")
        }
        XCTAssertEqual(model.zeroState(batchSize: 3).value, Tensor(zeros: [3, 16]))
        GlobalRandom.seed(5)
        let a = try StateSpaceModel(inputSize: 2, stateSize: 3, outputSize: 1, bias: false)
        var same = RandomGenerator(seed: 5)
        let b = try StateSpaceModel(inputSize: 2, stateSize: 3, outputSize: 1, bias: false, using: &same)
        XCTAssertEqual(a.stateDict().map(\.tensor), b.stateDict().map(\.tensor))
        XCTAssertEqual(a.namedParameters.map(\.name), ["weight_a", "weight_b", "weight_c"])

        for (arguments, name) in [((0, 1, 1), "inputSize"), ((1, 0, 1), "stateSize"), ((1, 1, 0), "outputSize")] {
            XCTAssertThrowsError(try StateSpaceModel(inputSize: arguments.0, stateSize: arguments.1, outputSize: arguments.2)) { error in
                XCTAssertEqual((error as? ConfigurationError)?.argument, name)
            }
        }
    }

    // MARK: Learning

    /// Identifies the resonator y(n+1) = 1.6 y(n) − 0.8 y(n−1) + 0.2 u(n) from rest by BPTT through
    /// whole sequences, then simulates 32 fresh 60-step sequences from the zero state. Returns the
    /// simulation MSE and the variance of the targets (the MSE of predicting their mean).
    ///
    /// Hyper-parameters: stateSize 4, tanh; Adam, learningRate 0.02; 400 steps of 16 sequences of
    /// 40 steps (inputs uniform in ±1, no washout, so the system starts at rest like the model);
    /// `seed` draws the model and the training data, `testSeed` the test data.
    static func identifyResonator(seed: UInt64, testSeed: UInt64) throws -> (mse: Float, variance: Float) {
        var rng = RandomGenerator(seed: seed)
        let task = try SystemIdentificationTask(system: .resonator, sequenceLength: 40, washout: 0)
        let model = try StateSpaceModel(inputSize: 1, stateSize: 4, outputSize: 1, using: &rng)
        let optimizer = try Adam(model.parameters, learningRate: 0.02)
        // Output row t is y(t+1), predicted from u(0...t): compare rows 0..<T−1 with y(1..<T).
        func loss(_ batch: (inputs: Tensor, outputs: Tensor)) -> Variable {
            let length = batch.inputs.shape[0]
            let predicted = runSequence(model, over: Variable(batch.inputs)).output.slice(0..<(length - 1))
            return mseLoss(predicted, batch.outputs.rows(1..<length))
        }
        for _ in 0..<400 {
            optimizer.zeroGrad()
            loss(task.batch(size: 16, using: &rng)).backward()
            optimizer.step()
        }
        var testRng = RandomGenerator(seed: testSeed)
        let testTask = try SystemIdentificationTask(system: .resonator, sequenceLength: 60, washout: 0)
        let test = testTask.batch(size: 32, using: &testRng)
        let mse = GradientMode.withoutGradients { loss(test).value.scalar }
        let targets = test.outputs.rows(1..<60)
        let mean = targets.mean()
        let variance = targets.scalars.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(targets.count)
        return (mse, variance)
    }

    /// Seeds 3 (model and data) and 4 (test data): 0.39 % of the variance; over 20 seeds 0.20–0.74 %,
    /// so the bound, 2 %, leaves a factor 2.7 to the worst seed (docs/learning-margins.md).
    func testLearnsLinearResonator() throws {
        let (mse, variance) = try Self.identifyResonator(seed: 3, testSeed: 4)
        print(String(format: "StateSpaceModel resonator: simulation MSE %.5f over 59 steps, output variance %.4f", mse, variance))
        XCTAssertLessThan(mse, 0.02 * variance)
    }

    func testMarginsOverSeeds() throws {
        try LearningMargins.sweep("state-space resonator") { seed in
            let (mse, variance) = try Self.identifyResonator(seed: seed, testSeed: 4)
            return [("MSE / variance", Double(mse / variance))]
        }
    }
}
