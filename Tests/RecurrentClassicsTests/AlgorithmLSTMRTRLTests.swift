import Foundation
import XCTest
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentClassics
import RecurrentTestSupport

/// RTRL for the LSTM: against central finite differences in Double, against the tape's BPTT on an
/// `LSTMCell` + `Linear`, and as the Jacobian source of the EKF.
final class AlgorithmLSTMRTRLTests: XCTestCase {
    private func sequence(_ length: Int, inputSize: Int, outputSize: Int, seed: UInt64) -> ([[Double]], [[Double]]) {
        var rng = RandomGenerator(seed: seed)
        let inputs = (0..<length).map { _ in (0..<inputSize).map { _ in Double(rng.nextUniform(-1, 1)) } }
        let targets = (0..<length).map { _ in (0..<outputSize).map { _ in Double(rng.nextUniform(-1, 1)) } }
        return (inputs, targets)
    }

    private func loss(_ net: LSTMNetwork, _ inputs: [[Double]], _ targets: [[Double]]) -> Double {
        var h = [Double](repeating: 0, count: net.hiddenSize), c = h, total = 0.0
        for (x, d) in zip(inputs, targets) {
            let s = net.step(h: h, c: c, input: x)
            h = s.h
            c = s.c
            total += 0.5 * zip(s.output, d).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        }
        return total
    }

    /// Every weight's accumulated RTRL gradient against (L(w + ε) − L(w − ε)) / 2ε, ε = 1e-6.
    func testAccumulatedGradientMatchesFiniteDifferences() throws {
        var rng = RandomGenerator(seed: 5)
        var net = try LSTMNetwork(inputSize: 2, hiddenSize: 3, outputSize: 2, using: &rng)
        net.parameters = net.parameters.map { $0 * 2 }
        let (inputs, targets) = sequence(10, inputSize: 2, outputSize: 2, seed: 6)
        let rtrl = LSTMRealTimeRecurrentLearning(network: net).accumulatedGradient(inputs: inputs, targets: targets)
        XCTAssertEqual(rtrl.count, 4 * 3 * (2 + 3 + 1) + 2 * (3 + 1))
        let epsilon = 1e-6
        for q in rtrl.indices {
            var plus = net, minus = net
            plus.parameters[q] += epsilon
            minus.parameters[q] -= epsilon
            let numeric = (loss(plus, inputs, targets) - loss(minus, inputs, targets)) / (2 * epsilon)
            XCTAssertEqual(rtrl[q], numeric, accuracy: 1e-7 + 1e-6 * abs(numeric), "weight \(q)")
        }
    }

    func testRTRLMatchesTheTapeOnAnLSTMCell() throws {
        var rng = RandomGenerator(seed: 7)
        let cell = try LSTMCell(inputSize: 2, hiddenSize: 3, using: &rng)
        let readout = try Linear(inputSize: 3, outputSize: 1, using: &rng)
        let (inputs, targets) = sequence(8, inputSize: 2, outputSize: 1, seed: 8)
        let x = Variable(Tensor(shape: [8, 1, 2], scalars: inputs.flatMap { $0.map { Float($0) } }))
        let d = Tensor(shape: [8, 1, 1], scalars: targets.flatMap { $0.map { Float($0) } })
        (mseLoss(readout(runSequence(cell, over: x).output), d, reduction: .sum) * 0.5).backward()
        let rtrl = LSTMRealTimeRecurrentLearning(network: try LSTMNetwork(cell: cell, readout: readout))
            .accumulatedGradient(inputs: inputs, targets: targets)
        let tape = cell.weightIH.grad!.scalars + cell.weightHH.grad!.scalars + cell.biasIH!.grad!.scalars
            + readout.weight.grad!.scalars + readout.bias!.grad!.scalars
        XCTAssertEqual(rtrl.count, tape.count)
        for (a, b) in zip(rtrl, tape) { XCTAssertEqual(a, Double(b), accuracy: 1e-5 + 1e-4 * abs(a)) }
        var peephole = RandomGenerator(seed: 1)
        XCTAssertThrowsError(try LSTMNetwork(cell: try LSTMCell(inputSize: 2, hiddenSize: 3, peephole: true, using: &peephole),
                                             readout: readout)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "cell")
        }
    }

    /// The decoupled EKF (one block per gate unit and per output) trains an LSTM with 4 cells on the
    /// Mackey–Glass prediction task to a normalised test error below 0.005 within 3 passes (seed 1:
    /// 0.034, 0.0019, 0.00085 after passes 1, 2, 3; over 20 seeds 0.00036–0.0023 after 3,
    /// docs/learning-margins.md).
    func testDecoupledEKFTrainsAnLSTM() throws {
        let errors = try Self.decoupledEKF(seed: 1)
        XCTAssertLessThan(errors.last!, 0.005, "\(errors)")
    }

    /// The normalised test error after each of 3 passes, the network drawn from `seed`.
    static func decoupledEKF(seed: UInt64) throws -> [Double] {
        let task = try MackeyGlassPrediction(trainLength: 300, testLength: 300)
        var rng = RandomGenerator(seed: seed)
        let net = try LSTMNetwork(inputSize: 1, hiddenSize: 4, outputSize: 1, using: &rng)
        let learner = LSTMRealTimeRecurrentLearning(network: net)
        let ekf = try ExtendedKalmanFilterTrainer(learner: learner, configuration: .init(decoupled: true))
        XCTAssertEqual(ekf.blocks.count, 4 * 4 + 1)
        func testError() -> Double {
            let probe = LSTMRealTimeRecurrentLearning(network: learner.network)
            let outputs = task.testInputs.map { probe.advance($0) }
            let errors = zip(outputs, task.testTargets).dropFirst(task.washout).map { ($0.0[0] - $0.1[0]) * ($0.0[0] - $0.1[0]) }
            return errors.reduce(0, +) / Double(errors.count) / task.testVariance
        }
        var errors: [Double] = []
        for _ in 0..<3 {
            ekf.resetState()
            for (x, d) in zip(task.trainInputs, task.trainTargets) { ekf.trainStep(input: x, target: d) }
            errors.append(testError())
        }
        return errors
    }

    func testMarginsOverSeeds() throws {
        try LearningMargins.sweep("decoupled EKF LSTM") { seed in [("error after 3 passes", try Self.decoupledEKF(seed: seed).last!)] }
    }
}
