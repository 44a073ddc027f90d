import RecurrentCore
import RecurrentAutodiff

/// One time step of a recurrent network: the unit that `runSequence` loops over.
///
/// A cell maps an input `(batchSize, inputSize)` and a state to an output `(batchSize, outputSize)`
/// and the next state. The built-in cells (`RNNCell`, `LSTMCell`, `GRUCell`) are built from
/// autodiff ops, one small node per operation: the clear, slow reference path. Conform your own
/// class to plug a custom cell into `runSequence`; its gradients come from the ops it uses.
public protocol RecurrentCell: Module {
    /// What is carried from one step to the next: a `Variable` `(batchSize, hiddenSize)` for RNN and
    /// GRU cells, `LSTMState` for LSTM cells.
    associatedtype State

    /// The state at the start of a sequence when none is given: all zeros, for `batchSize` rows.
    func zeroState(batchSize: Int) -> State

    /// One step: `input` `(batchSize, inputSize)` and `state` → `output` `(batchSize, outputSize)`
    /// and the next state.
    func callAsFunction(_ input: Variable, state: State) -> (output: Variable, state: State)
}

extension RecurrentCell {
    /// One step from `state`, or from `zeroState(batchSize:)` when it is `nil` — "no state" is
    /// exactly "zero state".
    public func callAsFunction(_ input: Variable, state: State?) -> (output: Variable, state: State) {
        precondition(input.shape.count == 2, "\(Self.self): input must be (batchSize, inputSize), got \(input.shape)")
        return self(input, state: state ?? zeroState(batchSize: input.shape[0]))
    }
}

/// Runs `cell` over every time step of `input`.
///
/// Shapes: `input` is `(sequenceLength, batchSize, inputSize)`; the result's `output` is
/// `(sequenceLength, batchSize, outputSize)`, the cell's output at each step, and `state` is the
/// state after the last step processed. Without `initialState` the cell starts from its zero state.
///
/// With `reversed`, the steps are read from the last to the first, and the output of the step that
/// read `input[t]` is stored at `output[t]` (the reverse direction of a bidirectional PyTorch
/// layer); the returned state is then the one after reading `input[0]`.
///
/// Each step records its own tape nodes, so gradients reach the input, the initial state and every
/// parameter of the cell (BPTT through the ops).
/// - Precondition: `input` has rank 3 and at least one time step.
public func runSequence<Cell: RecurrentCell>(
    _ cell: Cell, over input: Variable, initialState: Cell.State? = nil, reversed: Bool = false
) -> (output: Variable, state: Cell.State) {
    precondition(input.shape.count == 3,
                 "runSequence: input must be (sequenceLength, batchSize, inputSize), got \(input.shape)")
    let sequenceLength = input.shape[0]
    precondition(sequenceLength > 0, "runSequence: the sequence has no time steps (input shape \(input.shape))")
    let steps = input.unstacked(axis: 0)
    var state = initialState ?? cell.zeroState(batchSize: input.shape[1])
    var outputs = [Variable]()
    outputs.reserveCapacity(sequenceLength)
    for t in 0..<sequenceLength {
        let step = cell(steps[reversed ? sequenceLength - 1 - t : t], state: state)
        outputs.append(step.output)
        state = step.state
    }
    if reversed { outputs.reverse() }
    return (Variable.stacked(outputs), state)
}
