import RecurrentCore

/// The hyper-parameters of a fused whole-sequence recurrent layer (`RNN`, `LSTM`, `GRU`), named as
/// PyTorch names its constructor arguments.
///
/// Sizes: `inputSize` (I), `hiddenSize` (H), `projSize` (P, 0 for none), `numLayers` (L) and the
/// number of directions D (2 when bidirectional). The layer's output width per direction is
/// `outputHiddenSize` (P when projecting, otherwise H).
public struct RecurrentLayerConfiguration: Equatable, Sendable {
    public var cell: Cell
    public var inputSize: Int
    public var hiddenSize: Int
    public var numLayers: Int
    public var bias: Bool
    public var batchFirst: Bool
    /// Dropout probability applied to the outputs of every layer but the last while training.
    public var dropout: Float
    public var bidirectional: Bool
    /// Size of the LSTM projection `h = (o ⊙ tanh c) · W_hrᵀ`; 0 means no projection.
    public var projSize: Int
    /// Whether the LSTM gates see the cell state (Gers & Schmidhuber peephole connections).
    public var peephole: Bool
    /// GRU only: whether the reset gate multiplies `W_hn h + b_hn` after the product (PyTorch, the
    /// default) or the state before it, `W_hn (r ⊙ h) + b_hn` (Cho et al. 2014).
    public var resetAfter: Bool
    /// Layer normalisation inside every cell (Ba et al. 2016), as `layerNorm` on `RNNCell`,
    /// `GRUCell`, `LSTMCell`; adds `ln_ih_l{k}.*`, `ln_hh_l{k}.*` (and `ln_c_l{k}.*` for LSTM).
    public var layerNorm: Bool
    /// Variational (recurrent) dropout on h where it enters `W_hh`: one mask per sequence, layer and
    /// direction, drawn while training (Gal & Ghahramani 2016).
    public var recurrentDropout: Float
    /// Zoneout probability of every unit of every state component (h; h and c for LSTM) at every step
    /// (Krueger et al. 2017): random while training, the expectation in evaluation.
    public var zoneout: Float
    /// How a bidirectional layer combines the two directions in its output (last layer only; the
    /// layers of a stack always pass the concatenation on, so the parameter shapes stay PyTorch's).
    public var mergeMode: BidirectionalMerge

    /// A configuration; call `validate()` before building kernels from it.
    public init(cell: Cell, inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                batchFirst: Bool = false, dropout: Float = 0, bidirectional: Bool = false,
                projSize: Int = 0, peephole: Bool = false, resetAfter: Bool = true, layerNorm: Bool = false,
                recurrentDropout: Float = 0, zoneout: Float = 0, mergeMode: BidirectionalMerge = .concatenate) {
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
        self.bias = bias
        self.batchFirst = batchFirst
        self.dropout = dropout
        self.bidirectional = bidirectional
        self.projSize = projSize
        self.peephole = peephole
        self.resetAfter = resetAfter
        self.layerNorm = layerNorm
        self.recurrentDropout = recurrentDropout
        self.zoneout = zoneout
        self.mergeMode = mergeMode
    }

    /// Throws a `ConfigurationError` naming the first invalid argument.
    /// Sizes are checked against `SizeLimits` (each at most 2²⁴, at most 1,024 layers, at most 2³¹
    /// parameters) before anything is computed from them.
    public func validate() throws {
        try ConfigurationError.requireSize(inputSize, "inputSize")
        try ConfigurationError.requireSize(hiddenSize, "hiddenSize")
        try ConfigurationError.require(numLayers >= 1, "numLayers", "must be at least 1, got \(numLayers)")
        try ConfigurationError.requireSize(numLayers, "numLayers", maximum: SizeLimits.maximumLayerCount)
        try ConfigurationError.require(dropout >= 0 && dropout <= 1, "dropout",
                                       "must be a probability in [0, 1], got \(dropout)")
        try ConfigurationError.require(projSize >= 0 && projSize < hiddenSize, "projSize",
                                       "must be in 0..<hiddenSize (\(hiddenSize)), got \(projSize)")
        try cell.kernel.validate(self)
        try ConfigurationError.require(recurrentDropout >= 0 && recurrentDropout <= 1, "recurrentDropout",
                                       "must be a probability in [0, 1], got \(recurrentDropout)")
        try ConfigurationError.require(zoneout >= 0 && zoneout <= 1, "zoneout",
                                       "must be a probability in [0, 1], got \(zoneout)")
        try ConfigurationError.require(mergeMode == .concatenate || bidirectional, "mergeMode",
                                       "\(mergeMode) needs bidirectional: true")
        if projSize > 0 {
            try ConfigurationError.require(!layerNorm, "layerNorm", "cannot be combined with projSize")
            try ConfigurationError.require(recurrentDropout == 0, "recurrentDropout", "cannot be combined with projSize")
            try ConfigurationError.require(zoneout == 0, "zoneout", "cannot be combined with projSize")
        }
        try ConfigurationError.requireParameterCount(parameterShapes)
    }

    /// Whether the layer runs the generic cell path (`runSequence` over `RNNCell`/`GRUCell`/`LSTMCell`
    /// sharing the layer's parameters) instead of the fused kernels: with layer normalisation, zoneout,
    /// or recurrent dropout while training. Every default, `lengths`, `mergeMode` and the reset-before
    /// GRU run the fused kernels.
    public func usesCellPath(training: Bool) -> Bool {
        layerNorm || zoneout > 0 || (training && recurrentDropout > 0)
    }

    /// D: 2 when bidirectional, otherwise 1.
    public var numDirections: Int { bidirectional ? 2 : 1 }

    /// The width of `h` per direction: `projSize` when projecting, otherwise `hiddenSize`.
    public var outputHiddenSize: Int { projSize > 0 ? projSize : hiddenSize }

    /// The width of the layer's output: `D · outputHiddenSize` when the directions are concatenated,
    /// `outputHiddenSize` when they are summed, averaged or multiplied.
    public var outputSize: Int { mergeMode == .concatenate ? numDirections * outputHiddenSize : outputHiddenSize }

    /// The number of gate blocks G stacked in `weight_ih`/`weight_hh` (RNN 1, LSTM 4, GRU 3).
    public var gateCount: Int { cell.gateCount }

    /// The input width of layer `layer`: `inputSize` for layer 0, `D · outputHiddenSize` above.
    public func layerInputSize(_ layer: Int) -> Int {
        layer == 0 ? inputSize : numDirections * outputHiddenSize
    }

    /// The state-dict name suffix of a layer and direction: `_l0`, `_l1_reverse`, ...
    public func suffix(layer: Int, direction: Int) -> String {
        "_l\(layer)" + (direction == 1 ? "_reverse" : "")
    }

    /// Every parameter's PyTorch name and shape, in state-dict order: per layer, per direction,
    /// `weight_ih (G·H, I_k)`, `weight_hh (G·H, Hout)`, `bias_ih (G·H)`, `bias_hh (G·H)`,
    /// `weight_hr (P, H)`, then the peephole diagonals `weight_ci`, `weight_cf`, `weight_co` (H), then
    /// with `layerNorm` the gains and shifts `ln_ih{s}.weight`, `ln_ih{s}.bias`, `ln_hh{s}.weight`,
    /// `ln_hh{s}.bias` (G·H) and, for LSTM, `ln_c{s}.weight`, `ln_c{s}.bias` (H).
    public var parameterShapes: [(name: String, shape: [Int])] {
        var result: [(name: String, shape: [Int])] = []
        let gates = gateCount * hiddenSize
        for layer in 0..<numLayers {
            for direction in 0..<numDirections {
                let s = suffix(layer: layer, direction: direction)
                result.append(("weight_ih" + s, [gates, layerInputSize(layer)]))
                result.append(("weight_hh" + s, [gates, outputHiddenSize]))
                if bias {
                    result.append(("bias_ih" + s, [gates]))
                    result.append(("bias_hh" + s, [gates]))
                }
                if projSize > 0 { result.append(("weight_hr" + s, [projSize, hiddenSize])) }
                if peephole {
                    result.append(("weight_ci" + s, [hiddenSize]))
                    result.append(("weight_cf" + s, [hiddenSize]))
                    result.append(("weight_co" + s, [hiddenSize]))
                }
                if layerNorm {
                    for (norm, width) in layerNormBlocks {
                        result.append((norm + s + ".weight", [width]))
                        result.append((norm + s + ".bias", [width]))
                    }
                }
            }
        }
        return result
    }

    /// The layer norms of one cell with `layerNorm`, with their widths: `ln_ih`, `ln_hh` (G·H) and for
    /// LSTM `ln_c` (H).
    var layerNormBlocks: [(name: String, width: Int)] {
        let gates = gateCount * hiddenSize
        return [("ln_ih", gates), ("ln_hh", gates)] + (cell.hasCellState ? [("ln_c", hiddenSize)] : [])
    }
}
