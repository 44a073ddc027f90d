import RecurrentCore
import RecurrentAutodiff

/// RMSprop (Hinton's lecture 6e) in PyTorch's form: `torch.optim.RMSprop`, same defaults, update
/// and state names.
///
/// For each parameter `p` with gradient `g`:
///
///     g ← g + weightDecay · p                     (if weightDecay ≠ 0)
///     s ← α · s + (1 − α) · g²                    (square_avg)
///     a ← a + (1 − α) · (g − a)                   (grad_avg, centered only)
///     d ← √(s − a²) + ε   (centered)   or   √s + ε
///     b ← momentum · b + g / d,  p ← p − learningRate · b      (if momentum > 0)
///     p ← p − learningRate · g / d                              (otherwise)
///
/// Note ε is added outside the square root, as in PyTorch.
///
/// State per parameter: `state.<index>.step`, `square_avg`, and `momentum_buffer` (momentum > 0),
/// `grad_avg` (centered). The step count is kept for PyTorch compatibility; the update does not use it.
public final class RMSprop: OptimizerBase {
    public let alpha: Float
    public let epsilon: Float
    public let weightDecay: Float
    public let momentum: Float
    public let centered: Bool

    /// - Parameters:
    ///   - learningRate: `>= 0`.
    ///   - alpha: smoothing constant of the squared-gradient average; `>= 0`.
    ///   - epsilon: added to the denominator; `>= 0`.
    ///   - weightDecay: L2 penalty added to the gradient; `>= 0`.
    ///   - momentum: `>= 0`; 0 disables the momentum buffer.
    ///   - centered: normalise by an estimate of the gradient's variance instead of its second moment.
    /// - Throws: `ConfigurationError` naming the invalid argument.
    public init(_ parameters: [Parameter], learningRate: Float = 1e-2, alpha: Float = 0.99, epsilon: Float = 1e-8,
                weightDecay: Float = 0, momentum: Float = 0, centered: Bool = false) throws {
        try requireNonNegative(epsilon, "epsilon")
        try requireNonNegative(momentum, "momentum")
        try requireNonNegative(weightDecay, "weightDecay")
        try requireNonNegative(alpha, "alpha")
        self.alpha = alpha
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.centered = centered
        try super.init(parameters, learningRate: learningRate, name: "RMSprop",
                       bufferNames: ["square_avg"] + (momentum > 0 ? ["momentum_buffer"] : []) + (centered ? ["grad_avg"] : []),
                       countsSteps: true)
    }

    override func update(_ slot: inout OptimizerSlot, isNew: Bool, gradient: UnsafePointer<Float>,
                         parameter: UnsafeMutablePointer<Float>, count: Int) {
        let useMomentum = momentum > 0
        slot.withBuffers(count: count) { buffer in
            RMSpropUpdate(g: gradient, p: parameter, squareAvg: buffer(0),
                          momentumBuffer: buffer(useMomentum ? 1 : 0), gradAvg: buffer(useMomentum ? 2 : 1),
                          weightDecay: weightDecay != 0 ? weightDecay : nil, momentum: useMomentum ? momentum : nil,
                          centered: centered, alpha: alpha, oneMinusAlpha: Float(1 - Double(alpha)), epsilon: epsilon,
                          negativeLearningRate: -learningRate).run(count: count)
        }
    }
}

/// The RMSprop update of one parameter's elements (`momentumBuffer` and `gradAvg` are used only
/// when momentum is on and when centered).
private struct RMSpropUpdate: ElementwiseUpdate {
    let g: UnsafePointer<Float>
    let p, squareAvg, momentumBuffer, gradAvg: UnsafeMutablePointer<Float>
    let weightDecay: Float?, momentum: Float?, centered: Bool
    let alpha, oneMinusAlpha, epsilon, negativeLearningRate: Float

    @inline(__always)
    @_specialize(where L == Float)
    func apply<L: FloatLanes>(_: L.Type, at j: Int) {
        var grad = L.load(g, j)
        let param = L.load(p, j)
        if let weightDecay { grad = grad + L(repeating: weightDecay) * param }
        let square = L.load(squareAvg, j) * L(repeating: alpha) + L(repeating: oneMinusAlpha) * grad * grad
        square.store(squareAvg, j)
        var average: L
        if centered {
            let mean = lerp(L.load(gradAvg, j), grad, weight: oneMinusAlpha, weightIsSmall: abs(oneMinusAlpha) < 0.5)
            mean.store(gradAvg, j)
            // PyTorch: square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
            average = (square + L(repeating: -1) * mean * mean).laneSquareRoot
        } else {
            average = square.laneSquareRoot
        }
        average = average + L(repeating: epsilon)
        if let momentum {
            let buffer = L.load(momentumBuffer, j) * L(repeating: momentum) + grad / average
            buffer.store(momentumBuffer, j)
            (param + L(repeating: negativeLearningRate) * buffer).store(p, j)
        } else {
            (param + L(repeating: negativeLearningRate) * grad / average).store(p, j)
        }
    }
}
