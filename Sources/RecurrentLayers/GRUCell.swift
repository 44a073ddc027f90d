import RecurrentCore
import RecurrentAutodiff

/// One step of a GRU (PyTorch's `nn.GRUCell`), with the gate blocks r, z, n in PyTorch's order:
///
///     r  = σ(W_ir x + b_ir + W_hr h + b_hr)
///     z  = σ(W_iz x + b_iz + W_hz h + b_hz)
///     n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))              resetAfter: true (default)
///     n  = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)              resetAfter: false
///     h' = (1 − z) ⊙ n + z ⊙ h
///
/// By default the reset gate multiplies `W_hn h + b_hn` after the product, as PyTorch (and cuDNN)
/// do; this matches `nn.GRUCell` exactly. With `resetAfter: false` it multiplies the state before
/// the product: the original form of Cho et al. (2014) (Keras's `reset_after=False`). Both forms
/// have the same parameters.
///
/// With `layerNorm: true` (Ba et al. 2016), the input and recurrent products are normalised
/// separately before their biases are added:
///
///     (a_r, a_z, a_n) = LN_ih(W_ih x) + b_ih                    over all 3·hiddenSize features
///     (u_r, u_z, u_n) = LN_hh(W_hh h) + b_hh                    resetAfter: true
///     (u_r, u_z) = LN_hh[r,z](W_hr,hz h) + b_hr,hz,  u_n = LN_hh[n](W_hn (r ⊙ h)) + b_hn      resetAfter: false
///
/// then r = σ(a_r + u_r), z = σ(a_z + u_z), n = tanh(a_n + r ⊙ u_n) (reset-after) or
/// tanh(a_n + u_n) (reset-before). In the reset-before form `W_hn (r ⊙ h)` depends on r, so the
/// recurrent r,z block (2·hiddenSize features) and the n block (hiddenSize) are normalised
/// separately, with the matching slices of `ln_hh.weight` and `ln_hh.bias`. LN is
/// `layerNorm(_:weight:bias:epsilon:)` with ε = 1e-5.
///
/// Shapes: input `(batchSize, inputSize)`, state and output `(batchSize, hiddenSize)`.
/// Parameters (PyTorch names): `weight_ih` `(3·hiddenSize, inputSize)`, `weight_hh`
/// `(3·hiddenSize, hiddenSize)`, `bias_ih` and `bias_hh` `(3·hiddenSize)`, all uniform in `±1/√hiddenSize`;
/// with `layerNorm`, `ln_ih.weight`, `ln_ih.bias`, `ln_hh.weight`, `ln_hh.bias` `(3·hiddenSize)`,
/// gains initialised to 1 and shifts to 0 (drawing nothing from the generator).
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
    /// Whether the reset gate applies after the recurrent product (PyTorch's form, the default) or
    /// before it (Cho et al. 2014).
    public let resetAfter: Bool
    /// `ln_ih.weight` and `ln_ih.bias` `(3·hiddenSize)`: the layer norm of `W_ih x`; `nil` without `layerNorm`.
    public let layerNormIH: LayerNormParameters?
    /// `ln_hh.weight` and `ln_hh.bias` `(3·hiddenSize)`: the layer norm of the recurrent products.
    public let layerNormHH: LayerNormParameters?
    public var isTraining = true

    /// A cell with parameters drawn from `rng`.
    /// - Throws: `ConfigurationError` naming `inputSize` or `hiddenSize` when it is not positive.
    public convenience init(inputSize: Int, hiddenSize: Int, bias: Bool = true, resetAfter: Bool = true,
                            layerNorm: Bool = false, using rng: inout RandomGenerator) throws {
        try validateCellSizes(inputSize: inputSize, hiddenSize: hiddenSize)
        let values = uniformTensors(gatedCellShapes(gates: 3, inputSize, hiddenSize, bias),
                                    bound: 1 / Float(hiddenSize).squareRoot(), using: &rng)
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, resetAfter: resetAfter, layerNorm: layerNorm, values: values)
    }

    /// A cell with parameters drawn from the process-wide generator (`GlobalRandom`).
    /// - Throws: `ConfigurationError` naming `inputSize` or `hiddenSize` when it is not positive.
    public convenience init(inputSize: Int, hiddenSize: Int, bias: Bool = true, resetAfter: Bool = true,
                            layerNorm: Bool = false) throws {
        try validateCellSizes(inputSize: inputSize, hiddenSize: hiddenSize)
        let values = GlobalRandom.with {
            uniformTensors(gatedCellShapes(gates: 3, inputSize, hiddenSize, bias),
                           bound: 1 / Float(hiddenSize).squareRoot(), using: &$0)
        }
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, resetAfter: resetAfter, layerNorm: layerNorm, values: values)
    }

    private convenience init(inputSize: Int, hiddenSize: Int, resetAfter: Bool, layerNorm: Bool, values: [Tensor]) {
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, resetAfter: resetAfter,
                  weightIH: .parameter(values[0]), weightHH: .parameter(values[1]),
                  biasIH: values.count > 2 ? .parameter(values[2]) : nil, biasHH: values.count > 2 ? .parameter(values[3]) : nil,
                  layerNormIH: layerNorm ? LayerNormParameters(features: 3 * hiddenSize) : nil,
                  layerNormHH: layerNorm ? LayerNormParameters(features: 3 * hiddenSize) : nil)
    }

    /// A cell over existing parameters (shared, not copied): how a fused `GRU` layer runs its options
    /// on the cell path.
    init(inputSize: Int, hiddenSize: Int, resetAfter: Bool, weightIH: Parameter, weightHH: Parameter,
         biasIH: Parameter?, biasHH: Parameter?, layerNormIH: LayerNormParameters?, layerNormHH: LayerNormParameters?) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.resetAfter = resetAfter
        self.weightIH = weightIH
        self.weightHH = weightHH
        self.biasIH = biasIH
        self.biasHH = biasHH
        self.layerNormIH = layerNormIH
        self.layerNormHH = layerNormHH
    }

    /// Whether the products are layer-normalised.
    public var hasLayerNorm: Bool { layerNormIH != nil }

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

    /// One step whose recurrent products read `h ⊙ recurrentInputMask` instead of `h` (the mask is
    /// `(batchSize, hiddenSize)`; `nil` means no mask). The carried term `z ⊙ h` keeps the unmasked
    /// state. This is what `VariationalDropoutCell` calls.
    public func step(_ input: Variable, state: Variable, recurrentInputMask: Tensor?) -> (output: Variable, state: Variable) {
        checkCellShapes("GRUCell", input: input, states: [state], inputSize: inputSize, hiddenSize: hiddenSize)
        let recurrentInput = masked(state, recurrentInputMask)
        let fromInput = normalizedProduct(input, weightIH, biasIH, layerNormIH, features: 0..<(3 * hiddenSize))
            .chunked(3, axis: 1)
        let r: Variable, z: Variable, n: Variable
        if resetAfter {
            let fromState = normalizedProduct(recurrentInput, weightHH, biasHH, layerNormHH, features: 0..<(3 * hiddenSize))
                .chunked(3, axis: 1)
            r = (fromInput[0] + fromState[0]).sigmoid()
            z = (fromInput[1] + fromState[1]).sigmoid()
            n = (fromInput[2] + r * fromState[2]).tanh()
        } else {
            let H = hiddenSize
            let fromState = normalizedProduct(recurrentInput, weightHH, biasHH, layerNormHH, features: 0..<(2 * H))
                .chunked(2, axis: 1)
            r = (fromInput[0] + fromState[0]).sigmoid()
            z = (fromInput[1] + fromState[1]).sigmoid()
            n = (fromInput[2] + normalizedProduct(r * recurrentInput, weightHH, biasHH, layerNormHH, features: (2 * H)..<(3 * H))).tanh()
        }
        let h = (1 - z) * n + z * state
        return (h, h)
    }
}
