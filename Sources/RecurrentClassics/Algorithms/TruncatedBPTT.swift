import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim

// Truncated back-propagation through time, BPTT(k1, k2) (Williams & Peng 1990; Sutskever 2013):
// the network runs forward one step at a time; every k1 steps the losses of the last k1 steps are
// back-propagated through the last k2 steps and the weights are updated.
//
// Nothing is recomputed. Each step is run on the tape from a fresh leaf copy of the previous state,
// so every step's graph stands alone; the trainer keeps the last k2 step graphs (their saved
// tensors and backward closures) and at an update walks them from the newest to the oldest,
// handing the gradient with respect to each step's incoming state (the leaf's `grad`) to the step
// before as the seed of its outgoing state. Memory: k2 step graphs.
//
// Shapes: an input step is `(batchSize, inputSize)`; the cell's output `(batchSize, outputSize)`.

/// A recurrent state that truncated BPTT can take apart into tensors and put back together.
///
/// `Variable` (RNN, GRU, state-space and second-order cells), `LSTMState` and `RMLPState` conform. Conform the state of your own cell to
/// train it with `TruncatedBPTT`.
public protocol TruncatableState {
    /// The variables that make up the state, in a fixed order (`[h]`, `[h, c]` ...).
    var stateComponents: [Variable] { get }
    /// A state of the same kind made of `components` (same order and shapes as `stateComponents`).
    static func fromStateComponents(_ components: [Variable]) -> Self
}

extension Variable: TruncatableState {
    public var stateComponents: [Variable] { [self] }
    public static func fromStateComponents(_ components: [Variable]) -> Variable {
        precondition(components.count == 1, "Variable.fromStateComponents: expected 1 component, got \(components.count)")
        return components[0]
    }
}

extension LSTMState: TruncatableState {
    public var stateComponents: [Variable] { [h, c] }
    public static func fromStateComponents(_ components: [Variable]) -> LSTMState {
        precondition(components.count == 2, "LSTMState.fromStateComponents: expected h and c, got \(components.count) components")
        return LSTMState(h: components[0], c: components[1])
    }
}

extension RMLPState: TruncatableState {
    public var stateComponents: [Variable] { layers }
    public static func fromStateComponents(_ components: [Variable]) -> RMLPState { RMLPState(layers: components) }
}

/// How a step-by-step trainer treats the boundaries between epochs (lecture 01, "Learning Algorithms").
public enum RecurrentTrainingMode: String, Sendable, CaseIterable {
    /// Each epoch (a group of consecutive input–target pairs) starts from the initial (zero) state;
    /// at its end the pending losses are back-propagated and the weights updated, then the state is reset.
    case epochwise
    /// No resets: the state and the update rhythm run on across epoch boundaries, learning while
    /// the stream is processed.
    case continuous
}

/// What one step of `TruncatedBPTT` did.
public struct TruncatedBPTTStep {
    /// The cell's output `(batchSize, outputSize)` (value only).
    public var output: Tensor
    /// The step's loss, if the loss closure returned one.
    public var loss: Float?
    /// Whether this step ended with a backward pass (and an optimizer step, when there is an optimizer).
    public var updated: Bool
}

/// Truncated BPTT(k1, k2) for any `RecurrentCell` with a per-step loss, without recomputing the
/// forward pass.
///
/// - `k1`: forward steps between updates (how often the weights change);
/// - `k2`: steps back-propagated at an update (how far back credit is assigned).
///
/// At the update after step τ (1-based, τ a multiple of k1, or the end of an epoch), the losses
/// `L_s` of the steps `s = τ−k1+1 … τ` are back-propagated through the steps `τ−k2+1 … τ` and no
/// further: the state entering step `τ−k2+1` is treated as a constant. So with k2 ≥ k1, the newest
/// loss is back-propagated k2 steps and the oldest one k2−k1+1 steps (Williams & Peng's BPTT(h; h')
/// with h = k2, h' = k1); with k2 < k1 the losses of the first k1−k2 steps of each block fall
/// outside the window and contribute nothing (only their forward pass is used). k1 = k2 = T over a
/// sequence of length T is full (epochwise) BPTT; k1 = 1 updates at every step.
///
/// The older steps in the window keep the values they were computed with (the weights of their
/// time): the forward pass is never repeated with the updated weights.
///
/// Without an optimizer, an update only accumulates the gradients into the parameters' `grad`
/// (zero them yourself); with one, an update is `zeroGrad`, backward, optional norm clipping, `step`.
public final class TruncatedBPTT<Cell: RecurrentCell> where Cell.State: TruncatableState {
    public let cell: Cell
    /// Forward steps between updates.
    public let k1: Int
    /// Steps back-propagated at an update.
    public let k2: Int
    /// Updates the weights after each backward pass; `nil` leaves the gradients in `grad`.
    public var optimizer: (any Optimizer)?
    /// The largest joint gradient norm (over `optimizer.parameters`) before the optimizer step; `nil` for none.
    public var clipNorm: Float?

    /// The state after the last step (values only, no history); `nil` means the zero state.
    public private(set) var state: Cell.State?
    /// Steps since the last update.
    public private(set) var pendingSteps = 0
    /// Updates (backward passes) so far.
    public private(set) var updateCount = 0
    /// After an update: for each stored step (oldest first), the 2-norm of the gradient of the
    /// back-propagated losses with respect to each component of the state entering that step
    /// (`[‖∂L/∂h‖]`, or `[‖∂L/∂h‖, ‖∂L/∂c‖]` for an LSTM). The gradient-flow measurements read it.
    public private(set) var stateGradientNorms: [[Float]] = []

    private struct Record {
        /// Leaf copies of the incoming state (their `grad` is the gradient handed to the step before).
        var stateIn: [Variable]
        var stateOut: [Variable]
        var loss: Variable?
    }

    /// The last (at most k2) steps, oldest first.
    private var records: [Record] = []

    /// - Throws: `ConfigurationError` naming `k1` or `k2` when not positive, or `clipNorm` when negative.
    public init(cell: Cell, k1: Int, k2: Int, optimizer: (any Optimizer)? = nil, clipNorm: Float? = nil) throws {
        try ConfigurationError.require(k1 > 0, "k1", "must be positive (forward steps between updates), got \(k1)")
        try ConfigurationError.require(k2 > 0, "k2", "must be positive (steps back-propagated), got \(k2)")
        if let clipNorm { try ConfigurationError.require(clipNorm >= 0, "clipNorm", "must be non-negative, got \(clipNorm)") }
        self.cell = cell
        self.k1 = k1
        self.k2 = k2
        self.optimizer = optimizer
        self.clipNorm = clipNorm
    }

    /// Forgets the stored steps and pending losses and starts again from `state` (the zero state when nil).
    public func reset(to state: Cell.State? = nil) {
        records.removeAll()
        pendingSteps = 0
        self.state = state.map { Cell.State.fromStateComponents($0.stateComponents.map { $0.detached() }) }
    }

    /// Runs one step and, when k1 steps have passed since the last update, updates.
    ///
    /// - Parameters:
    ///   - input: `(batchSize, inputSize)`.
    ///   - loss: maps the cell's output `(batchSize, outputSize)` to this step's scalar loss (apply
    ///     your readout inside; its parameters belong in the optimizer), or `nil` for a step
    ///     without a target.
    @discardableResult
    public func step(_ input: Tensor, loss: (Variable) -> Variable?) -> TruncatedBPTTStep {
        precondition(input.rank == 2, "TruncatedBPTT.step: input must be (batchSize, inputSize), got \(input.shape)")
        let previous = state ?? cell.zeroState(batchSize: input.shape[0])
        let stateIn = previous.stateComponents.map { Variable($0.value, requiresGrad: true) }
        let (output, next) = cell(Variable(input), state: Cell.State.fromStateComponents(stateIn))
        let stepLoss = loss(output)
        if let stepLoss {
            precondition(stepLoss.value.count == 1, "TruncatedBPTT.step: the loss must be a scalar, got shape \(stepLoss.shape)")
        }
        let stateOut = next.stateComponents
        records.append(Record(stateIn: stateIn, stateOut: stateOut, loss: stepLoss))
        if records.count > k2 { records.removeFirst(records.count - k2) }
        state = Cell.State.fromStateComponents(stateOut.map { $0.detached() })
        pendingSteps += 1
        var updated = false
        if pendingSteps >= k1 {
            update()
            updated = true
        }
        return TruncatedBPTTStep(output: output.value, loss: stepLoss?.value.scalar, updated: updated)
    }

    /// Back-propagates the losses of the pending steps (at most k1) through the stored steps (at
    /// most k2) now, and steps the optimizer. Call at the end of an epoch whose length is not a
    /// multiple of k1. Does nothing when no step is pending.
    public func update() {
        guard pendingSteps > 0 else { return }
        let firstWithLoss = records.count - Swift.min(pendingSteps, records.count)
        pendingSteps = 0
        if let optimizer { optimizer.zeroGrad() }
        backpropagate(lossesFrom: firstWithLoss)
        updateCount += 1
        if let optimizer {
            if let clipNorm { clipGradientNorm(optimizer.parameters, maxNorm: clipNorm) }
            optimizer.step()
        }
    }

    /// The reverse walk over the stored steps: step r receives the gradient of its outgoing state
    /// from step r+1 (and its own loss when r ≥ `firstWithLoss`); the gradient of its leaf incoming
    /// state goes on to step r−1. Parameters accumulate their gradients on the way.
    private func backpropagate(lossesFrom firstWithLoss: Int) {
        var adjoint: [Tensor]? = nil
        var norms = [[Float]](repeating: [], count: records.count)
        defer { stateGradientNorms = norms }
        for r in records.indices.reversed() {
            let record = records[r]
            var terms: [Variable] = []
            if r >= firstWithLoss, let loss = record.loss { terms.append(loss) }
            if let adjoint {
                for (out, seed) in zip(record.stateOut, adjoint) where out.requiresGrad {
                    terms.append((out * Variable(seed)).sum())
                }
            }
            guard let first = terms.first else {
                adjoint = nil
                norms[r] = record.stateIn.map { _ in 0 }
                continue
            }
            for leaf in record.stateIn { leaf.zeroGrad() }
            let root = terms.dropFirst().reduce(first, +)
            root.backward()
            adjoint = record.stateIn.map { $0.grad ?? Tensor(zeros: $0.shape) }
            norms[r] = adjoint!.map { $0.norm() }
        }
    }

    /// Runs one epoch: the steps `inputs[0..<count]` in order.
    ///
    /// `.epochwise` resets to the zero state first and ends with `update()` (so every loss of the
    /// epoch is used and the next epoch starts afresh); `.continuous` carries the state and the
    /// update rhythm on from the previous call.
    ///
    /// - Parameters:
    ///   - inputs: one `(batchSize, inputSize)` tensor per step.
    ///   - loss: the loss of step `t` (0-based within the epoch) from the cell's output, or `nil`.
    /// - Returns: the mean of the step losses that were returned (nan if none).
    @discardableResult
    public func trainEpoch(_ inputs: [Tensor], mode: RecurrentTrainingMode,
                           loss: (_ step: Int, _ output: Variable) -> Variable?) -> Float {
        if mode == .epochwise { reset() }
        var total = 0.0, counted = 0
        for (t, input) in inputs.enumerated() {
            if let value = step(input, loss: { loss(t, $0) }).loss {
                total += Double(value)
                counted += 1
            }
        }
        if mode == .epochwise {
            update()
            reset()
        }
        return counted == 0 ? .nan : Float(total / Double(counted))
    }
}
