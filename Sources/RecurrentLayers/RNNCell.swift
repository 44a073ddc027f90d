import RecurrentCore
import RecurrentAutodiff

/// One step of an Elman RNN (PyTorch's `nn.RNNCell`):
/// `h' = act(W_ih x + b_ih + W_hh h + b_hh)` with `act` tanh or ReLU.
///
/// With `layerNorm: true` (Ba et al. 2016) the two products are normalised separately:
/// `h' = act(LN_ih(W_ih x) + b_ih + LN_hh(W_hh h) + b_hh)`, LN being
/// `layerNorm(_:weight:bias:epsilon:)` with ε = 1e-5 and the parameters `ln_ih.weight`, `ln_ih.bias`,
/// `ln_hh.weight`, `ln_hh.bias` `(hiddenSize)` (gains 1, shifts 0 initially).
///
/// Shapes: input `(batchSize, inputSize)`, state and output `(batchSize, hiddenSize)`.
/// Parameters (PyTorch names): `weight_ih` `(hiddenSize, inputSize)`, `weight_hh`
/// `(hiddenSize, hiddenSize)`, `bias_ih` and `bias_hh` `(hiddenSize)`, all uniform in `±1/√hiddenSize`.
public final class RNNCell: RecurrentCell {
    public typealias State = Variable

    public let inputSize: Int
    public let hiddenSize: Int
    public let nonlinearity: RNNNonlinearity
    /// `(hiddenSize, inputSize)`, `weight_ih`.
    public let weightIH: Parameter
    /// `(hiddenSize, hiddenSize)`, `weight_hh`.
    public let weightHH: Parameter
    /// `(hiddenSize)`, `bias_ih`; `nil` without bias.
    public let biasIH: Parameter?
    /// `(hiddenSize)`, `bias_hh`; `nil` without bias.
    public let biasHH: Parameter?
    /// `ln_ih.*` `(hiddenSize)`: the layer norm of `W_ih x`; `nil` without `layerNorm`.
    public let layerNormIH: LayerNormParameters?
    /// `ln_hh.*` `(hiddenSize)`: the layer norm of `W_hh h`.
    public let layerNormHH: LayerNormParameters?
    public var isTraining = true

    /// Whether the products are layer-normalised.
    public var hasLayerNorm: Bool { layerNormIH != nil }

    /// A cell with parameters drawn from `rng`.
    /// - Throws: `ConfigurationError` naming `inputSize` or `hiddenSize` when it is not positive.
    public convenience init(inputSize: Int, hiddenSize: Int, bias: Bool = true,
                            nonlinearity: RNNNonlinearity = .tanh, layerNorm: Bool = false,
                            using rng: inout RandomGenerator) throws {
        try validateCellSizes(inputSize: inputSize, hiddenSize: hiddenSize)
        let values = uniformTensors(gatedCellShapes(gates: 1, inputSize, hiddenSize, bias),
                                    bound: 1 / Float(hiddenSize).squareRoot(), using: &rng)
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, nonlinearity: nonlinearity, layerNorm: layerNorm,
                  values: values)
    }

    /// A cell with parameters drawn from the process-wide generator (`GlobalRandom`).
    /// - Throws: `ConfigurationError` naming `inputSize` or `hiddenSize` when it is not positive.
    public convenience init(inputSize: Int, hiddenSize: Int, bias: Bool = true,
                            nonlinearity: RNNNonlinearity = .tanh, layerNorm: Bool = false) throws {
        try validateCellSizes(inputSize: inputSize, hiddenSize: hiddenSize)
        let values = GlobalRandom.with {
            uniformTensors(gatedCellShapes(gates: 1, inputSize, hiddenSize, bias),
                           bound: 1 / Float(hiddenSize).squareRoot(), using: &$0)
        }
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, nonlinearity: nonlinearity, layerNorm: layerNorm,
                  values: values)
    }

    private convenience init(inputSize: Int, hiddenSize: Int, nonlinearity: RNNNonlinearity, layerNorm: Bool, values: [Tensor]) {
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, nonlinearity: nonlinearity,
                  weightIH: .parameter(values[0]), weightHH: .parameter(values[1]),
                  biasIH: values.count > 2 ? .parameter(values[2]) : nil, biasHH: values.count > 2 ? .parameter(values[3]) : nil,
                  layerNormIH: layerNorm ? LayerNormParameters(features: hiddenSize) : nil,
                  layerNormHH: layerNorm ? LayerNormParameters(features: hiddenSize) : nil)
    }

    /// A cell over existing parameters (shared, not copied): how a fused `RNN` layer runs its options
    /// on the cell path.
    init(inputSize: Int, hiddenSize: Int, nonlinearity: RNNNonlinearity, weightIH: Parameter, weightHH: Parameter,
         biasIH: Parameter?, biasHH: Parameter?, layerNormIH: LayerNormParameters?, layerNormHH: LayerNormParameters?) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.nonlinearity = nonlinearity
        self.weightIH = weightIH
        self.weightHH = weightHH
        self.biasIH = biasIH
        self.biasHH = biasHH
        self.layerNormIH = layerNormIH
        self.layerNormHH = layerNormHH
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        gatedCellParameters(weightIH, weightHH, biasIH, biasHH)
            + layerNormParameters([("ln_ih", layerNormIH), ("ln_hh", layerNormHH)])
    }

    /// Zeros `(batchSize, hiddenSize)`.
    public func zeroState(batchSize: Int) -> Variable { Variable(Tensor(zeros: [batchSize, hiddenSize])) }

    /// One step: `input` `(batchSize, inputSize)`, `state` `(batchSize, hiddenSize)` → the new
    /// hidden state, returned as both output and state.
    public func callAsFunction(_ input: Variable, state: Variable) -> (output: Variable, state: Variable) {
        step(input, state: state, recurrentInputMask: nil)
    }

    /// One step whose recurrent product reads `h ⊙ recurrentInputMask` instead of `h` (the mask is
    /// `(batchSize, hiddenSize)`; `nil` means no mask). This is what `VariationalDropoutCell` calls.
    public func step(_ input: Variable, state: Variable, recurrentInputMask: Tensor?) -> (output: Variable, state: Variable) {
        checkCellShapes("RNNCell", input: input, states: [state], inputSize: inputSize, hiddenSize: hiddenSize)
        let all = 0..<hiddenSize
        let preactivation = normalizedProduct(input, weightIH, biasIH, layerNormIH, features: all)
            + normalizedProduct(masked(state, recurrentInputMask), weightHH, biasHH, layerNormHH, features: all)
        let h = nonlinearity == .tanh ? preactivation.tanh() : preactivation.relu()
        return (h, h)
    }
}

// Helpers shared by the built-in cells.

func validateCellSizes(inputSize: Int, hiddenSize: Int) throws {
    try ConfigurationError.require(inputSize > 0, "inputSize", "must be positive, got \(inputSize)")
    try ConfigurationError.require(hiddenSize > 0, "hiddenSize", "must be positive, got \(hiddenSize)")
}

/// `weight_ih` `(G·H, I)`, `weight_hh` `(G·H, H)` and, with bias, `bias_ih`, `bias_hh` `(G·H)`, in
/// PyTorch's parameter order.
func gatedCellShapes(gates: Int, _ inputSize: Int, _ hiddenSize: Int, _ bias: Bool) -> [[Int]] {
    let rows = gates * hiddenSize
    return [[rows, inputSize], [rows, hiddenSize]] + (bias ? [[rows], [rows]] : [])
}

func gatedCellParameters(_ weightIH: Parameter, _ weightHH: Parameter, _ biasIH: Parameter?,
                         _ biasHH: Parameter?) -> [(name: String, parameter: Parameter)] {
    var result: [(name: String, parameter: Parameter)] = [("weight_ih", weightIH), ("weight_hh", weightHH)]
    if let biasIH, let biasHH { result += [("bias_ih", biasIH), ("bias_hh", biasHH)] }
    return result
}

func checkCellShapes(_ cell: String, input: Variable, states: [Variable], inputSize: Int, hiddenSize: Int) {
    precondition(input.shape.count == 2 && input.shape[1] == inputSize,
                 "\(cell): input must be (batchSize, \(inputSize)), got \(input.shape)")
    let batchSize = input.shape[0]
    for state in states {
        precondition(state.shape == [batchSize, hiddenSize],
                     "\(cell): state must be (\(batchSize), \(hiddenSize)) for an input of shape \(input.shape), got \(state.shape)")
    }
}
