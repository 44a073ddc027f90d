import RecurrentCore

/// Settings of `ExtendedKalmanFilterTrainer`.
public struct ExtendedKalmanFilterConfiguration: Sendable, Equatable {
    /// One covariance block per neuron (decoupled EKF) instead of one over all weights (global EKF).
    public var decoupled: Bool
    /// P_0 = initialCovariance · I: how uncertain the initial weights are.
    public var initialCovariance: Double
    /// R = measurementNoise · I: the variance assumed for the measurement noise ν_n.
    public var measurementNoise: Double
    /// Q_0 = initialProcessNoise · I: the variance of the random walk ω_n at the start.
    public var initialProcessNoise: Double
    /// The floor the process noise is annealed down to.
    public var finalProcessNoise: Double
    /// q_{n+1} = max(finalProcessNoise, processNoiseDecay · q_n) after every update.
    public var processNoiseDecay: Double

    public init(decoupled: Bool = false, initialCovariance: Double = 100, measurementNoise: Double = 0.1,
                initialProcessNoise: Double = 1e-2, finalProcessNoise: Double = 1e-6, processNoiseDecay: Double = 0.995) {
        self.decoupled = decoupled
        self.initialCovariance = initialCovariance
        self.measurementNoise = measurementNoise
        self.initialProcessNoise = initialProcessNoise
        self.finalProcessNoise = finalProcessNoise
        self.processNoiseDecay = processNoiseDecay
    }

    /// Throws a `ConfigurationError` naming the first invalid setting.
    public func validate() throws {
        try ConfigurationError.require(initialCovariance > 0, "initialCovariance", "must be positive, got \(initialCovariance)")
        try ConfigurationError.require(measurementNoise > 0, "measurementNoise", "must be positive, got \(measurementNoise)")
        try ConfigurationError.require(initialProcessNoise >= 0, "initialProcessNoise", "must be non-negative, got \(initialProcessNoise)")
        try ConfigurationError.require(finalProcessNoise >= 0, "finalProcessNoise", "must be non-negative, got \(finalProcessNoise)")
        try ConfigurationError.require(processNoiseDecay > 0 && processNoiseDecay <= 1, "processNoiseDecay",
                                       "must be in (0, 1], got \(processNoiseDecay)")
    }
}

/// Training a recurrent network as nonlinear sequential state estimation (lecture 01; Puskorius &
/// Feldkamp 1994; Haykin, ch. 15): the weights w are the state of
///
///     system model        w_{n+1} = w_n + ω_n,            ω_n ~ N(0, Q_n)   (random walk)
///     measurement model   d_n = h(w_n, v_n, u_n) + ν_n,    ν_n ~ N(0, R)
///
/// where h is the network's output (an Elman network or an LSTM with a linear readout) given its
/// internal state v_n (the hidden state, carried along) and the input u_n. Each step linearises h
/// around the current weights with H_n = ∂y_n/∂w (from RTRL) and runs the extended Kalman filter:
///
///     A_n = (R + Σ_g H_g P_g H_gᵀ)⁻¹                 (outputSize × outputSize)
///     K_g = P_g H_gᵀ A_n                              Kalman gain of block g
///     w_g ← w_g + K_g (d_n − y_n)
///     P_g ← P_g − K_g H_g P_g + Q_n
///
/// With one block (global EKF) P is the full s × s covariance of all s weights. The decoupled EKF
/// groups the weights by the neuron they feed (`RealTimeRecurrentLearner.weightBlocks`) and keeps
/// only the diagonal blocks of P, ignoring the correlations between neurons.
///
/// The process noise Q_n = q_n I is annealed: large early, so the filter keeps exploring (escaping
/// poor regions), then decaying by `processNoiseDecay` per step towards `finalProcessNoise`.
///
/// Cost per step, with s weights (s ≈ n² for n = hiddenSize), p = outputSize and blocks of size
/// s_g: the global EKF needs O(p·s²) for P H ᵀ and the P update, O(s²) memory; the decoupled EKF
/// O(p·Σ_g s_g²) = O(p·(n + p)·(n + m + 1)²) ≈ O(p·n³), memory Σ_g s_g². Both add the RTRL cost
/// O(n⁴) for the Jacobian, which therefore dominates the decoupled filter; and inverting A costs O(p³).
public final class ExtendedKalmanFilterTrainer {
    public let configuration: ExtendedKalmanFilterConfiguration
    /// Carries the network's internal state and the Jacobian; holds the current weights.
    public let learner: any RealTimeRecurrentLearner
    /// The parameter indices of each block (one block with every index for the global EKF).
    public let blocks: [[Int]]
    /// The covariance of each block.
    public private(set) var covariances: [DoubleMatrix]
    /// The current process-noise variance q_n.
    public private(set) var processNoise: Double
    /// Filter updates so far.
    public private(set) var updateCount = 0

    /// The current weights (in the learner's order, e.g. `ElmanNetwork.parameters`).
    public var weights: [Double] { learner.weights }

    /// A trainer for an Elman network (Jacobians from `RealTimeRecurrentLearning`).
    /// - Throws: `ConfigurationError` naming an invalid setting.
    public convenience init(network: ElmanNetwork, configuration: ExtendedKalmanFilterConfiguration = .init()) throws {
        try self.init(learner: RealTimeRecurrentLearning(network: network), configuration: configuration)
    }

    /// A trainer for any network whose Jacobians come from RTRL (`RealTimeRecurrentLearning`,
    /// `LSTMRealTimeRecurrentLearning`). The learner is reset.
    /// - Throws: `ConfigurationError` naming an invalid setting.
    public init(learner: any RealTimeRecurrentLearner, configuration: ExtendedKalmanFilterConfiguration = .init()) throws {
        try configuration.validate()
        self.configuration = configuration
        self.learner = learner
        learner.reset()
        let count = learner.weights.count
        blocks = configuration.decoupled ? learner.weightBlocks : [Array(0..<count)]
        covariances = blocks.map { DoubleMatrix.identity($0.count, scale: configuration.initialCovariance) }
        processNoise = configuration.initialProcessNoise
    }

    /// Resets the network's internal state (hidden state and RTRL sensitivities), keeping the
    /// weights and their covariance: the start of an epoch in epochwise training.
    public func resetState() { learner.reset() }

    /// One step: runs the network on `input`, then corrects the weights towards `target`.
    /// - Returns: ½‖y_n − d_n‖² before the correction.
    @discardableResult
    public func trainStep(input: [Double], target: [Double]) -> Double {
        let p = learner.outputCount
        precondition(target.count == p, "ExtendedKalmanFilterTrainer: target has \(target.count) elements, expected \(p)")
        let y = learner.advance(input)
        let innovation = zip(target, y).map { $0 - $1 }
        let jacobian = learner.outputJacobian()
        // H_g and P_g H_gᵀ per block.
        var pht: [DoubleMatrix] = []
        var a = DoubleMatrix.identity(p, scale: configuration.measurementNoise)
        for (block, covariance) in zip(blocks, covariances) {
            var hg = DoubleMatrix(rows: p, columns: block.count)
            for k in 0..<p { for (j, q) in block.enumerated() { hg[k, j] = jacobian[k, q] } }
            let ph = covariance * hg.transposed
            a = a + hg * ph
            pht.append(ph)
        }
        guard let aInverse = a.inverse else {
            preconditionFailure("ExtendedKalmanFilterTrainer: the innovation covariance is singular (measurementNoise \(configuration.measurementNoise))")
        }
        var w = learner.weights
        defer { learner.weights = w }
        for g in blocks.indices {
            let gain = pht[g] * aInverse                         // K_g, (s_g × p)
            let correction = gain.times(innovation)
            for (j, q) in blocks[g].enumerated() { w[q] += correction[j] }
            var updated = covariances[g] - gain * pht[g].transposed
            for i in 0..<updated.rows { updated[i, i] += processNoise }
            covariances[g] = updated.symmetrized
        }
        processNoise = max(configuration.finalProcessNoise, processNoise * configuration.processNoiseDecay)
        updateCount += 1
        return 0.5 * innovation.reduce(0) { $0 + $1 * $1 }
    }
}
