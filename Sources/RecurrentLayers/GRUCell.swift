import RecurrentCore
import RecurrentAutodiff

/// One step of a GRU (PyTorch's `nn.GRUCell`), with the gate blocks r, z, n in PyTorch's order:
///
///     r  = σ(W_ir x + b_ir + W_hr h + b_hr)
///     z  = σ(W_iz x + b_iz + W_hz h + b_hz)
///     n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
///     h' = (1 − z) ⊙ n + z ⊙ h
///
/// The reset gate multiplies `W_hn h + b_hn` after the product, as PyTorch (and cuDNN) do.
///
/// Shapes: input `(batchSize, inputSize)`, state and output `(batchSize, hiddenSize)`.
/// Parameters (PyTorch names): `weight_ih` `(3·hiddenSize, inputSize)`, `weight_hh`
/// `(3·hiddenSize, hiddenSize)`, `bias_ih` and `bias_hh` `(3·hiddenSize)`, all uniform in `±1/√hiddenSize`.
public final class GRUCell: RecurrentCell {
    public typealias State = Variable

    public let inputSize: Int
    public let hiddenSize: Int
    /// `(3·hiddenSize, inputSize)`, `weight_ih`, gate blocks r, z, n.
    public let weightIH: Parameter
    /// `(3·hiddenSize, hiddenSize)`, `weight_hh`.
    public let weightHH: Parameter
    /// `(3·hiddenSize)`, `bias_ih`; `nil` without bias.
    public let biasIH: Parameter?
    /// `(3·hiddenSize)`, `bias_hh`; `nil` without bias.
    public let biasHH: Parameter?
    public var isTraining = true

    /// A cell with parameters drawn from `rng`.
    /// - Throws: `ConfigurationError` naming `inputSize` or `hiddenSize` when it is not positive.
    public convenience init(inputSize: Int, hiddenSize: Int, bias: Bool = true, using rng: inout RandomGenerator) throws {
        try validateCellSizes(inputSize: inputSize, hiddenSize: hiddenSize)
        let values = uniformTensors(gatedCellShapes(gates: 3, inputSize, hiddenSize, bias),
                                    bound: 1 / Float(hiddenSize).squareRoot(), using: &rng)
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, values: values)
    }

    /// A cell with parameters drawn from the process-wide generator (`GlobalRandom`).
    /// - Throws: `ConfigurationError` naming `inputSize` or `hiddenSize` when it is not positive.
    public convenience init(inputSize: Int, hiddenSize: Int, bias: Bool = true) throws {
        try validateCellSizes(inputSize: inputSize, hiddenSize: hiddenSize)
        let values = GlobalRandom.with {
            uniformTensors(gatedCellShapes(gates: 3, inputSize, hiddenSize, bias),
                           bound: 1 / Float(hiddenSize).squareRoot(), using: &$0)
        }
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, values: values)
    }

    private init(inputSize: Int, hiddenSize: Int, values: [Tensor]) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        weightIH = .parameter(values[0])
        weightHH = .parameter(values[1])
        biasIH = values.count > 2 ? .parameter(values[2]) : nil
        biasHH = values.count > 2 ? .parameter(values[3]) : nil
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        gatedCellParameters(weightIH, weightHH, biasIH, biasHH)
    }

    /// Zeros `(batchSize, hiddenSize)`.
    public func zeroState(batchSize: Int) -> Variable { Variable(Tensor(zeros: [batchSize, hiddenSize])) }

    /// One step: `input` `(batchSize, inputSize)`, `state` `(batchSize, hiddenSize)` → the new
    /// hidden state, returned as both output and state.
    public func callAsFunction(_ input: Variable, state: Variable) -> (output: Variable, state: Variable) {
        checkCellShapes("GRUCell", input: input, states: [state], inputSize: inputSize, hiddenSize: hiddenSize)
        let fromInput = linear(input, weight: weightIH, bias: biasIH).chunked(3, axis: 1)
        let fromState = linear(state, weight: weightHH, bias: biasHH).chunked(3, axis: 1)
        let r = (fromInput[0] + fromState[0]).sigmoid()
        let z = (fromInput[1] + fromState[1]).sigmoid()
        let n = (fromInput[2] + r * fromState[2]).tanh()
        let h = (1 - z) * n + z * state
        return (h, h)
    }
}
