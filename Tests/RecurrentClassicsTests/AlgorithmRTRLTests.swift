import Foundation
import XCTest
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentClassics
import RecurrentTestSupport

/// RTRL against BPTT (both in Double), against the tape (Float), and online learning.
final class AlgorithmRTRLTests: XCTestCase {
    /// An independent BPTT for the same Elman network, written out by hand in Double:
    /// δh_t = W_hyᵀ e_t + W_hhᵀ δa_{t+1}, δa_t = δh_t ⊙ φ'(a_t), and the weight gradients summed
    /// over t (dW_xh += δa_t x_tᵀ, dW_hh += δa_t h_{t−1}ᵀ, db += δa_t, dW_hy += e_t h_tᵀ, db_y += e_t).
    static func bpttGradient(_ net: ElmanNetwork, inputs: [[Double]], targets: [[Double]]) -> [Double] {
        let n = net.hiddenSize, m = net.inputSize, p = net.outputSize
        let w = net.parameters
        let oWxh = 0, oWhh = n * m, oB = oWhh + n * n, oWhy = oB + n, oBy = oWhy + p * n
        var hs: [[Double]] = [[Double](repeating: 0, count: n)], pre: [[Double]] = [], errors: [[Double]] = []
        for (x, d) in zip(inputs, targets) {
            let s = net.step(hidden: hs.last!, input: x)
            pre.append(s.preactivation)
            hs.append(s.hidden)
            errors.append(zip(s.output, d).map { $0 - $1 })
        }
        var g = [Double](repeating: 0, count: net.parameterCount)
        var deltaNext = [Double](repeating: 0, count: n)       // δa_{t+1}
        for t in stride(from: inputs.count - 1, through: 0, by: -1) {
            let h = hs[t + 1], hPrev = hs[t], e = errors[t], x = inputs[t]
            var dh = [Double](repeating: 0, count: n)
            for j in 0..<n {
                for k in 0..<p { dh[j] += w[oWhy + k * n + j] * e[k] }
                for i in 0..<n { dh[j] += w[oWhh + i * n + j] * deltaNext[i] }
            }
            let delta = (0..<n).map { dh[$0] * net.activation.slope(at: pre[t][$0], value: h[$0]) }
            for i in 0..<n {
                for k in 0..<m { g[oWxh + i * m + k] += delta[i] * x[k] }
                for j in 0..<n { g[oWhh + i * n + j] += delta[i] * hPrev[j] }
                g[oB + i] += delta[i]
            }
            for k in 0..<p {
                for j in 0..<n { g[oWhy + k * n + j] += e[k] * h[j] }
                g[oBy + k] += e[k]
            }
            deltaNext = delta
        }
        return g
    }

    private func sequence(_ length: Int, inputSize: Int, outputSize: Int, seed: UInt64) -> ([[Double]], [[Double]]) {
        var rng = RandomGenerator(seed: seed)
        let inputs = (0..<length).map { _ in (0..<inputSize).map { _ in Double(rng.nextUniform(-1, 1)) } }
        let targets = (0..<length).map { _ in (0..<outputSize).map { _ in Double(rng.nextUniform(-1, 1)) } }
        return (inputs, targets)
    }

    func testAccumulatedGradientEqualsBPTTInDouble() throws {
        for (activation, seed) in [(ActivationFunction.tanh, UInt64(1)), (.sigmoid, 2), (.identity, 3)] {
            var rng = RandomGenerator(seed: seed)
            // Larger weights than the default, so that the recurrence matters over the sequence.
            var net = try ElmanNetwork(inputSize: 3, hiddenSize: 5, outputSize: 2, activation: activation, using: &rng)
            net.parameters = net.parameters.map { $0 * 2 }
            let (inputs, targets) = sequence(12, inputSize: 3, outputSize: 2, seed: seed + 10)
            let rtrl = RealTimeRecurrentLearning(network: net).accumulatedGradient(inputs: inputs, targets: targets)
            let bptt = Self.bpttGradient(net, inputs: inputs, targets: targets)
            XCTAssertEqual(rtrl.count, 5 * (3 + 5 + 1) + 2 * (5 + 1))
            var largest = 0.0
            for (a, b) in zip(rtrl, bptt) {
                XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), "\(activation)")
                largest = max(largest, abs(a - b))
            }
            XCTAssertLessThan(largest, 1e-12, "\(activation): RTRL and BPTT should agree to rounding")
            // The W_hh gradient is not trivially zero (the recurrence is exercised).
            XCTAssertGreaterThan(bptt[15..<40].map(abs).max()!, 1e-2)
        }
    }

    /// The same gradient from the library's tape: an `RNNCell` + `Linear` run by `runSequence`,
    /// loss Σ_t ½‖y_t − d_t‖², against RTRL on the `ElmanNetwork` built from them.
    func testRTRLMatchesTheTapeOnAnRNNCell() throws {
        var rng = RandomGenerator(seed: 8)
        let cell = try RNNCell(inputSize: 2, hiddenSize: 4, using: &rng)
        let readout = try Linear(inputSize: 4, outputSize: 1, using: &rng)
        let (inputs, targets) = sequence(8, inputSize: 2, outputSize: 1, seed: 9)
        let x = Variable(Tensor(shape: [8, 1, 2], scalars: inputs.flatMap { $0.map { Float($0) } }))
        let d = Tensor(shape: [8, 1, 1], scalars: targets.flatMap { $0.map { Float($0) } })
        let (h, _) = runSequence(cell, over: x)
        (mseLoss(readout(h), d, reduction: .sum) * 0.5).backward()
        let rtrl = RealTimeRecurrentLearning(network: try ElmanNetwork(cell: cell, readout: readout))
            .accumulatedGradient(inputs: inputs, targets: targets)
        let tape = cell.weightIH.grad!.scalars + cell.weightHH.grad!.scalars + cell.biasIH!.grad!.scalars
            + readout.weight.grad!.scalars + readout.bias!.grad!.scalars
        XCTAssertEqual(cell.biasIH!.grad!, cell.biasHH!.grad!)
        for (a, b) in zip(rtrl, tape) { XCTAssertEqual(a, Double(b), accuracy: 1e-5 + 1e-4 * abs(a)) }
    }

    /// Λ after one step from the zero state is Φ_1 U_1 (the plus-sign recursion with Λ_0 = 0), worked
    /// out by hand for one hidden neuron with the identity activation: Λ_1 = [x_1, h_0, 1].
    func testSensitivityByHand() throws {
        var rng = RandomGenerator(seed: 1)
        var net = try ElmanNetwork(inputSize: 1, hiddenSize: 1, outputSize: 1, activation: .identity, using: &rng)
        net.parameters = [0.5, 0.8, 0.1, 2.0, 0.0]              // W_xh, W_hh, b, W_hy, b_y
        let rtrl = RealTimeRecurrentLearning(network: net)
        rtrl.advance([1.0])                                     // h1 = 0.5 + 0.1 = 0.6
        XCTAssertEqual(rtrl.sensitivity.elements, [1.0, 0.0, 1.0])
        rtrl.advance([2.0])                                     // h2 = 0.8·0.6 + 1.0 + 0.1 = 1.58
        XCTAssertEqual(rtrl.hidden[0], 1.58, accuracy: 1e-12)
        // Λ2 = W_hh Λ1 + [x2, h1, 1] = [0.8 + 2, 0 + 0.6, 0.8 + 1]
        XCTAssertEqual(rtrl.sensitivity.elements[0], 2.8, accuracy: 1e-12)
        XCTAssertEqual(rtrl.sensitivity.elements[1], 0.6, accuracy: 1e-12)
        XCTAssertEqual(rtrl.sensitivity.elements[2], 1.8, accuracy: 1e-12)
        // ∂y/∂θ = [W_hy Λ2, h2, 1]
        let j = rtrl.outputJacobian().elements
        XCTAssertEqual(j[0], 5.6, accuracy: 1e-12)
        XCTAssertEqual(j[3], 1.58, accuracy: 1e-12)
        XCTAssertEqual(j[4], 1)
    }

    /// Continuous online training (a weight update at every step, no resets) learns to output the
    /// previous input: the mean loss of the last 500 steps is below a tenth of the first 500's
    /// (threshold inside the margins over 20 seeds, docs/learning-margins.md).
    func testOnlineTrainingLearnsAOneStepDelay() throws {
        let (early, late) = try Self.oneStepDelay(seed: 4)
        XCTAssertLessThan(late, early / 10, "early \(early), late \(late)")
    }

    /// The mean loss of the first and the last 500 of 4000 online steps, network and stream from `seed`.
    static func oneStepDelay(seed: UInt64) throws -> (early: Double, late: Double) {
        var rng = RandomGenerator(seed: seed)
        let rtrl = RealTimeRecurrentLearning(network: try ElmanNetwork(inputSize: 1, hiddenSize: 4, outputSize: 1, using: &rng))
        var previous = 0.0, early = 0.0, late = 0.0
        let steps = 4000
        for t in 0..<steps {
            let x = Double(rng.nextUniform(-1, 1))
            let loss = rtrl.trainStep(input: [x], target: [previous], learningRate: 0.05)
            previous = x
            if t < 500 { early += loss }
            if t >= steps - 500 { late += loss }
        }
        return (early / 500, late / 500)
    }

    func testMarginsOverSeeds() throws {
        try LearningMargins.sweep("RTRL one-step delay") { seed in
            let (early, late) = try Self.oneStepDelay(seed: seed)
            return [("late / early loss", late / early)]
        }
    }
}
