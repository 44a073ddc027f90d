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
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float {
        didSet { precondition(learningRate >= 0, "SGD: learningRate must be non-negative, got \(learningRate)") }
    }
    public let momentum: Float
    public let dampening: Float
    public let weightDecay: Float
    public let nesterov: Bool

    /// One momentum buffer per parameter (same element count); `nil` until its first step.
    private var momentumBuffers: [[Float]?]

    /// - Parameters:
    ///   - learningRate: required, as in PyTorch; `>= 0`.
    ///   - momentum: `>= 0`; 0 disables the momentum buffer.
    ///   - dampening: scales the gradient's contribution to the buffer by `1 − dampening`.
    ///   - weightDecay: L2 penalty added to the gradient; `>= 0`.
    ///   - nesterov: Nesterov momentum; needs `momentum > 0` and `dampening == 0`.
    /// - Throws: `ConfigurationError` naming the invalid argument.
    public init(_ parameters: [Parameter], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) throws {
        self.parameters = try validatedParameters(parameters)
        try requireNonNegative(learningRate, "learningRate")
        try requireNonNegative(momentum, "momentum")
        try requireNonNegative(weightDecay, "weightDecay")
        try ConfigurationError.require(dampening.isFinite, "dampening", "must be finite, got \(dampening)")
        try ConfigurationError.require(!nesterov || (momentum > 0 && dampening == 0), "nesterov",
                                       "Nesterov momentum requires momentum > 0 and dampening == 0, got momentum \(momentum), dampening \(dampening)")
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        self.momentumBuffers = Array(repeating: nil, count: parameters.count)
    }

    public func step() {
        let lr = learningRate, weightDecay = self.weightDecay, momentum = self.momentum, nesterov = self.nesterov
        let gradientScale = Float(1 - Double(dampening))
        for (index, parameter) in parameters.enumerated() {
            guard parameter.requiresGrad, let grad = parameter.grad else { continue }   // frozen or unused: skipped
            precondition(grad.shape == parameter.value.shape,
                         "SGD: gradient shape \(grad.shape) differs from parameter \(index) shape \(parameter.value.shape)")
            let count = grad.count
            // Take the buffer out of the array so that it is uniquely referenced while mutated.
            let isFirst = momentumBuffers[index] == nil
            var buffer = momentumBuffers[index] ?? (momentum != 0 ? [Float](repeating: 0, count: count) : [])
            momentumBuffers[index] = nil
            grad.scalars.withUnsafeBufferPointer { g in
                parameter.value.scalars.withUnsafeMutableBufferPointer { p in
                    buffer.withUnsafeMutableBufferPointer { b in
                        SGDUpdate(g: baseAddress(g), p: baseAddress(p), buffer: baseAddress(b),
                                  weightDecay: weightDecay != 0 ? weightDecay : nil, momentum: momentum != 0 ? momentum : nil,
                                  firstStep: isFirst, nesterov: nesterov, gradientScale: gradientScale,
                                  negativeLearningRate: -lr).run(count: count)
                    }
                }
            }
            if momentum != 0 { momentumBuffers[index] = buffer }
        }
    }

    public func stateDict() -> [(name: String, tensor: Tensor)] {
        var writer = OptimizerStateWriter()
        for (index, buffer) in momentumBuffers.enumerated() {
            if let buffer { writer.buffer(index, "momentum_buffer", buffer, shape: parameters[index].value.shape) }
        }
        writer.learningRate(learningRate)
        return writer.entries
    }

    public func loadStateDict(_ entries: [(name: String, tensor: Tensor)]) throws {
        var reader = try OptimizerStateReader(owner: "SGD", parameters: parameters, entries: entries)
        var buffers: [[Float]?] = Array(repeating: nil, count: parameters.count)
        if momentum != 0 {
            for index in parameters.indices {
                buffers[index] = try reader.slot(index, hasStep: false, keys: ["momentum_buffer"])?.buffers[0]
            }
        }
        let lr = try reader.learningRate()
        try reader.finish()
        momentumBuffers = buffers
        learningRate = lr
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
