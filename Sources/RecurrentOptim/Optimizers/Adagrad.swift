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
public final class Adagrad: OptimizerBase {
    public let learningRateDecay: Float
    public let weightDecay: Float
    public let initialAccumulatorValue: Float
    public let epsilon: Float

    /// - Parameters:
    ///   - learningRate: `>= 0`.
    ///   - learningRateDecay: `>= 0`; the step size at step t is `learningRate / (1 + (t − 1) · learningRateDecay)`.
    ///   - weightDecay: L2 penalty added to the gradient; `>= 0`.
    ///   - initialAccumulatorValue: starting value of the squared-gradient sum; `>= 0`.
    ///   - epsilon: added to the denominator; `>= 0`.
    /// - Throws: `ConfigurationError` naming the invalid argument.
    public init(_ parameters: [Parameter], learningRate: Float = 1e-2, learningRateDecay: Float = 0,
                weightDecay: Float = 0, initialAccumulatorValue: Float = 0, epsilon: Float = 1e-10) throws {
        try requireNonNegative(learningRateDecay, "learningRateDecay")
        try requireNonNegative(weightDecay, "weightDecay")
        try requireNonNegative(initialAccumulatorValue, "initialAccumulatorValue")
        try requireNonNegative(epsilon, "epsilon")
        self.learningRateDecay = learningRateDecay
        self.weightDecay = weightDecay
        self.initialAccumulatorValue = initialAccumulatorValue
        self.epsilon = epsilon
        try super.init(parameters, learningRate: learningRate, name: "Adagrad", bufferNames: ["sum"], countsSteps: true,
                       stateFromStart: true)
        createAllSlots()
    }

    override var initialBufferValue: Float { initialAccumulatorValue }

    override func update(_ slot: inout OptimizerSlot, isNew: Bool, gradient: UnsafePointer<Float>,
                         parameter: UnsafeMutablePointer<Float>, count: Int) {
        let negativeStepSize = Float(-(Double(learningRate) / (1 + (Double(slot.step) - 1) * Double(learningRateDecay))))
        slot.withBuffers(count: count) { buffer in
            AdagradUpdate(g: gradient, p: parameter, sum: buffer(0), weightDecay: weightDecay != 0 ? weightDecay : nil,
                          negativeStepSize: negativeStepSize, epsilon: epsilon).run(count: count)
        }
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
