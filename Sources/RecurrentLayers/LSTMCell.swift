import RecurrentCore
import RecurrentAutodiff

/// One step of an LSTM (PyTorch's `nn.LSTMCell`), optionally with peephole connections.
///
/// With gate pre-activations `W_ih x + b_ih + W_hh h + b_hh` split into the blocks i, f, g, o
/// (PyTorch's order):
///
///     i  = σ(W_ii x + b_ii + W_hi h + b_hi [+ w_ci ⊙ c])
///     f  = σ(W_if x + b_if + W_hf h + b_hf [+ w_cf ⊙ c])
///     g  = tanh(W_ig x + b_ig + W_hg h + b_hg)
///     c' = f ⊙ c + i ⊙ g
///     o  = σ(W_io x + b_io + W_ho h + b_ho [+ w_co ⊙ c'])
///     h' = o ⊙ tanh(c')
///
/// The bracketed terms are the diagonal peephole connections of Gers & Schmidhuber (2000): the input
/// and forget gates look at the previous cell state, the output gate at the new one. PyTorch has no
/// peepholes; without them this cell matches `nn.LSTMCell` exactly.
///
/// With `layerNorm: true` this is the layer-normalised LSTM of Ba et al. (2016): the input and
/// recurrent products are normalised separately (each over all 4·hiddenSize features) before the
/// biases are added, and the new cell state is normalised before its tanh:
///
///     gates = LN_ih(W_ih x) + b_ih + LN_hh(W_hh h) + b_hh        (then split into i, f, g, o)
///     h'    = o ⊙ tanh(LN_c(c'))
///
/// The carried cell state c' itself is not normalised. LN is `layerNorm(_:weight:bias:epsilon:)`
/// with ε = 1e-5; peepholes, when present, are added to the normalised gate sums and read the
/// unnormalised cell states.
///
/// Shapes: input `(batchSize, inputSize)`; `h`, `c` and the output `(batchSize, hiddenSize)`.
/// Parameters (PyTorch names): `weight_ih` `(4·hiddenSize, inputSize)`, `weight_hh`
/// `(4·hiddenSize, hiddenSize)`, `bias_ih` and `bias_hh` `(4·hiddenSize)`, and with peepholes
/// `weight_ci`, `weight_cf`, `weight_co` `(hiddenSize)`; all uniform in `±1/√hiddenSize`. With
/// `layerNorm`, also `ln_ih.weight`, `ln_ih.bias`, `ln_hh.weight`, `ln_hh.bias` `(4·hiddenSize)` and
/// `ln_c.weight`, `ln_c.bias` `(hiddenSize)`, gains initialised to 1 and shifts to 0 (drawing nothing
/// from the generator, so the other parameters are the same as without `layerNorm`).
public final class LSTMCell: RecurrentCell {
    public typealias State = LSTMState

    public let inputSize: Int
    public let hiddenSize: Int
    /// `(4·hiddenSize, inputSize)`, `weight_ih`, gate blocks i, f, g, o.
    public let weightIH: Parameter
    /// `(4·hiddenSize, hiddenSize)`, `weight_hh`.
    public let weightHH: Parameter
    /// `(4·hiddenSize)`, `bias_ih`; `nil` without bias.
    public let biasIH: Parameter?
    /// `(4·hiddenSize)`, `bias_hh`; `nil` without bias.
    public let biasHH: Parameter?
    /// `(hiddenSize)`, `weight_ci`: the input gate's peephole on the previous cell state.
    public let weightCI: Parameter?
    /// `(hiddenSize)`, `weight_cf`: the forget gate's peephole on the previous cell state.
    public let weightCF: Parameter?
    /// `(hiddenSize)`, `weight_co`: the output gate's peephole on the new cell state.
    public let weightCO: Parameter?
    /// `ln_ih.*` `(4·hiddenSize)`: the layer norm of `W_ih x`; `nil` without `layerNorm`.
    public let layerNormIH: LayerNormParameters?
    /// `ln_hh.*` `(4·hiddenSize)`: the layer norm of `W_hh h`.
    public let layerNormHH: LayerNormParameters?
    /// `ln_c.*` `(hiddenSize)`: the layer norm of the new cell state before its tanh.
    public let layerNormC: LayerNormParameters?
    public var isTraining = true

    /// Whether the gate sums and the cell state are layer-normalised.
    public var hasLayerNorm: Bool { layerNormIH != nil }

    /// Whether the gates see the cell state through peephole weights.
    public var hasPeepholes: Bool { weightCI != nil }

    /// A cell with parameters drawn from `rng`.
    /// - Throws: `ConfigurationError` naming `inputSize` or `hiddenSize` when it is not positive.
    public convenience init(inputSize: Int, hiddenSize: Int, bias: Bool = true, peephole: Bool = false,
                            layerNorm: Bool = false, using rng: inout RandomGenerator) throws {
        try validateCellSizes(inputSize: inputSize, hiddenSize: hiddenSize)
        let values = uniformTensors(Self.shapes(inputSize, hiddenSize, bias, peephole),
                                    bound: 1 / Float(hiddenSize).squareRoot(), using: &rng)
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, peephole: peephole, layerNorm: layerNorm,
                  values: values)
    }

    /// A cell with parameters drawn from the process-wide generator (`GlobalRandom`).
    /// - Throws: `ConfigurationError` naming `inputSize` or `hiddenSize` when it is not positive.
    public convenience init(inputSize: Int, hiddenSize: Int, bias: Bool = true, peephole: Bool = false,
                            layerNorm: Bool = false) throws {
        try validateCellSizes(inputSize: inputSize, hiddenSize: hiddenSize)
        let values = GlobalRandom.with {
            uniformTensors(Self.shapes(inputSize, hiddenSize, bias, peephole),
                           bound: 1 / Float(hiddenSize).squareRoot(), using: &$0)
        }
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, peephole: peephole, layerNorm: layerNorm,
                  values: values)
    }

    private convenience init(inputSize: Int, hiddenSize: Int, bias: Bool, peephole: Bool, layerNorm: Bool, values: [Tensor]) {
        var next = values.makeIterator()
        let weightIH = Parameter.parameter(next.next()!), weightHH = Parameter.parameter(next.next()!)
        let biasIH = bias ? Parameter.parameter(next.next()!) : nil, biasHH = bias ? Parameter.parameter(next.next()!) : nil
        let peepholes: [Parameter]? = peephole ? (0..<3).map { _ in .parameter(next.next()!) } : nil
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, weightIH: weightIH, weightHH: weightHH,
                  biasIH: biasIH, biasHH: biasHH, peepholes: peepholes,
                  layerNormIH: layerNorm ? LayerNormParameters(features: 4 * hiddenSize) : nil,
                  layerNormHH: layerNorm ? LayerNormParameters(features: 4 * hiddenSize) : nil,
                  layerNormC: layerNorm ? LayerNormParameters(features: hiddenSize) : nil)
    }

    /// A cell over existing parameters (shared, not copied): how a fused `LSTM` layer runs its options
    /// on the cell path. `peepholes` is `[w_ci, w_cf, w_co]` or nil.
    init(inputSize: Int, hiddenSize: Int, weightIH: Parameter, weightHH: Parameter, biasIH: Parameter?, biasHH: Parameter?,
         peepholes: [Parameter]?, layerNormIH: LayerNormParameters?, layerNormHH: LayerNormParameters?,
         layerNormC: LayerNormParameters?) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.weightIH = weightIH
        self.weightHH = weightHH
        self.biasIH = biasIH
        self.biasHH = biasHH
        weightCI = peepholes?[0]
        weightCF = peepholes?[1]
        weightCO = peepholes?[2]
        self.layerNormIH = layerNormIH
        self.layerNormHH = layerNormHH
        self.layerNormC = layerNormC
    }

    private static func shapes(_ inputSize: Int, _ hiddenSize: Int, _ bias: Bool, _ peephole: Bool) -> [[Int]] {
        gatedCellShapes(gates: 4, inputSize, hiddenSize, bias) + (peephole ? Array(repeating: [hiddenSize], count: 3) : [])
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        var result = gatedCellParameters(weightIH, weightHH, biasIH, biasHH)
        if let weightCI, let weightCF, let weightCO {
            result += [("weight_ci", weightCI), ("weight_cf", weightCF), ("weight_co", weightCO)]
        }
        return result + layerNormParameters([("ln_ih", layerNormIH), ("ln_hh", layerNormHH), ("ln_c", layerNormC)])
    }

    /// `h` and `c` zeros `(batchSize, hiddenSize)`.
    public func zeroState(batchSize: Int) -> LSTMState {
        LSTMState(h: Variable(Tensor(zeros: [batchSize, hiddenSize])), c: Variable(Tensor(zeros: [batchSize, hiddenSize])))
    }

    /// One step: `input` `(batchSize, inputSize)` and `state` (`h`, `c` each `(batchSize, hiddenSize)`)
    /// → output `h'` and the new state `(h', c')`.
    public func callAsFunction(_ input: Variable, state: LSTMState) -> (output: Variable, state: LSTMState) {
        step(input, state: state, recurrentInputMask: nil)
    }

    /// One step whose recurrent product reads `h ⊙ recurrentInputMask` instead of `h` (the mask is
    /// `(batchSize, hiddenSize)`; `nil` means no mask). The cell state is never masked. This is what
    /// `VariationalDropoutCell` calls.
    public func step(_ input: Variable, state: LSTMState, recurrentInputMask: Tensor?) -> (output: Variable, state: LSTMState) {
        checkCellShapes("LSTMCell", input: input, states: [state.h, state.c], inputSize: inputSize, hiddenSize: hiddenSize)
        let all = 0..<(4 * hiddenSize)
        let gates = (normalizedProduct(input, weightIH, biasIH, layerNormIH, features: all)
            + normalizedProduct(masked(state.h, recurrentInputMask), weightHH, biasHH, layerNormHH, features: all))
            .chunked(4, axis: 1)
        var inputGate = gates[0], forgetGate = gates[1], outputGate = gates[3]
        if let weightCI, let weightCF {
            inputGate = inputGate + state.c.multiplyingBroadcast(weightCI)
            forgetGate = forgetGate + state.c.multiplyingBroadcast(weightCF)
        }
        let i = inputGate.sigmoid(), f = forgetGate.sigmoid(), g = gates[2].tanh()
        let c = f * state.c + i * g
        if let weightCO { outputGate = outputGate + c.multiplyingBroadcast(weightCO) }
        let h = outputGate.sigmoid() * (layerNormC.map { $0(c) } ?? c).tanh()
        return (h, LSTMState(h: h, c: c))
    }
}
