import RecurrentCore
import RecurrentAutodiff

/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight
/// decay: PyTorch's `torch.optim.SGD` (same defaults, same update, same state-dict names).
///
/// For each parameter `p` with gradient `g`, in this order:
///
///     g ← g + weightDecay · p                         (if weightDecay ≠ 0)
///     b ← g                                           (first step with a gradient)
///     b ← momentum · b + (1 − dampening) · g          (later steps; if momentum ≠ 0)
///     g ← g + momentum · b  (nesterov)   or   g ← b   (if momentum ≠ 0)
///     p ← p − learningRate · g
///
/// State: `state.<index>.momentum_buffer` (only when momentum ≠ 0, for parameters stepped at least once).
public final class SGD: OptimizerBase {
    public let momentum: Float
    public let dampening: Float
    public let weightDecay: Float
    public let nesterov: Bool

    /// - Parameters:
    ///   - learningRate: required, as in PyTorch; `>= 0`.
    ///   - momentum: `>= 0`; 0 disables the momentum buffer.
    ///   - dampening: scales the gradient's contribution to the buffer by `1 − dampening`.
    ///   - weightDecay: L2 penalty added to the gradient; `>= 0`.
    ///   - nesterov: Nesterov momentum; needs `momentum > 0` and `dampening == 0`.
    /// - Throws: `ConfigurationError` naming the invalid argument.
    public init(_ parameters: [Parameter], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) throws {
        try requireNonNegative(momentum, "momentum")
        try requireNonNegative(weightDecay, "weightDecay")
        try ConfigurationError.require(dampening.isFinite, "dampening", "must be finite, got \(dampening)")
        try ConfigurationError.require(!nesterov || (momentum > 0 && dampening == 0), "nesterov",
                                       "Nesterov momentum requires momentum > 0 and dampening == 0, got momentum \(momentum), dampening \(dampening)")
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        try super.init(parameters, learningRate: learningRate, name: "SGD",
                       bufferNames: momentum != 0 ? ["momentum_buffer"] : [], countsSteps: false)
    }

    override func update(_ slot: inout OptimizerSlot, isNew: Bool, gradient: UnsafePointer<Float>,
                         parameter: UnsafeMutablePointer<Float>, count: Int) {
        slot.withBuffers(count: count) { buffer in
            SGDUpdate(g: gradient, p: parameter, buffer: buffer(0), weightDecay: weightDecay != 0 ? weightDecay : nil,
                      momentum: momentum != 0 ? momentum : nil, firstStep: isNew, nesterov: nesterov,
                      gradientScale: Float(1 - Double(dampening)), negativeLearningRate: -learningRate).run(count: count)
        }
    }
}

/// The SGD update of one parameter's elements (`buffer` is used only with momentum).
private struct SGDUpdate: ElementwiseUpdate {
    let g: UnsafePointer<Float>
    let p, buffer: UnsafeMutablePointer<Float>
    let weightDecay: Float?, momentum: Float?
    /// On a parameter's first step the momentum buffer is the gradient itself (PyTorch's `clone`).
    let firstStep: Bool, nesterov: Bool
    let gradientScale, negativeLearningRate: Float

    @inline(__always)
    @_specialize(where L == Float)
    func apply<L: FloatLanes>(_: L.Type, at j: Int) {
        var direction = L.load(g, j)
        let param = L.load(p, j)
        if let weightDecay { direction = direction + L(repeating: weightDecay) * param }
        if let momentum {
            let velocity = firstStep
                ? direction
                : L.load(buffer, j) * L(repeating: momentum) + L(repeating: gradientScale) * direction
            velocity.store(buffer, j)
            direction = nesterov ? direction + L(repeating: momentum) * velocity : velocity
        }
        (param + L(repeating: negativeLearningRate) * direction).store(p, j)
    }
}
