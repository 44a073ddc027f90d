import RecurrentCore
import RecurrentAutodiff

/// A multi-layer long short-term memory layer over whole sequences, exact to `torch.nn.LSTM`, with
/// optional peephole connections (Gers & Schmidhuber), which PyTorch lacks.
///
/// Per layer and direction, with gate blocks i, f, g, o stacked in that order:
/// ```
/// i = σ(W_ii x + b_ii + W_hi h + b_hi [+ w_ci ⊙ c_{t−1}])     f = σ(… [+ w_cf ⊙ c_{t−1}])
/// g = tanh(W_ig x + b_ig + W_hg h + b_hg)                        c_t = f ⊙ c_{t−1} + i ⊙ g
/// o = σ(W_io x + b_io + W_ho h + b_ho [+ w_co ⊙ c_t])           h_t = o ⊙ tanh(c_t)  (· W_hrᵀ with projSize > 0)
/// ```
/// Shapes (Hout = projSize when projSize > 0, else hiddenSize; D = 2 when bidirectional):
/// - input `(sequenceLength, batchSize, inputSize)`, or `(batchSize, sequenceLength, inputSize)` when
///   `batchFirst`, or unbatched `(sequenceLength, inputSize)`;
/// - output `(sequenceLength, batchSize, D·Hout)` (batch first likewise);
/// - state `h` `(numLayers·D, batchSize, Hout)`, `c` `(numLayers·D, batchSize, hiddenSize)`.
///
/// Parameters (PyTorch names, `_reverse` for the second direction): `weight_ih_l{k}` (4H, I_k),
/// `weight_hh_l{k}` (4H, Hout), `bias_ih_l{k}`, `bias_hh_l{k}` (4H), `weight_hr_l{k}` (P, H),
/// and with peepholes `weight_ci_l{k}`, `weight_cf_l{k}`, `weight_co_l{k}` (H).
///
/// A call is one tape operation whose backward runs BPTT over the whole stack. Between layers
/// (not after the last) inverted dropout with probability `dropout` applies while `isTraining`,
/// drawing its masks from `dropoutGenerator` (by default `GlobalRandom`).
///
/// Options `layerNorm`, `recurrentDropout`, `zoneout` (h and c), `mergeMode` and `lengths` as in `GRU`
/// (not combinable with `projSize`).
public final class LSTM: Module {
    let core: FusedSequenceLayer
    /// Dropout between layers is active only while training (the default, as in PyTorch).
    public var isTraining = true

    init(core: FusedSequenceLayer) { self.core = core }

    /// Creates the layer `configuration` describes (its cell must be .lstm), drawing its parameters
    /// uniformly from ±1/√hiddenSize using `rng`.
    /// - Throws: `ConfigurationError` naming the invalid argument.
    public convenience init(configuration: RecurrentLayerConfiguration, using rng: inout RandomGenerator) throws {
        try ConfigurationError.require(configuration.cell == .lstm, "cell",
                                       "must be .lstm for \(Self.self), got \(configuration.cell)")
        self.init(core: try FusedSequenceLayer(configuration: configuration, using: &rng))
    }

    /// Creates an LSTM whose parameters are drawn uniformly from ±1/√hiddenSize using `rng`.
    /// - Throws: `ConfigurationError` naming the invalid argument (sizes not positive, `numLayers` < 1,
    ///   `dropout` outside [0, 1], `projSize` outside 0..<hiddenSize).
    public convenience init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                            batchFirst: Bool = false, dropout: Float = 0, bidirectional: Bool = false,
                            projSize: Int = 0, peephole: Bool = false, layerNorm: Bool = false, recurrentDropout: Float = 0,
                            zoneout: Float = 0, mergeMode: BidirectionalMerge = .concatenate,
                            using rng: inout RandomGenerator) throws {
        let configuration = RecurrentLayerConfiguration(
            cell: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
            batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, projSize: projSize, peephole: peephole,
            layerNorm: layerNorm, recurrentDropout: recurrentDropout, zoneout: zoneout, mergeMode: mergeMode)
        self.init(core: try FusedSequenceLayer(configuration: configuration, using: &rng))
    }

    /// Creates an LSTM initialised from the process-wide generator `GlobalRandom`.
    public convenience init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                            batchFirst: Bool = false, dropout: Float = 0, bidirectional: Bool = false,
                            projSize: Int = 0, peephole: Bool = false, layerNorm: Bool = false, recurrentDropout: Float = 0,
                            zoneout: Float = 0, mergeMode: BidirectionalMerge = .concatenate) throws {
        let configuration = RecurrentLayerConfiguration(
            cell: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
            batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, projSize: projSize, peephole: peephole,
            layerNorm: layerNorm, recurrentDropout: recurrentDropout, zoneout: zoneout, mergeMode: mergeMode)
        self.init(core: try GlobalRandom.with { try FusedSequenceLayer(configuration: configuration, using: &$0) })
    }

    /// The hyper-parameters.
    public var configuration: RecurrentLayerConfiguration { core.configuration }
    public var projSize: Int { configuration.projSize }
    public var peephole: Bool { configuration.peephole }

    public var namedParameters: [(name: String, parameter: Parameter)] { core.namedParameters }

    /// The generator of this layer's masks (dropout between layers, recurrent dropout, zoneout); nil,
    /// the default, draws them from the process-wide `GlobalRandom`.
    public var dropoutGenerator: RandomGenerator? {
        get { core.randomSource.generator }
        set { core.randomSource.generator = newValue }
    }

    /// Runs the whole sequence. A nil `state` means the zero state; `lengths` as in `GRU` (each row's
    /// final h and c are taken at its own last step).
    /// - Returns: the output of the last layer at every step and the final state of every layer and direction.
    public func callAsFunction(_ input: Variable, state: LSTMState? = nil, lengths: [Int]? = nil)
        -> (output: Variable, state: LSTMState) {
        let result = core.run(input, h0: state?.h, c0: state?.c, lengths: lengths, training: isTraining, layerName: "LSTM")
        return (result.output, LSTMState(h: result.h, c: result.c!))
    }
}
