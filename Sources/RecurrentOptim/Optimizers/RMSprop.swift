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
public final class RMSprop: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float {
        didSet { precondition(learningRate >= 0, "RMSprop: learningRate must be non-negative, got \(learningRate)") }
    }
    public let alpha: Float
    public let epsilon: Float
    public let weightDecay: Float
    public let momentum: Float
    public let centered: Bool

    private struct Averages {
        var step: Float
        var squareAvg: [Float]
        /// Empty unless momentum > 0.
        var momentumBuffer: [Float]
        /// Empty unless centered.
        var gradAvg: [Float]
    }

    private var averages: [Averages?]

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
        self.parameters = try validatedParameters(parameters)
        try requireNonNegative(learningRate, "learningRate")
        try requireNonNegative(epsilon, "epsilon")
        try requireNonNegative(momentum, "momentum")
        try requireNonNegative(weightDecay, "weightDecay")
        try requireNonNegative(alpha, "alpha")
        self.learningRate = learningRate
        self.alpha = alpha
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.centered = centered
        self.averages = Array(repeating: nil, count: parameters.count)
    }

    private var bufferKeys: [String] {
        ["square_avg"] + (momentum > 0 ? ["momentum_buffer"] : []) + (centered ? ["grad_avg"] : [])
    }

    public func step() {
        let negativeLR = -learningRate, weightDecay = self.weightDecay, eps = epsilon
        let momentum = self.momentum, useMomentum = momentum > 0, centered = self.centered
        let a = alpha, oneMinusAlpha = Float(1 - Double(alpha))
        for (index, parameter) in parameters.enumerated() {
            guard parameter.requiresGrad, let grad = parameter.grad else { continue }   // frozen or unused: skipped
            precondition(grad.shape == parameter.value.shape,
                         "RMSprop: gradient shape \(grad.shape) differs from parameter \(index) shape \(parameter.value.shape)")
            let count = grad.count
            var state = averages[index] ?? Averages(step: 0, squareAvg: .init(repeating: 0, count: count),
                                                    momentumBuffer: useMomentum ? .init(repeating: 0, count: count) : [],
                                                    gradAvg: centered ? .init(repeating: 0, count: count) : [])
            averages[index] = nil   // keep the buffers uniquely referenced while they are mutated
            state.step += 1
            grad.scalars.withUnsafeBufferPointer { g in
                parameter.value.scalars.withUnsafeMutableBufferPointer { p in
                    state.squareAvg.withUnsafeMutableBufferPointer { s in
                        state.momentumBuffer.withUnsafeMutableBufferPointer { b in
                            state.gradAvg.withUnsafeMutableBufferPointer { ga in
                                RMSpropUpdate(g: baseAddress(g), p: baseAddress(p), squareAvg: baseAddress(s),
                                              momentumBuffer: baseAddress(b), gradAvg: baseAddress(ga),
                                              weightDecay: weightDecay != 0 ? weightDecay : nil,
                                              momentum: useMomentum ? momentum : nil, centered: centered,
                                              alpha: a, oneMinusAlpha: oneMinusAlpha, epsilon: eps,
                                              negativeLearningRate: negativeLR).run(count: count)
                            }
                        }
                    }
                }
            }
            averages[index] = state
        }
    }

    public func stateDict() -> [(name: String, tensor: Tensor)] {
        var writer = OptimizerStateWriter()
        for (index, state) in averages.enumerated() {
            guard let state else { continue }
            let shape = parameters[index].value.shape
            writer.step(index, state.step)
            writer.buffer(index, "square_avg", state.squareAvg, shape: shape)
            if momentum > 0 { writer.buffer(index, "momentum_buffer", state.momentumBuffer, shape: shape) }
            if centered { writer.buffer(index, "grad_avg", state.gradAvg, shape: shape) }
        }
        writer.learningRate(learningRate)
        return writer.entries
    }

    public func loadStateDict(_ entries: [(name: String, tensor: Tensor)]) throws {
        var reader = try OptimizerStateReader(owner: "RMSprop", parameters: parameters, entries: entries)
        let keys = bufferKeys
        var loaded: [Averages?] = Array(repeating: nil, count: parameters.count)
        for index in parameters.indices {
            guard let slot = try reader.slot(index, hasStep: true, keys: keys) else { continue }
            var next = 1
            func take(_ enabled: Bool) -> [Float] {
                guard enabled else { return [] }
                defer { next += 1 }
                return slot.buffers[next]
            }
            let momentumBuffer = take(momentum > 0)
            let gradAvg = take(centered)
            loaded[index] = Averages(step: slot.step, squareAvg: slot.buffers[0],
                                     momentumBuffer: momentumBuffer, gradAvg: gradAvg)
        }
        let lr = try reader.learningRate()
        try reader.finish()
        averages = loaded
        learningRate = lr
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
