import RecurrentCore
import RecurrentAutodiff

/// Adagrad (Duchi et al.) in PyTorch's form: `torch.optim.Adagrad`, same defaults, update and
/// state names.
///
/// For each parameter `p` with gradient `g`, at its step `t` (counted per parameter, from 1):
///
///     g ← g + weightDecay · p                                 (if weightDecay ≠ 0)
///     lr_t ← learningRate / (1 + (t − 1) · learningRateDecay)
///     S ← S + g²                                              (sum, starts at initialAccumulatorValue)
///     p ← p − lr_t · g / (√S + ε)
///
/// Unlike the other optimizers, and as in PyTorch, the state of every parameter exists from the
/// start: `state.<index>.step` (0) and `state.<index>.sum` (filled with `initialAccumulatorValue`).
public final class Adagrad: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float {
        didSet { precondition(learningRate >= 0, "Adagrad: learningRate must be non-negative, got \(learningRate)") }
    }
    public let learningRateDecay: Float
    public let weightDecay: Float
    public let initialAccumulatorValue: Float
    public let epsilon: Float

    private var steps: [Float]
    private var sums: [[Float]]

    /// - Parameters:
    ///   - learningRate: `>= 0`.
    ///   - learningRateDecay: `>= 0`; the step size at step t is `learningRate / (1 + (t − 1) · learningRateDecay)`.
    ///   - weightDecay: L2 penalty added to the gradient; `>= 0`.
    ///   - initialAccumulatorValue: starting value of the squared-gradient sum; `>= 0`.
    ///   - epsilon: added to the denominator; `>= 0`.
    /// - Throws: `ConfigurationError` naming the invalid argument.
    public init(_ parameters: [Parameter], learningRate: Float = 1e-2, learningRateDecay: Float = 0,
                weightDecay: Float = 0, initialAccumulatorValue: Float = 0, epsilon: Float = 1e-10) throws {
        self.parameters = try validatedParameters(parameters)
        try requireNonNegative(learningRate, "learningRate")
        try requireNonNegative(learningRateDecay, "learningRateDecay")
        try requireNonNegative(weightDecay, "weightDecay")
        try requireNonNegative(initialAccumulatorValue, "initialAccumulatorValue")
        try requireNonNegative(epsilon, "epsilon")
        self.learningRate = learningRate
        self.learningRateDecay = learningRateDecay
        self.weightDecay = weightDecay
        self.initialAccumulatorValue = initialAccumulatorValue
        self.epsilon = epsilon
        self.steps = Array(repeating: 0, count: parameters.count)
        self.sums = parameters.map { [Float](repeating: initialAccumulatorValue, count: $0.value.count) }
    }

    public func step() {
        let lr = Double(learningRate), decay = Double(learningRateDecay)
        let weightDecay = self.weightDecay, eps = epsilon
        for (index, parameter) in parameters.enumerated() {
            guard parameter.requiresGrad, let grad = parameter.grad else { continue }   // frozen or unused: skipped
            precondition(grad.shape == parameter.value.shape,
                         "Adagrad: gradient shape \(grad.shape) differs from parameter \(index) shape \(parameter.value.shape)")
            precondition(sums[index].count == grad.count,
                         "Adagrad: parameter \(index) changed size from \(sums[index].count) to \(grad.count) elements")
            steps[index] += 1
            let negativeStepSize = Float(-(lr / (1 + (Double(steps[index]) - 1) * decay)))
            let count = grad.count
            grad.scalars.withUnsafeBufferPointer { g in
                parameter.value.scalars.withUnsafeMutableBufferPointer { p in
                    sums[index].withUnsafeMutableBufferPointer { s in
                        AdagradUpdate(g: baseAddress(g), p: baseAddress(p), sum: baseAddress(s),
                                      weightDecay: weightDecay != 0 ? weightDecay : nil,
                                      negativeStepSize: negativeStepSize, epsilon: eps).run(count: count)
                    }
                }
            }
        }
    }

    public func stateDict() -> [(name: String, tensor: Tensor)] {
        var writer = OptimizerStateWriter()
        for index in parameters.indices {
            writer.step(index, steps[index])
            writer.buffer(index, "sum", sums[index], shape: parameters[index].value.shape)
        }
        writer.learningRate(learningRate)
        return writer.entries
    }

    public func loadStateDict(_ entries: [(name: String, tensor: Tensor)]) throws {
        var reader = try OptimizerStateReader(owner: "Adagrad", parameters: parameters, entries: entries)
        var loadedSteps: [Float] = []
        var loadedSums: [[Float]] = []
        for index in parameters.indices {
            let slot = try reader.requiredSlot(index, hasStep: true, keys: ["sum"])
            loadedSteps.append(slot.step)
            loadedSums.append(slot.buffers[0])
        }
        let lr = try reader.learningRate()
        try reader.finish()
        steps = loadedSteps
        sums = loadedSums
        learningRate = lr
    }
}

/// The Adagrad update of one parameter's elements.
private struct AdagradUpdate: ElementwiseUpdate {
    let g: UnsafePointer<Float>
    let p, sum: UnsafeMutablePointer<Float>
    let weightDecay: Float?
    let negativeStepSize, epsilon: Float

    @inline(__always)
    @_specialize(where L == Float)
    func apply<L: FloatLanes>(_: L.Type, at j: Int) {
        var grad = L.load(g, j)
        let param = L.load(p, j)
        if let weightDecay { grad = grad + L(repeating: weightDecay) * param }
        let total = L.load(sum, j) + grad * grad
        total.store(sum, j)
        (param + L(repeating: negativeStepSize) * grad / (total.laneSquareRoot + L(repeating: epsilon))).store(p, j)
    }
}
