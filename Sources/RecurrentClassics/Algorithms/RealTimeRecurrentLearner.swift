/// A recurrent network trained online with forward-propagated sensitivities: what the EKF trainer
/// needs (the output, its Jacobian with respect to every weight, the weights as one vector).
/// `RealTimeRecurrentLearning` (Elman) and `LSTMRealTimeRecurrentLearning` conform.
public protocol RealTimeRecurrentLearner: AnyObject {
    /// All weights as one vector (the learner's documented order).
    var weights: [Double] { get set }
    /// The number of outputs p.
    var outputCount: Int { get }
    /// For every neuron, the indices in `weights` of the weights that feed it (decoupled EKF blocks).
    var weightBlocks: [[Int]] { get }
    /// Back to the zero state and zero sensitivities.
    func reset()
    /// One step with the current weights; returns the output.
    @discardableResult func advance(_ input: [Double]) -> [Double]
    /// ∂y/∂w at the current step: `(outputCount, weights.count)`.
    func outputJacobian() -> DoubleMatrix
    /// The output y_t of the last step.
    var output: [Double] { get }
}

extension RealTimeRecurrentLearner {
    /// ∂L_t/∂w for L_t = ½‖y_t − d_t‖² at the current step (`weights.count` elements).
    public func gradient(target: [Double]) -> [Double] {
        precondition(target.count == outputCount, "RTRL gradient: target has \(target.count) elements, expected \(outputCount)")
        return outputJacobian().transposedTimes(zip(output, target).map { $0 - $1 })
    }

    /// One step of continuous online training by gradient descent: advance on `input`, then
    /// w ← w − learningRate · ∂L_t/∂w.
    /// - Returns: L_t = ½‖y_t − d_t‖² before the update.
    @discardableResult
    public func trainStep(input: [Double], target: [Double], learningRate: Double) -> Double {
        advance(input)
        let loss = 0.5 * zip(output, target).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let g = gradient(target: target)
        var w = weights
        for q in w.indices { w[q] -= learningRate * g[q] }
        weights = w
        return loss
    }

    /// The gradient of Σ_t ½‖y_t − d_t‖² over a whole sequence from the zero state with the weights
    /// held fixed, accumulated forward in time (resets first).
    public func accumulatedGradient(inputs: [[Double]], targets: [[Double]]) -> [Double] {
        precondition(inputs.count == targets.count, "accumulatedGradient: \(inputs.count) inputs, \(targets.count) targets")
        reset()
        var total = [Double](repeating: 0, count: weights.count)
        for (x, d) in zip(inputs, targets) {
            advance(x)
            for (q, g) in gradient(target: d).enumerated() { total[q] += g }
        }
        return total
    }
}

extension RealTimeRecurrentLearning: RealTimeRecurrentLearner {
    public var weights: [Double] {
        get { network.parameters }
        set { network.parameters = newValue }
    }
    public var outputCount: Int { network.outputSize }
    public var weightBlocks: [[Int]] { network.neuronParameterIndices }
}
