import Foundation
import XCTest
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentClassics
import RecurrentTestSupport

/// One-step prediction of the Mackey–Glass series: the task of the EKF-versus-SGD comparison.
struct MackeyGlassPrediction {
    let trainInputs: [[Double]], trainTargets: [[Double]]
    let testInputs: [[Double]], testTargets: [[Double]]
    let testVariance: Double
    /// Steps at the start of the test run that are not scored (the state settles from zero).
    let washout = 20

    /// Samples normalised to mean 0 and standard deviation 1 (over the whole series); input x_n,
    /// target x_{n+1}; the first `trainLength` steps train, the next `testLength` test.
    init(trainLength: Int, testLength: Int) throws {
        let raw = try MackeyGlassSeries().samples(count: trainLength + testLength + 1)
        let mean = raw.reduce(0, +) / Double(raw.count)
        let sd = (raw.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(raw.count)).squareRoot()
        let x = raw.map { ($0 - mean) / sd }
        trainInputs = (0..<trainLength).map { [x[$0]] }
        trainTargets = (0..<trainLength).map { [x[$0 + 1]] }
        testInputs = (trainLength..<(trainLength + testLength)).map { [x[$0]] }
        testTargets = (trainLength..<(trainLength + testLength)).map { [x[$0 + 1]] }
        let scored = testTargets.dropFirst(washout).map { $0[0] }
        let m = scored.reduce(0, +) / Double(scored.count)
        testVariance = scored.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(scored.count)
    }

    /// Mean squared one-step error on the test segment divided by its variance (run from the zero
    /// state over the test inputs, the first `washout` steps not scored).
    func normalizedTestError(_ network: ElmanNetwork) -> Double {
        let outputs = network.outputs(for: testInputs)
        let errors = zip(outputs, testTargets).dropFirst(washout).map { ($0.0[0] - $0.1[0]) * ($0.0[0] - $0.1[0]) }
        return errors.reduce(0, +) / Double(errors.count) / testVariance
    }

    /// Passes over the training segment (each from the zero state, a weight update at every step)
    /// until the normalised test error is below `threshold`; nil if `maxPasses` do not suffice.
    /// `pass` trains once over the segment and returns the current network.
    func passesToReach(_ threshold: Double, maxPasses: Int, pass: () -> ElmanNetwork,
                       report: (Int, Double) -> Void = { _, _ in }) -> Int? {
        for n in 1...maxPasses {
            let error = normalizedTestError(pass())
            report(n, error)
            if error < threshold { return n }
        }
        return nil
    }

    func ekfPasses(_ configuration: ExtendedKalmanFilterConfiguration, network: ElmanNetwork, threshold: Double,
                   maxPasses: Int, report: (Int, Double) -> Void = { _, _ in }) throws -> Int? {
        let ekf = try ExtendedKalmanFilterTrainer(network: network, configuration: configuration)
        return passesToReach(threshold, maxPasses: maxPasses, pass: {
            ekf.resetState()
            for (x, d) in zip(trainInputs, trainTargets) { ekf.trainStep(input: x, target: d) }
            var trained = network
            trained.parameters = ekf.weights
            return trained
        }, report: report)
    }

    func sgdPasses(learningRate: Double, network: ElmanNetwork, threshold: Double, maxPasses: Int,
                   report: (Int, Double) -> Void = { _, _ in }) -> Int? {
        let rtrl = RealTimeRecurrentLearning(network: network)
        return passesToReach(threshold, maxPasses: maxPasses, pass: {
            rtrl.reset()
            for (x, d) in zip(trainInputs, trainTargets) { rtrl.trainStep(input: x, target: d, learningRate: learningRate) }
            return rtrl.network
        }, report: report)
    }

    /// Like `sgdPasses`, with Adam (β = 0.9, 0.999, ε = 1e-8) on the same per-step RTRL gradient.
    func adamPasses(learningRate: Double, network: ElmanNetwork, threshold: Double, maxPasses: Int) -> Int? {
        let rtrl = RealTimeRecurrentLearning(network: network)
        let count = network.parameterCount
        var m = [Double](repeating: 0, count: count), v = m, t = 0.0
        return passesToReach(threshold, maxPasses: maxPasses, pass: {
            rtrl.reset()
            for (x, d) in zip(trainInputs, trainTargets) {
                rtrl.advance(x)
                let g = rtrl.gradient(target: d)
                t += 1
                for q in 0..<count {
                    m[q] = 0.9 * m[q] + 0.1 * g[q]
                    v[q] = 0.999 * v[q] + 0.001 * g[q] * g[q]
                    let mHat = m[q] / (1 - pow(0.9, t)), vHat = v[q] / (1 - pow(0.999, t))
                    rtrl.network.parameters[q] -= learningRate * mHat / (vHat.squareRoot() + 1e-8)
                }
            }
            return rtrl.network
        })
    }
}

final class AlgorithmEKFTests: XCTestCase {
    /// One filter step on a 1-1-1 network worked out from the formulas with the Jacobian H from RTRL:
    /// A = r + H P₀ Hᵀ, K = P₀ Hᵀ / A, w₁ = w₀ + K (d − y), P₁ = P₀ − K H P₀ + q I (global), and the
    /// same per block with the shared A for the decoupled filter.
    func testOneStepByTheFormulas() throws {
        var rng = RandomGenerator(seed: 3)
        let net = try ElmanNetwork(inputSize: 1, hiddenSize: 1, outputSize: 1, using: &rng)
        let x = [0.7], d = [0.3]
        let probe = RealTimeRecurrentLearning(network: net)
        let y = probe.advance(x)[0]
        let h = probe.outputJacobian().elements                        // 5 weights
        let p0 = 2.0, r = 0.5, q = 0.01
        for decoupled in [false, true] {
            let configuration = ExtendedKalmanFilterConfiguration(decoupled: decoupled, initialCovariance: p0, measurementNoise: r,
                                                                  initialProcessNoise: q, finalProcessNoise: 0, processNoiseDecay: 0.5)
            let ekf = try ExtendedKalmanFilterTrainer(network: net, configuration: configuration)
            XCTAssertEqual(ekf.blocks, decoupled ? [[0, 1, 2], [3, 4]] : [[0, 1, 2, 3, 4]])
            let loss = ekf.trainStep(input: x, target: d)
            XCTAssertEqual(loss, 0.5 * (d[0] - y) * (d[0] - y), accuracy: 1e-15)
            let a = r + p0 * h.reduce(0) { $0 + $1 * $1 }
            for k in 0..<5 {
                XCTAssertEqual(ekf.weights[k], net.parameters[k] + p0 * h[k] / a * (d[0] - y), accuracy: 1e-14)
            }
            for (block, covariance) in zip(ekf.blocks, ekf.covariances) {
                for (i, qi) in block.enumerated() {
                    for (j, qj) in block.enumerated() {
                        let expected = (i == j ? p0 + q : 0) - p0 * p0 * h[qi] * h[qj] / a
                        XCTAssertEqual(covariance[i, j], expected, accuracy: 1e-14)
                    }
                }
            }
            XCTAssertEqual(ekf.processNoise, q * 0.5)
        }
    }

    func testInvalidSettingsAreRejected() throws {
        var rng = RandomGenerator(seed: 1)
        let net = try ElmanNetwork(inputSize: 1, hiddenSize: 2, outputSize: 1, using: &rng)
        for (configuration, name) in [(ExtendedKalmanFilterConfiguration(initialCovariance: 0), "initialCovariance"),
                                      (.init(measurementNoise: -1), "measurementNoise"),
                                      (.init(initialProcessNoise: -1), "initialProcessNoise"),
                                      (.init(processNoiseDecay: 1.5), "processNoiseDecay")] {
            XCTAssertThrowsError(try ExtendedKalmanFilterTrainer(network: net, configuration: configuration)) { error in
                XCTAssertEqual((error as? ConfigurationError)?.argument, name)
            }
        }
    }

    /// Acceptance (issue 6 b): on one-step prediction of the Mackey–Glass series (300 training and
    /// 300 test steps, Elman network with 8 tanh units), the global and the decoupled EKF reach a
    /// normalised test error below 0.001 in a few passes (this network: 2 and 2); RTRL gradient descent
    /// with the best of three learning rates has not reached it after 5 passes (docs/training.md: not
    /// after 1000 either). Over 20 seeds: global 1–2 passes, decoupled 1–4, gradient descent not within
    /// 20 on any (docs/learning-margins.md).
    func testEKFNeedsFewerPassesThanGradientDescent() throws {
        let task = try MackeyGlassPrediction(trainLength: 300, testLength: 300)
        var rng = RandomGenerator(seed: 1)
        let net = try ElmanNetwork(inputSize: 1, hiddenSize: 8, outputSize: 1, using: &rng)
        XCTAssertGreaterThan(task.normalizedTestError(net), 0.5)
        XCTAssertNotNil(try task.ekfPasses(.init(decoupled: false), network: net, threshold: 1e-3, maxPasses: 3))
        XCTAssertNotNil(try task.ekfPasses(.init(decoupled: true), network: net, threshold: 1e-3, maxPasses: 5))
        for learningRate in [0.003, 0.01, 0.03] {
            XCTAssertNil(task.sgdPasses(learningRate: learningRate, network: net, threshold: 1e-3, maxPasses: 5), "\(learningRate)")
        }
    }

    /// Passes to a normalised test error below 0.001 for networks drawn from seeds 1…N (EKF: 6 for not
    /// within 5; gradient descent, the best of three learning rates: 21 for not within 20).
    func testMarginsOverSeeds() throws {
        let task = try MackeyGlassPrediction(trainLength: 300, testLength: 300)
        try LearningMargins.sweep("EKF against gradient descent") { seed in
            var rng = RandomGenerator(seed: seed)
            let net = try ElmanNetwork(inputSize: 1, hiddenSize: 8, outputSize: 1, using: &rng)
            let global = try task.ekfPasses(.init(decoupled: false), network: net, threshold: 1e-3, maxPasses: 5) ?? 6
            let decoupled = try task.ekfPasses(.init(decoupled: true), network: net, threshold: 1e-3, maxPasses: 5) ?? 6
            let sgd = [0.003, 0.01, 0.03].map { task.sgdPasses(learningRate: $0, network: net, threshold: 1e-3, maxPasses: 20) ?? 21 }.min()!
            return [("global EKF passes", Double(global)), ("decoupled EKF passes", Double(decoupled)),
                    ("best SGD passes", Double(sgd)), ("initial error", task.normalizedTestError(net))]
        }
    }

    /// The full comparison behind docs/training.md (minutes in a debug build):
    ///
    ///     RECURRENT_FULL_RUNS=1 swift test -c release --filter AlgorithmEKFTests/testFullComparison
    func testFullComparison() throws {
        guard ProcessInfo.processInfo.environment["RECURRENT_FULL_RUNS"] == "1" else {
            throw XCTSkip("full runs: set RECURRENT_FULL_RUNS=1 (and build with -c release)")
        }
        let task = try MackeyGlassPrediction(trainLength: 300, testLength: 300)
        let persistence = zip(task.testInputs, task.testTargets).dropFirst(task.washout)
            .map { ($0.0[0] - $0.1[0]) * ($0.0[0] - $0.1[0]) }
        print("persistence (predict x_{n+1} = x_n): NMSE \(persistence.reduce(0, +) / Double(persistence.count) / task.testVariance)")
        for seed in UInt64(1)...3 {
            var rng = RandomGenerator(seed: seed)
            let net = try ElmanNetwork(inputSize: 1, hiddenSize: 8, outputSize: 1, using: &rng)
            for threshold in [1e-2, 1e-3] {
                for decoupled in [false, true] {
                    let start = Date()
                    let n = try task.ekfPasses(.init(decoupled: decoupled), network: net, threshold: threshold, maxPasses: 20)
                    print("seed \(seed) threshold \(threshold) \(decoupled ? "decoupled EKF" : "global EKF"): passes \(n.map(String.init) ?? "> 20"), \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
                }
                for learningRate in [0.003, 0.01, 0.03] {
                    let start = Date()
                    let n = task.sgdPasses(learningRate: learningRate, network: net, threshold: threshold, maxPasses: 1000)
                    print("seed \(seed) threshold \(threshold) RTRL-SGD lr \(learningRate): passes \(n.map(String.init) ?? "> 1000"), \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
                }
                for learningRate in [0.001, 0.003, 0.01] {
                    let n = task.adamPasses(learningRate: learningRate, network: net, threshold: threshold, maxPasses: 1000)
                    print("seed \(seed) threshold \(threshold) RTRL-Adam lr \(learningRate): passes \(n.map(String.init) ?? "> 1000")")
                }
            }
        }
    }
}
