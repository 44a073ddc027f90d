import RecurrentCore
import RecurrentAutodiff

/// How a second-order network turns its final state into an accept/reject decision.
public enum SecondOrderReadout: Hashable, Sendable {
    /// State neuron `index` is the response neuron (Giles et al.): its final value x_index(T) is the
    /// acceptance probability, so the acceptance logit is its last pre-activation v_index.
    case stateNeuron(Int)
    /// A `Linear(stateSize → 1)` on the final state gives the acceptance logit (parameters
    /// `readout.weight` `(1, stateSize)` and `readout.bias` `(1)`).
    case linear
}

/// The second-order recurrent network of the lecture: each state neuron k multiplies every pair of
/// a feedback value x_i and a source input u_j with its own weight w_kij:
///
///     v_k(n)   = Σ_i Σ_j w_kij · x_i(n) · u_j(n)  +  Σ_j b_kj · u_j(n)
///     x_k(n+1) = σ(v_k(n)) = 1 / (1 + e^(−v_k(n)))
///
/// With one-hot inputs (symbol j at step n) the input selects one S × S slice of the weight tensor,
/// `x(n+1) = σ(W[:, :, j] · x(n) + b[:, j])`: a learned, soft state-transition table, which is why
/// these networks learn finite automata (regular languages) well.
///
/// The bias term is the weight from a constant unit clamped at 1, so its shape is
/// `(stateSize, inputSize)`: one bias per neuron and input symbol. A plain bias `(stateSize)` would
/// not do: from the zero state the product terms vanish, and a bias independent of the input would
/// make the first step blind to the first symbol.
///
/// Shapes: input u `(batchSize, inputSize)` (or one symbol in `0..<inputSize` per row), state x
/// `(batchSize, stateSize)`. Parameters (state-dict names): `weight` `(stateSize, stateSize, inputSize)`
/// with `weight[k, i, j] = w_kij`, `bias` `(stateSize, inputSize)` (optional), and with a linear
/// readout `readout.weight` `(1, stateSize)`, `readout.bias` `(1)`. `weight` and `bias` are uniform
/// in `±1/√stateSize`; the readout is initialised as `Linear`.
///
/// As a `RecurrentCell` the output of a step is the new state.
public final class SecondOrderRecurrentNetwork: RecurrentCell {
    public typealias State = Variable

    public let stateSize: Int
    public let inputSize: Int
    public let readout: SecondOrderReadout
    /// w `(stateSize, stateSize, inputSize)`, state-dict name `weight`: `weight[k, i, j] = w_kij`.
    public let weight: Parameter
    /// b `(stateSize, inputSize)`, `bias`; `nil` when created with `bias: false`.
    public let bias: Parameter?
    /// The readout layer of `.linear` (`readout.` prefix); `nil` for `.stateNeuron`.
    public let readoutLayer: Linear?
    public var isTraining = true

    /// A network with parameters drawn from `rng`.
    /// - Throws: `ConfigurationError` naming `stateSize` or `inputSize` when it is not positive, or
    ///   `readout` when its state neuron is outside `0..<stateSize`.
    public convenience init(stateSize: Int, inputSize: Int, bias: Bool = true,
                            readout: SecondOrderReadout = .stateNeuron(0), using rng: inout RandomGenerator) throws {
        try Self.validate(stateSize, inputSize, readout)
        let values = Self.draw(stateSize, inputSize, bias, using: &rng)
        let layer = readout == .linear ? try Linear(inputSize: stateSize, outputSize: 1, using: &rng) : nil
        self.init(stateSize: stateSize, inputSize: inputSize, readout: readout, values: values, readoutLayer: layer)
    }

    /// A network with parameters drawn from the process-wide generator (`GlobalRandom`).
    /// - Throws: `ConfigurationError` as the other initialiser.
    public convenience init(stateSize: Int, inputSize: Int, bias: Bool = true,
                            readout: SecondOrderReadout = .stateNeuron(0)) throws {
        try Self.validate(stateSize, inputSize, readout)
        let (values, layer) = try GlobalRandom.with { rng in
            (Self.draw(stateSize, inputSize, bias, using: &rng),
             readout == .linear ? try Linear(inputSize: stateSize, outputSize: 1, using: &rng) : nil)
        }
        self.init(stateSize: stateSize, inputSize: inputSize, readout: readout, values: values, readoutLayer: layer)
    }

    private init(stateSize: Int, inputSize: Int, readout: SecondOrderReadout, values: [Tensor], readoutLayer: Linear?) {
        self.stateSize = stateSize
        self.inputSize = inputSize
        self.readout = readout
        weight = .parameter(values[0])
        bias = values.count > 1 ? .parameter(values[1]) : nil
        self.readoutLayer = readoutLayer
    }

    private static func validate(_ stateSize: Int, _ inputSize: Int, _ readout: SecondOrderReadout) throws {
        try ConfigurationError.require(stateSize > 0, "stateSize", "must be positive, got \(stateSize)")
        try ConfigurationError.require(inputSize > 0, "inputSize", "must be positive, got \(inputSize)")
        if case .stateNeuron(let index) = readout {
            try ConfigurationError.require(index >= 0 && index < stateSize, "readout",
                                           "state neuron \(index) is outside 0..<\(stateSize)")
        }
    }

    private static func draw(_ stateSize: Int, _ inputSize: Int, _ bias: Bool, using rng: inout RandomGenerator) -> [Tensor] {
        uniformTensors([[stateSize, stateSize, inputSize]] + (bias ? [[stateSize, inputSize]] : []),
                       bound: 1 / Float(stateSize).squareRoot(), using: &rng)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) + prefixed("readout", readoutLayer?.namedParameters ?? [])
    }

    /// Zeros `(batchSize, stateSize)`.
    public func zeroState(batchSize: Int) -> Variable { Variable(Tensor(zeros: [batchSize, stateSize])) }

    // MARK: General inputs (a full contraction)

    /// v `(batchSize, stateSize)` for any real inputs u `(batchSize, inputSize)` and state x
    /// `(batchSize, stateSize)`: `a[b, k·S + i] = Σ_j w_kij u_bj` (one matrix product), then
    /// `v[b, k] = Σ_i a[b, k·S + i] · x[b, i]`.
    public func preactivation(_ input: Variable, state: Variable) -> Variable {
        checkCellShapes("SecondOrderRecurrentNetwork", input: input, states: [state], inputSize: inputSize, hiddenSize: stateSize)
        let mixed = linear(input, weight: weight.reshaped([stateSize * stateSize, inputSize]), bias: nil)
        let v = contract(mixed, with: state)
        return bias.map { v + linear(input, weight: $0, bias: nil) } ?? v
    }

    /// One step for real inputs: x(n+1) = σ(v(n)), returned as both output and state.
    public func callAsFunction(_ input: Variable, state: Variable) -> (output: Variable, state: Variable) {
        let next = preactivation(input, state: state).sigmoid()
        return (next, next)
    }

    // MARK: One-hot inputs (slice selection)

    /// The weight rearranged for symbol lookup: row j is the slice `W[:, :, j]` flattened `(S·S)`,
    /// with the bias column `b[:, j]` as the matching row of the second table.
    private struct SymbolTables {
        let weight: Variable      // (inputSize, S·S)
        let bias: Variable?       // (inputSize, S)
    }

    private func symbolTables() -> SymbolTables {
        SymbolTables(weight: weight.permuted([2, 0, 1]).reshaped([inputSize, stateSize * stateSize]),
                     bias: bias?.transposed())
    }

    private func preactivation(symbols: [Int], state: Variable, tables: SymbolTables) -> Variable {
        precondition(state.shape == [symbols.count, stateSize],
                     "SecondOrderRecurrentNetwork: state must be (\(symbols.count), \(stateSize)) for \(symbols.count) symbols, got \(state.shape)")
        for (row, symbol) in symbols.enumerated() where symbol < 0 || symbol >= inputSize {
            preconditionFailure("SecondOrderRecurrentNetwork: symbol \(symbol) in row \(row) is outside 0..<\(inputSize)")
        }
        let v = contract(embedding(symbols, weight: tables.weight), with: state)
        return tables.bias.map { v + embedding(symbols, weight: $0) } ?? v
    }

    /// v `(batchSize, stateSize)` when row b's input is one-hot at `symbols[b]`: selects the slice
    /// `W[:, :, symbols[b]]` instead of contracting over the input axis.
    public func preactivation(symbols: [Int], state: Variable) -> Variable {
        preactivation(symbols: symbols, state: state, tables: symbolTables())
    }

    /// One step for one-hot inputs: the next state `(batchSize, stateSize)`.
    public func callAsFunction(symbols: [Int], state: Variable) -> Variable {
        preactivation(symbols: symbols, state: state).sigmoid()
    }

    /// Runs over symbol strings of equal length and returns the acceptance logit of each.
    ///
    /// `strings` holds `batchSize` strings of the same length `sequenceLength ≥ 1` over
    /// `0..<inputSize`. The state starts at `initialState` `(batchSize, stateSize)` or zeros. The
    /// result `(batchSize)` is the readout's logit: σ(logit) is the acceptance probability, and a
    /// string is accepted when the logit is positive. Tables for slice selection are built once
    /// per call, so a step costs a lookup, a product and a row sum.
    public func acceptanceLogits(strings: [[Int]], initialState: Variable? = nil) -> Variable {
        let batchSize = strings.count
        let sequenceLength = strings.first?.count ?? 0
        precondition(batchSize > 0 && sequenceLength > 0 && strings.allSatisfy { $0.count == sequenceLength },
                     "SecondOrderRecurrentNetwork: needs one or more strings of the same positive length, got lengths \(strings.map(\.count))")
        let tables = symbolTables()
        var state = initialState ?? zeroState(batchSize: batchSize)
        var v = state
        for t in 0..<sequenceLength {
            v = preactivation(symbols: strings.map { $0[t] }, state: state, tables: tables)
            state = v.sigmoid()
        }
        return logits(finalState: state, lastPreactivation: v)
    }

    /// The acceptance logits `(batchSize)` for real inputs `(sequenceLength ≥ 1, batchSize, inputSize)`.
    public func acceptanceLogits(inputs: Variable, initialState: Variable? = nil) -> Variable {
        precondition(inputs.shape.count == 3 && inputs.shape[0] > 0,
                     "SecondOrderRecurrentNetwork: inputs must be (sequenceLength ≥ 1, batchSize, \(inputSize)), got \(inputs.shape)")
        var state = initialState ?? zeroState(batchSize: inputs.shape[1])
        var v = state
        for u in inputs.unstacked(axis: 0) {
            v = preactivation(u, state: state)
            state = v.sigmoid()
        }
        return logits(finalState: state, lastPreactivation: v)
    }

    /// Whether each string is accepted (logit > 0), computed without recording gradients.
    public func accepts(strings: [[Int]], initialState: Variable? = nil) -> [Bool] {
        GradientMode.withoutGradients {
            acceptanceLogits(strings: strings, initialState: initialState).value.scalars.map { $0 > 0 }
        }
    }

    private func logits(finalState: Variable, lastPreactivation: Variable) -> Variable {
        switch readout {
        case .stateNeuron(let index): return lastPreactivation.select(index, axis: 1)
        case .linear: return readoutLayer!(finalState).reshaped([finalState.shape[0]])
        }
    }

    /// `v[b, k] = Σ_i mixed[b, k·S + i] · x[b, i]`: `mixed` `(B, S·S)`, `state` `(B, S)` → `(B, S)`.
    private func contract(_ mixed: Variable, with state: Variable) -> Variable {
        let batchSize = state.shape[0]
        let tiled = Variable.concatenated(Array(repeating: state, count: stateSize), axis: 1)
        return (mixed * tiled).reshaped([batchSize, stateSize, stateSize]).sum(alongAxis: 2)
    }
}
