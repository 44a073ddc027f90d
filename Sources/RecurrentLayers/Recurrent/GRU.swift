import RecurrentCore
import RecurrentAutodiff

/// A multi-layer gated recurrent unit over whole sequences, exact to `torch.nn.GRU`.
///
/// Per layer and direction, with gate blocks r, z, n stacked in that order:
/// ```
/// r = σ(W_ir x + b_ir + W_hr h + b_hr)        z = σ(W_iz x + b_iz + W_hz h + b_hz)
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
/// h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
/// ```
/// Shapes (D = 2 when bidirectional): input `(sequenceLength, batchSize, inputSize)`, or
/// `(batchSize, sequenceLength, inputSize)` when `batchFirst`, or unbatched `(sequenceLength, inputSize)`;
/// output `(sequenceLength, batchSize, D·hiddenSize)`; state `(numLayers·D, batchSize, hiddenSize)`.
///
/// Parameters: `weight_ih_l{k}` (3H, I_k), `weight_hh_l{k}` (3H, H), `bias_ih_l{k}`, `bias_hh_l{k}` (3H),
/// with `_reverse` for the second direction. A call is one tape operation (BPTT in its backward);
/// dropout between layers as in `LSTM`.
///
/// Options (defaults are PyTorch's and run the fused kernels): `resetAfter: false` for the reset-before
/// form `n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)`; `layerNorm`, `recurrentDropout`, `zoneout` as
/// on the cells (`GRUCell`, `VariationalDropoutCell`, `ZoneoutCell`); `mergeMode` of a bidirectional
/// output; `lengths` of a padded batch in the call. See docs/architectures.md, "Options of the fused layers".
public final class GRU: Module {
    let core: FusedSequenceLayer
    /// Dropout between layers is active only while training (the default, as in PyTorch).
    public var isTraining = true

    init(core: FusedSequenceLayer) { self.core = core }

    /// Creates the layer `configuration` describes (its cell must be .gru), drawing its parameters
    /// uniformly from ±1/√hiddenSize using `rng`.
    /// - Throws: `ConfigurationError` naming the invalid argument.
    public convenience init(configuration: RecurrentLayerConfiguration, using rng: inout RandomGenerator) throws {
        try ConfigurationError.require(configuration.cell == .gru, "cell",
                                       "must be .gru for \(Self.self), got \(configuration.cell)")
        self.init(core: try FusedSequenceLayer(configuration: configuration, using: &rng))
    }

    /// Creates a GRU whose parameters are drawn uniformly from ±1/√hiddenSize using `rng`.
    /// - Throws: `ConfigurationError` naming the invalid argument.
    public convenience init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                            batchFirst: Bool = false, dropout: Float = 0, bidirectional: Bool = false,
                            resetAfter: Bool = true, layerNorm: Bool = false, recurrentDropout: Float = 0,
                            zoneout: Float = 0, mergeMode: BidirectionalMerge = .concatenate,
                            using rng: inout RandomGenerator) throws {
        let configuration = RecurrentLayerConfiguration(
            cell: .gru, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
            batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, resetAfter: resetAfter,
            layerNorm: layerNorm, recurrentDropout: recurrentDropout, zoneout: zoneout, mergeMode: mergeMode)
        self.init(core: try FusedSequenceLayer(configuration: configuration, using: &rng))
    }

    /// Creates a GRU initialised from the process-wide generator `GlobalRandom`.
    public convenience init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                            batchFirst: Bool = false, dropout: Float = 0, bidirectional: Bool = false,
                            resetAfter: Bool = true, layerNorm: Bool = false, recurrentDropout: Float = 0,
                            zoneout: Float = 0, mergeMode: BidirectionalMerge = .concatenate) throws {
        let configuration = RecurrentLayerConfiguration(
            cell: .gru, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
            batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, resetAfter: resetAfter,
            layerNorm: layerNorm, recurrentDropout: recurrentDropout, zoneout: zoneout, mergeMode: mergeMode)
        self.init(core: try GlobalRandom.with { try FusedSequenceLayer(configuration: configuration, using: &$0) })
    }

    /// The hyper-parameters.
    public var configuration: RecurrentLayerConfiguration { core.configuration }

    public var namedParameters: [(name: String, parameter: Parameter)] { core.namedParameters }

    /// The generator of this layer's masks (dropout between layers, recurrent dropout, zoneout); nil,
    /// the default, draws them from the process-wide `GlobalRandom`.
    public var dropoutGenerator: RandomGenerator? {
        get { core.randomSource.generator }
        set { core.randomSource.generator = newValue }
    }

    /// Runs the whole sequence. A nil `state` ((numLayers·D, batchSize, hiddenSize)) means zeros.
    /// With `lengths` (one per batch row, each in 0...sequenceLength) the batch is padded: row b is read
    /// at steps 0..<lengths[b] only, its output is zero past them, its final state is the one after its
    /// own last step, and the reverse direction starts at its own last element (packed sequences).
    /// - Returns: the output of the last layer at every step and the final h of every layer and direction.
    public func callAsFunction(_ input: Variable, state: Variable? = nil, lengths: [Int]? = nil)
        -> (output: Variable, state: Variable) {
        let result = core.run(input, h0: state, c0: nil, lengths: lengths, training: isTraining, layerName: "GRU")
        return (result.output, result.h)
    }
}
