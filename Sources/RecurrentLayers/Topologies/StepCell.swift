import RecurrentCore
import RecurrentAutodiff

/// The state of a step cell: `h` `(batchSize, hiddenSize)` and, for cells with a cell state (LSTM), `c`.
struct CellState {
    var h: Variable
    var c: Variable?

    /// Rows of several single- or multi-row states, concatenated along the batch axis.
    static func stacked(_ states: [CellState]) -> CellState {
        if states.count == 1 { return states[0] }
        let h = Variable.concatenated(states.map(\.h), axis: 0)
        let c = states[0].c == nil ? nil : Variable.concatenated(states.map { $0.c! }, axis: 0)
        return CellState(h: h, c: c)
    }

    /// One single-row state per row.
    func unstacked() -> [CellState] {
        let rows = h.shape[0]
        return (0..<rows).map { r in CellState(h: h.slice(r..<(r + 1)), c: c?.slice(r..<(r + 1))) }
    }
}

/// Any step cell (`RNNCell`, `GRUCell`, `LSTMCell`, ...) behind one interface, made by the kind's
/// `CellKernel.makeStepCell`: the cell of the models built step by step (encoder–decoder, sequence
/// classifier and generator).
struct StepCell {
    /// The cell, for its parameters.
    let module: any Module
    /// Whether the state has `c`.
    let hasCellState: Bool
    private let stepBody: (Variable, CellState) -> CellState
    private let runBody: (Variable, [Int]) -> (output: Variable, state: CellState)

    /// A cell of `kind` with PyTorch's default initialisation drawn from `rng`.
    init(_ kind: GatedCellKind, inputSize: Int, hiddenSize: Int, using rng: inout RandomGenerator) throws {
        self = try kind.layerCell.kernel.makeStepCell(inputSize: inputSize, hiddenSize: hiddenSize, using: &rng)
    }

    /// Wraps `cell`, translating between its own state and `CellState` with `state` and `components`.
    init<Cell: RecurrentCell>(_ cell: Cell, hasCellState: Bool, state: @escaping (CellState) -> Cell.State,
                              components: @escaping (Cell.State) -> CellState) where Cell.State: MaskableState {
        module = cell
        self.hasCellState = hasCellState
        stepBody = { input, s in components(cell(input, state: state(s)).state) }
        runBody = { input, lengths in
            let (output, final) = runSequence(cell, over: input, lengths: lengths)
            return (output, components(final))
        }
    }

    /// One step: input `(batchSize, inputSize)` and state → the next state.
    func step(_ input: Variable, state: CellState) -> CellState { stepBody(input, state) }

    /// The whole padded sequence `(T, B, inputSize)` from the zero state: output `(T, B, H)` and the
    /// state at each row's last step.
    func run(_ input: Variable, lengths: [Int]) -> (output: Variable, state: CellState) { runBody(input, lengths) }
}
