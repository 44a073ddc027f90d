import RecurrentCore
import RecurrentAutodiff

/// One parameter's optimizer state: its step count (for the optimizers that count steps) and its
/// buffers, `bufferNames.count` of them back to back, each with the parameter's element count.
public struct OptimizerSlot: Sendable {
    public var step: Float
    public var buffers: [Float]
}

/// What every optimizer shares: the parameter list, the learning rate, one lazily created state slot
/// per parameter (PyTorch creates a parameter's state at its first step), the loop of `step()` over
/// the parameters that have a gradient, and the state dict in PyTorch's names. A subclass names its
/// buffers and writes `update(_:isNew:gradient:parameter:count:)` for one parameter — see
/// docs/architecture.md, "How to add an optimizer".
public class OptimizerBase: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float {
        didSet { precondition(learningRate >= 0, "\(name): learningRate must be non-negative, got \(learningRate)") }
    }
    /// The name in messages and state-dict errors (`Adam`, `SGD` ...).
    let name: String
    /// The state-dict names of the buffers of a slot, in order (`exp_avg`, `exp_avg_sq` ...).
    let bufferNames: [String]
    /// Whether slots count steps (`state.<index>.step`).
    let countsSteps: Bool
    /// Whether every parameter has a slot from the start (Adagrad), rather than from its first step.
    let stateFromStart: Bool
    private var slots: [OptimizerSlot?]

    /// Checks the parameter list and the learning rate.
    /// - Throws: `ConfigurationError` naming `parameters` or `learningRate`.
    init(_ parameters: [Parameter], learningRate: Float, name: String, bufferNames: [String], countsSteps: Bool,
         stateFromStart: Bool = false) throws {
        self.parameters = try validatedParameters(parameters)
        try requireNonNegative(learningRate, "learningRate")
        self.learningRate = learningRate
        self.name = name
        self.bufferNames = bufferNames
        self.countsSteps = countsSteps
        self.stateFromStart = stateFromStart
        slots = Array(repeating: nil, count: parameters.count)
    }

    /// The slot of a parameter with `count` elements before its first step: step 0, buffers filled
    /// with `initialBufferValue`.
    func newSlot(count: Int) -> OptimizerSlot {
        OptimizerSlot(step: 0, buffers: [Float](repeating: initialBufferValue, count: bufferNames.count * count))
    }

    /// The value the buffers start from (0; Adagrad's `initialAccumulatorValue`).
    var initialBufferValue: Float { 0 }

    /// Creates every slot now (for `stateFromStart`; call at the end of the subclass's init).
    func createAllSlots() {
        slots = parameters.map { newSlot(count: $0.value.count) }
    }

    /// Updates one parameter of `count` elements: `slot` (its step already counted; `isNew` on the step
    /// that created it), the gradient and the values, in place.
    func update(_ slot: inout OptimizerSlot, isNew: Bool, gradient: UnsafePointer<Float>,
                parameter: UnsafeMutablePointer<Float>, count: Int) {
        preconditionFailure("\(name) must override update(_:isNew:gradient:parameter:count:)")
    }

    public func step() {
        for (index, parameter) in parameters.enumerated() {
            guard parameter.requiresGrad, let grad = parameter.grad else { continue }   // frozen or unused: skipped
            precondition(grad.shape == parameter.value.shape,
                         "\(name): gradient shape \(grad.shape) differs from parameter \(index) shape \(parameter.value.shape)")
            let count = grad.count
            let isNew = slots[index] == nil
            var slot = slots[index] ?? newSlot(count: count)
            slots[index] = nil   // keep the buffers uniquely referenced while they are mutated
            if countsSteps { slot.step += 1 }
            grad.scalars.withUnsafeBufferPointer { g in
                parameter.value.scalars.withUnsafeMutableBufferPointer { p in
                    update(&slot, isNew: isNew, gradient: baseAddress(g), parameter: baseAddress(p), count: count)
                }
            }
            slots[index] = slot
        }
    }

    public func stateDict() -> [(name: String, tensor: Tensor)] {
        var writer = OptimizerStateWriter()
        for (index, slot) in slots.enumerated() {
            guard let slot else { continue }
            let shape = parameters[index].value.shape, count = parameters[index].value.count
            if countsSteps { writer.step(index, slot.step) }
            for (k, key) in bufferNames.enumerated() {
                writer.buffer(index, key, Array(slot.buffers[(k * count)..<((k + 1) * count)]), shape: shape)
            }
        }
        writer.learningRate(learningRate)
        return writer.entries
    }

    public func loadStateDict(_ entries: [(name: String, tensor: Tensor)]) throws {
        var reader = try OptimizerStateReader(owner: name, parameters: parameters, entries: entries)
        var loaded: [OptimizerSlot?] = Array(repeating: nil, count: parameters.count)
        for index in parameters.indices {
            let slot = stateFromStart
                ? try reader.requiredSlot(index, hasStep: countsSteps, keys: bufferNames)
                : try reader.slot(index, hasStep: countsSteps, keys: bufferNames)
            if let slot { loaded[index] = OptimizerSlot(step: slot.step, buffers: slot.buffers.flatMap { $0 }) }
        }
        let lr = try reader.learningRate()
        try reader.finish()
        slots = loaded
        learningRate = lr
    }
}

extension OptimizerSlot {
    /// Runs `body` with a pointer to buffer `k` of a slot whose buffers have `count` elements each
    /// (a valid pointer also when the slot has no buffers).
    @inline(__always)
    mutating func withBuffers<R>(count: Int, _ body: (_ buffer: (Int) -> UnsafeMutablePointer<Float>) -> R) -> R {
        buffers.withUnsafeMutableBufferPointer { all in
            let base = baseAddress(all)
            return body { k in base + k * count }
        }
    }
}
