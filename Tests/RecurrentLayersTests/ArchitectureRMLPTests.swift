import Foundation
import XCTest
import Recurrent
import RecurrentTestSupport

/// The recurrent multilayer perceptron: layer wiring by hand (each layer reads the NEW state of the
/// layer below and its OWN previous state), gradients through time, and a delayed-echo task.
final class ArchitectureRMLPTests: XCTestCase {
    typealias S = CellTestSupport

    // MARK: Forward by hand

    func testEachLayerReadsTheNewStateBelowAndItsOwnPreviousState() throws {
        // Identity activations, inputSize 1, layerSizes [2, 1]:
        // step 1 (u = 1): x1 = U0·1 + b0 = [1, 3];                 x_o = W1·0 + U1·x1 = 1 − 3 = −2
        // step 2 (u = 2): x1 = W0·[1, 3] + U0·2 + b0 = [2.5, 5.75]; x_o = 0.5·(−2) + (2.5 − 5.75) = −4.25
        // (reading the OLD x1 = [1, 3] would give −3 instead).
        let rmlp = try RecurrentMultilayerPerceptron(inputSize: 1, layerSizes: [2, 1],
                                                     hiddenActivation: .identity, outputActivation: .identity)
        try rmlp.loadStateDict([
            "weight_ih_l0": Tensor(rows: [[1], [2]]), "weight_hh_l0": Tensor(rows: [[0.5, 0], [0, 0.25]]), "bias_l0": Tensor([0, 1]),
            "weight_ih_l1": Tensor(rows: [[1, -1]]), "weight_hh_l1": Tensor(rows: [[0.5]]), "bias_l1": Tensor([0]),
        ])
        let result = runSequence(rmlp, over: Variable(Tensor(shape: [2, 1, 1], scalars: [1, 2])))
        XCTAssertEqual(result.output.value.scalars, [-2, -4.25])
        XCTAssertEqual(result.state.layers.map(\.value.scalars), [[2.5, 5.75], [-4.25]])
    }

    func testTanhHiddenAndSigmoidOutputByHand() throws {
        let rmlp = try RecurrentMultilayerPerceptron(inputSize: 1, layerSizes: [1, 1], bias: false,
                                                     hiddenActivation: .tanh, outputActivation: .sigmoid)
        try rmlp.loadStateDict([
            "weight_ih_l0": Tensor(rows: [[0.8]]), "weight_hh_l0": Tensor(rows: [[0.5]]),
            "weight_ih_l1": Tensor(rows: [[2]]), "weight_hh_l1": Tensor(rows: [[-1]]),
        ])
        let state = RMLPState(layers: [Variable(Tensor(shape: [1, 1], scalars: [0.4])), Variable(Tensor(shape: [1, 1], scalars: [0.3]))])
        let step = rmlp(Variable(Tensor(shape: [1, 1], scalars: [-0.5])), state: state)
        let x1 = tanh(0.5 * 0.4 + 0.8 * -0.5)
        let xo = 1 / (1 + exp(-(-1 * 0.3 + 2 * x1)))
        S.assertClose(step.state.layers[0].value, [Float(x1)])
        S.assertClose(step.output.value, [Float(xo)])
    }

    // MARK: Gradients

    func testGradientsThroughTimeReachInputEveryInitialStateAndEveryParameter() throws {
        var rng = RandomGenerator(seed: 71)
        for bias in [true, false] {
            let rmlp = try RecurrentMultilayerPerceptron(inputSize: 2, layerSizes: [3, 4, 2], bias: bias,
                                                         outputActivation: .sigmoid, using: &rng)
            let input = S.leaf([4, 2, 2], &rng)
            let initial = [S.leaf([2, 3], &rng), S.leaf([2, 4], &rng), S.leaf([2, 2], &rng)]
            let probe = Variable(.uniform(shape: [4, 2, 2], low: -1, high: 1, using: &rng))
            let probeMiddle = Variable(.uniform(shape: [2, 4], low: -1, high: 1, using: &rng))
            let variables = [("input", input), ("x1(0)", initial[0]), ("x2(0)", initial[1]), ("xo(0)", initial[2])]
                + rmlp.namedParameters.map { ($0.name, $0.parameter) }
            XCTAssertEqual(variables.count, bias ? 13 : 10)
            let bad = S.gradientMismatches(variables) {
                let result = runSequence(rmlp, over: input, initialState: RMLPState(layers: initial))
                return (result.output * probe).sum() + (result.state.layers[1] * probeMiddle).sum()
            }
            XCTAssertTrue(bad.isEmpty, "bias \(bias): \(bad)")
        }
    }

    // MARK: Parameters and validation

    func testStateDictNamesShapesInitialisationAndValidation() throws {
        var rng = RandomGenerator(seed: 72)
        let rmlp = try RecurrentMultilayerPerceptron(inputSize: 5, layerSizes: [16, 4, 3], using: &rng)
        XCTAssertEqual(rmlp.namedParameters.map(\.name), [
            "weight_ih_l0", "weight_hh_l0", "bias_l0", "weight_ih_l1", "weight_hh_l1", "bias_l1",
            "weight_ih_l2", "weight_hh_l2", "bias_l2",
        ])
        XCTAssertEqual(rmlp.namedParameters.map(\.parameter.shape),
                       [[16, 5], [16, 16], [16], [4, 16], [4, 4], [4], [3, 4], [3, 3], [3]])
        XCTAssertEqual(rmlp.outputSize, 3)
        XCTAssertEqual(rmlp.activations, [.tanh, .tanh, .tanh])
        // Layer l is uniform in ±1/√layerSizes[l].
        XCTAssertTrue(rmlp.weightsHH[0].value.scalars.allSatisfy { abs($0) <= 0.25 })
        XCTAssertTrue(rmlp.weightsIH[1].value.scalars.allSatisfy { abs($0) <= 0.5 })
        XCTAssertGreaterThan(rmlp.weightsIH[1].value.scalars.map(abs).max()!, 0.25)
        XCTAssertEqual(rmlp.zeroState(batchSize: 2).layers.map(\.shape), [[2, 16], [2, 4], [2, 3]])

        GlobalRandom.seed(8)
        let a = try RecurrentMultilayerPerceptron(inputSize: 2, layerSizes: [3, 1])
        var same = RandomGenerator(seed: 8)
        let b = try RecurrentMultilayerPerceptron(inputSize: 2, layerSizes: [3, 1], using: &same)
        XCTAssertEqual(a.stateDict().map(\.tensor), b.stateDict().map(\.tensor))

        XCTAssertThrowsError(try RecurrentMultilayerPerceptron(inputSize: 0, layerSizes: [3])) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "inputSize")
        }
        XCTAssertThrowsError(try RecurrentMultilayerPerceptron(inputSize: 2, layerSizes: [])) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "layerSizes")
        }
        XCTAssertThrowsError(try RecurrentMultilayerPerceptron(inputSize: 2, layerSizes: [3, 0, 1])) { error in
            XCTAssertEqual(error.localizedDescription, "invalid layerSizes: entry 1 must be positive, got 0")
        }
    }

    // MARK: Learning

    /// Trains on delayed echo (vocabularySize 3, delay 2, sequenceLength 12) and returns the accuracy
    /// on the 2000 targets of 200 fresh sequences. The output at step t must name the symbol read
    /// at t − 2, so the layers' feedback has to carry two symbols.
    ///
    /// Hyper-parameters: layerSizes [16, 16, 3] (tanh hidden layers, identity output layer giving
    /// logits), Adam, learningRate 0.02, 300 steps of batchSize 16; `seed` draws the model and the
    /// training data, `testSeed` the test data.
    static func learnDelayedEcho(seed: UInt64, testSeed: UInt64) throws -> (accuracy: Double, counted: Int) {
        var rng = RandomGenerator(seed: seed)
        let task = try DelayedEchoTask(vocabularySize: 3, delay: 2, sequenceLength: 12)
        let rmlp = try RecurrentMultilayerPerceptron(inputSize: 3, layerSizes: [16, 16, 3],
                                                     outputActivation: .identity, using: &rng)
        let oneHot = Variable(Tensor(shape: [3, 3], scalars: [1, 0, 0, 0, 1, 0, 0, 0, 1]))
        // Batch-first symbols → time-major one-hot inputs (T, B, 3) and time-major targets.
        func logitsAndTargets(_ batch: (inputs: [Int], targets: [Int]), batchSize: Int) -> (Variable, [Int]) {
            let timeMajor = { (symbols: [Int]) in (0..<(12 * batchSize)).map { symbols[($0 % batchSize) * 12 + $0 / batchSize] } }
            let inputs = embedding(timeMajor(batch.inputs), shape: [12, batchSize], weight: oneHot)
            return (runSequence(rmlp, over: inputs).output, timeMajor(batch.targets))
        }
        let optimizer = try Adam(rmlp.parameters, learningRate: 0.02)
        for _ in 0..<300 {
            let (logits, targets) = logitsAndTargets(task.batch(size: 16, using: &rng), batchSize: 16)
            optimizer.zeroGrad()
            crossEntropy(logits: logits, targets: targets, ignoreIndex: DelayedEchoTask.ignoreIndex).backward()
            optimizer.step()
        }
        var testRng = RandomGenerator(seed: testSeed)
        let (logits, targets) = GradientMode.withoutGradients {
            logitsAndTargets(task.batch(size: 200, using: &testRng), batchSize: 200)
        }
        var correct = 0, counted = 0
        for (n, target) in targets.enumerated() where target != DelayedEchoTask.ignoreIndex {
            let row = Array(logits.value.scalars[(n * 3)..<(n * 3 + 3)])
            if row.firstIndex(of: row.max()!) == target { correct += 1 }
            counted += 1
        }
        return (Double(correct) / Double(counted), counted)
    }

    /// Seeds 5 (model and data) and 6 (test data); threshold inside the margins over 20 seeds
    /// (docs/learning-margins.md).
    func testLearnsDelayedEcho() throws {
        let (accuracy, counted) = try Self.learnDelayedEcho(seed: 5, testSeed: 6)
        print(String(format: "RMLP delayed echo: accuracy %.4f on %d held-out targets", accuracy, counted))
        XCTAssertEqual(counted, 2000)
        XCTAssertGreaterThanOrEqual(accuracy, 0.99)
    }

    func testMarginsOverSeeds() throws {
        try LearningMargins.sweep("RMLP delayed echo") { seed in
            [("accuracy", try Self.learnDelayedEcho(seed: seed, testSeed: 6).accuracy)]
        }
    }
}
