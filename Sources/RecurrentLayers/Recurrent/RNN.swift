import RecurrentCore
import RecurrentAutodiff

/// A multi-layer Elman recurrent layer over whole sequences, exact to `torch.nn.RNN`:
/// `h_t = act(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)` with act = tanh or relu.
///
/// Shapes (D = 2 when bidirectional): input `(sequenceLength, batchSize, inputSize)`, or
/// `(batchSize, sequenceLength, inputSize)` when `batchFirst`, or unbatched `(sequenceLength, inputSize)`;
/// output `(sequenceLength, batchSize, D·hiddenSize)`; state `(numLayers·D, batchSize, hiddenSize)`.
///
/// Parameters: `weight_ih_l{k}` (H, I_k), `weight_hh_l{k}` (H, H), `bias_ih_l{k}`, `bias_hh_l{k}` (H),
/// with `_reverse` for the second direction. A call is one tape operation (BPTT in its backward);
/// dropout between layers as in `LSTM`. Options `layerNorm`, `recurrentDropout`, `zoneout`,
/// `mergeMode` and `lengths` as in `GRU`.
public final class RNN: Module {
    let core: FusedSequenceLayer
    /// Dropout between layers is active only while training (the default, as in PyTorch).
    public var isTraining = true

    init(core: FusedSequenceLayer) { self.core = core }

    /// Creates the layer `configuration` describes (its cell must be .rnn), drawing its parameters
    /// uniformly from ±1/√hiddenSize using `rng`.
    /// - Throws: `ConfigurationError` naming the invalid argument.
    public convenience init(configuration: RecurrentLayerConfiguration, using rng: inout RandomGenerator) throws {
        try ConfigurationError.require(configuration.cell.kernel == RNNSequenceKernel.self, "cell",
                                       "must be .rnn for \(Self.self), got \(configuration.cell)")
        self.init(core: try FusedSequenceLayer(configuration: configuration, using: &rng))
    }

    /// Creates an RNN whose parameters are drawn uniformly from ±1/√hiddenSize using `rng`.
    /// - Throws: `ConfigurationError` naming the invalid argument.
    public convenience init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, nonlinearity: RNNNonlinearity = .tanh,
                            bias: Bool = true, batchFirst: Bool = false, dropout: Float = 0, bidirectional: Bool = false,
                            layerNorm: Bool = false, recurrentDropout: Float = 0, zoneout: Float = 0,
                            mergeMode: BidirectionalMerge = .concatenate, using rng: inout RandomGenerator) throws {
        let configuration = RecurrentLayerConfiguration(
            cell: .rnn(nonlinearity), inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
            batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, layerNorm: layerNorm,
            recurrentDropout: recurrentDropout, zoneout: zoneout, mergeMode: mergeMode)
        self.init(core: try FusedSequenceLayer(configuration: configuration, using: &rng))
    }

    /// Creates an RNN initialised from the process-wide generator `GlobalRandom`.
    public convenience init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, nonlinearity: RNNNonlinearity = .tanh,
                            bias: Bool = true, batchFirst: Bool = false, dropout: Float = 0, bidirectional: Bool = false,
                            layerNorm: Bool = false, recurrentDropout: Float = 0, zoneout: Float = 0,
                            mergeMode: BidirectionalMerge = .concatenate) throws {
        let configuration = RecurrentLayerConfiguration(
            cell: .rnn(nonlinearity), inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
            batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, layerNorm: layerNorm,
            recurrentDropout: recurrentDropout, zoneout: zoneout, mergeMode: mergeMode)
        self.init(core: try GlobalRandom.with { try FusedSequenceLayer(configuration: configuration, using: &$0) })
    }

    /// The hyper-parameters.
    public var configuration: RecurrentLayerConfiguration { core.configuration }
    public var nonlinearity: RNNNonlinearity {
        if case .rnn(let nonlinearity) = configuration.cell { return nonlinearity }
        preconditionFailure("RNN: configuration is not an RNN")
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { core.namedParameters }

    /// The generator of this layer's masks (dropout between layers, recurrent dropout, zoneout); nil,
    /// the default, draws them from the process-wide `GlobalRandom`.
    public var dropoutGenerator: RandomGenerator? {
        get { core.randomSource.generator }
        set { core.randomSource.generator = newValue }
    }

    /// Runs the whole sequence. A nil `state` ((numLayers·D, batchSize, hiddenSize)) means zeros;
    /// `lengths` as in `GRU`.
    /// - Returns: the output of the last layer at every step and the final h of every layer and direction.
    public func callAsFunction(_ input: Variable, state: Variable? = nil, lengths: [Int]? = nil)
        -> (output: Variable, state: Variable) {
        let result = core.run(input, h0: state, c0: nil, lengths: lengths, training: isTraining, layerName: "RNN")
        return (result.output, result.h)
    }
}
