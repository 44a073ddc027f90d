import RecurrentCore
import RecurrentAutodiff

// The input–output recurrent model (NARX: nonlinear autoregressive with exogenous input).
//
//     y(n+1) = F(y(n), …, y(n−q+1), u(n), …, u(n−q+1))
//
// Two tapped delay lines of `delay` (q) units hold the q most recent outputs y and inputs u; their
// contents, concatenated into the regressor vector, feed a multilayer perceptron with one hidden
// layer:
//
//     r(n)   = [y(n), y(n−1), …, y(n−q+1), u(n), u(n−1), …, u(n−q+1)]     (batchSize, regressorSize)
//     y(n+1) = W_out · φ(W_hid · r(n) + b_hid) + b_out
//
// with regressorSize = q · (outputSize + inputSize). The output layer is linear (a regression).
//
// Shapes (time-major, like `runSequence`): inputs u `(sequenceLength, batchSize, inputSize)`,
// outputs y `(sequenceLength, batchSize, outputSize)`; row n of both is time n.
//
// Delay-line initialisation: a warm-up. The first q time steps of a sequence are observed, not
// predicted: they fill the delay lines with true values (no invented zeros before time 0). The
// first prediction is therefore y(q), and a sequence of length T yields T − q predictions
// y(q), …, y(T−1), aligned with the targets `outputs[q..<T]`. The last input u(T−1) would only
// affect y(T), which lies beyond the sequence, so it is not used.

/// The contents of a NARX network's two tapped delay lines at time n.
///
/// Both lists are ordered most recent first and have `delay` entries: `outputs[k]` is y(n−k)
/// `(batchSize, outputSize)` and `inputs[k]` is u(n−k) `(batchSize, inputSize)`.
public struct NARXDelayLines {
    /// y(n), y(n−1), …, y(n−q+1), each `(batchSize, outputSize)`.
    public var outputs: [Variable]
    /// u(n), u(n−1), …, u(n−q+1), each `(batchSize, inputSize)`.
    public var inputs: [Variable]

    public init(outputs: [Variable], inputs: [Variable]) {
        precondition(outputs.count == inputs.count && !outputs.isEmpty,
                     "NARXDelayLines: both lines need the same positive length, got \(outputs.count) outputs and \(inputs.count) inputs")
        self.outputs = outputs
        self.inputs = inputs
    }

    /// Advances one time step: y(n+1) and u(n+1) enter at the front, the oldest entries drop out.
    public mutating func advance(output: Variable, input: Variable) {
        outputs.insert(output, at: 0)
        outputs.removeLast()
        inputs.insert(input, at: 0)
        inputs.removeLast()
    }
}

/// The input–output recurrent model of the lecture (NARX): tapped delay lines of the last `delay`
/// inputs and outputs feeding a one-hidden-layer perceptron that predicts the next output.
///
/// Parameters (state-dict names): `hidden.weight` `(hiddenSize, regressorSize)`, `hidden.bias`
/// `(hiddenSize)`, `output.weight` `(outputSize, hiddenSize)`, `output.bias` `(outputSize)`, with
/// `regressorSize = delay · (outputSize + inputSize)`; columns of `hidden.weight` follow the
/// regressor order `[y(n), …, y(n−q+1), u(n), …, u(n−q+1)]`. Initialised as `Linear` (uniform in
/// `±1/√fanIn`).
///
/// - `openLoop(inputs:outputs:)` is the teacher-forced (series–parallel) mode used for training:
///   the output delay line holds the TRUE past outputs.
/// - `closedLoop(inputs:warmUpOutputs:)` is multi-step prediction (parallel mode): after a warm-up
///   of `delay` observed outputs the network feeds back its own predictions.
///
/// Both modes are built from autodiff ops, so either can be trained by BPTT.
public final class NARXNetwork: Module {
    public let inputSize: Int
    public let outputSize: Int
    /// q: the number of past outputs and of past inputs in the delay lines.
    public let delay: Int
    public let hiddenSize: Int
    /// φ of the hidden layer.
    public let activation: ActivationFunction
    /// The hidden layer, `regressorSize → hiddenSize` (state-dict prefix `hidden.`).
    public let hidden: Linear
    /// The linear output layer, `hiddenSize → outputSize` (state-dict prefix `output.`).
    public let output: Linear
    public var isTraining = true

    /// `delay · (outputSize + inputSize)`: the length of the regressor vector.
    public var regressorSize: Int { delay * (outputSize + inputSize) }

    /// A network with parameters drawn from `rng`.
    /// - Throws: `ConfigurationError` naming `inputSize`, `outputSize`, `delay` or `hiddenSize` when
    ///   it is not positive.
    public convenience init(inputSize: Int, outputSize: Int, delay: Int, hiddenSize: Int,
                            activation: ActivationFunction = .tanh, using rng: inout RandomGenerator) throws {
        try Self.validate(inputSize: inputSize, outputSize: outputSize, delay: delay, hiddenSize: hiddenSize)
        let layers = try Self.makeLayers(inputSize, outputSize, delay, hiddenSize, using: &rng)
        self.init(inputSize: inputSize, outputSize: outputSize, delay: delay, activation: activation, layers: layers)
    }

    /// A network with parameters drawn from the process-wide generator (`GlobalRandom`).
    /// - Throws: `ConfigurationError` naming the first invalid size.
    public convenience init(inputSize: Int, outputSize: Int, delay: Int, hiddenSize: Int,
                            activation: ActivationFunction = .tanh) throws {
        try Self.validate(inputSize: inputSize, outputSize: outputSize, delay: delay, hiddenSize: hiddenSize)
        let layers = try GlobalRandom.with { try Self.makeLayers(inputSize, outputSize, delay, hiddenSize, using: &$0) }
        self.init(inputSize: inputSize, outputSize: outputSize, delay: delay, activation: activation, layers: layers)
    }

    private init(inputSize: Int, outputSize: Int, delay: Int, activation: ActivationFunction,
                 layers: (hidden: Linear, output: Linear)) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.delay = delay
        self.hiddenSize = layers.hidden.outputSize
        self.activation = activation
        hidden = layers.hidden
        output = layers.output
    }

    private static func validate(inputSize: Int, outputSize: Int, delay: Int, hiddenSize: Int) throws {
        try ConfigurationError.requireSize(inputSize, "inputSize")
        try ConfigurationError.requireSize(outputSize, "outputSize")
        try ConfigurationError.require(delay > 0, "delay",
                                       "must be positive (the number of past values in each delay line), got \(delay)")
        try ConfigurationError.requireSize(delay, "delay")
        try ConfigurationError.requireSize(hiddenSize, "hiddenSize")
        try ConfigurationError.requireParameterCount(parameterShapes(inputSize: inputSize, outputSize: outputSize, delay: delay,
                                                                     hiddenSize: hiddenSize))
    }

    /// The state-dict names and shapes of the parameters (without allocating them): `hidden.weight`
    /// `(hiddenSize, delay · (outputSize + inputSize))`, `hidden.bias`, `output.weight`, `output.bias`.
    /// - Precondition: the sizes are at most `SizeLimits.maximumDimension` (so the products fit in `Int`).
    public static func parameterShapes(inputSize: Int, outputSize: Int, delay: Int, hiddenSize: Int) -> [(name: String, shape: [Int])] {
        prefixed("hidden", Linear.parameterShapes(inputSize: delay * (outputSize + inputSize), outputSize: hiddenSize))
            + prefixed("output", Linear.parameterShapes(inputSize: hiddenSize, outputSize: outputSize))
    }

    private static func makeLayers(_ inputSize: Int, _ outputSize: Int, _ delay: Int, _ hiddenSize: Int,
                                   using rng: inout RandomGenerator) throws -> (hidden: Linear, output: Linear) {
        (try Linear(inputSize: delay * (outputSize + inputSize), outputSize: hiddenSize, using: &rng),
         try Linear(inputSize: hiddenSize, outputSize: outputSize, using: &rng))
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        prefixed("hidden", hidden.namedParameters) + prefixed("output", output.namedParameters)
    }

    /// The perceptron F applied to regressors `(..., regressorSize)` → `(..., outputSize)`.
    public func perceptron(_ regressor: Variable) -> Variable {
        output(activation(hidden(regressor)))
    }

    /// One step: the prediction y(n+1) `(batchSize, outputSize)` from the delay lines at time n.
    public func callAsFunction(_ lines: NARXDelayLines) -> Variable {
        precondition(lines.outputs.count == delay, "NARXNetwork: the delay lines hold \(lines.outputs.count) steps, expected \(delay)")
        let batchSize = lines.outputs[0].shape.first ?? 0
        for y in lines.outputs {
            precondition(y.shape == [batchSize, outputSize], "NARXNetwork: a past output must be (\(batchSize), \(outputSize)), got \(y.shape)")
        }
        for u in lines.inputs {
            precondition(u.shape == [batchSize, inputSize], "NARXNetwork: a past input must be (\(batchSize), \(inputSize)), got \(u.shape)")
        }
        return perceptron(Variable.concatenated(lines.outputs + lines.inputs, axis: 1))
    }

    /// The delay lines after observing `inputs[0..<delay]` and `outputs[0..<delay]` (time n = q − 1).
    /// Shapes: `inputs` `(≥ delay, batchSize, inputSize)`, `outputs` `(≥ delay, batchSize, outputSize)`.
    public func warmUp(inputs: Variable, outputs: Variable) -> NARXDelayLines {
        precondition(inputs.shape.count == 3 && inputs.shape[0] >= delay && inputs.shape[2] == inputSize,
                     "NARXNetwork: warm-up inputs must be (≥ \(delay), batchSize, \(inputSize)), got \(inputs.shape)")
        precondition(outputs.shape.count == 3 && outputs.shape[0] >= delay && outputs.shape[2] == outputSize
                        && outputs.shape[1] == inputs.shape[1],
                     "NARXNetwork: warm-up outputs must be (≥ \(delay), \(inputs.shape[1]), \(outputSize)), got \(outputs.shape)")
        let u = inputs.slice(0..<delay).unstacked(axis: 0)
        let y = outputs.slice(0..<delay).unstacked(axis: 0)
        return NARXDelayLines(outputs: Array(y.reversed()), inputs: Array(u.reversed()))
    }

    /// Teacher-forced (open-loop, series–parallel) one-step-ahead predictions over a sequence.
    ///
    /// Shapes: `inputs` u `(sequenceLength, batchSize, inputSize)` and `outputs` y
    /// `(sequenceLength, batchSize, outputSize)` with `sequenceLength > delay`. Returns
    /// `(sequenceLength − delay, batchSize, outputSize)`: row k is ŷ(q + k), predicted from the TRUE
    /// y(q+k−1), …, y(k) and u(q+k−1), …, u(k); compare it with `outputs[delay...]`.
    ///
    /// No prediction depends on another, so all regressors are assembled from shifted slices and
    /// the perceptron runs once over all steps.
    public func openLoop(inputs: Variable, outputs: Variable) -> Variable {
        let sequenceLength = checkSequences(inputs: inputs, outputs: outputs, outputsLength: nil)
        let count = sequenceLength - delay
        // Lag l (0 = most recent) of the regressor for prediction k is time q − 1 − l + k.
        var columns = [Variable]()
        columns.reserveCapacity(2 * delay)
        for lag in 0..<delay { columns.append(outputs.slice((delay - 1 - lag)..<(delay - 1 - lag + count))) }
        for lag in 0..<delay { columns.append(inputs.slice((delay - 1 - lag)..<(delay - 1 - lag + count))) }
        return perceptron(Variable.concatenated(columns, axis: 2))
    }

    /// Closed-loop (parallel) multi-step prediction: after a warm-up on the first `delay` observed
    /// outputs, each prediction is fed back into the output delay line.
    ///
    /// Shapes: `inputs` u `(sequenceLength, batchSize, inputSize)` (known in advance, as in
    /// simulation or control), `warmUpOutputs` y(0), …, y(q−1) `(delay, batchSize, outputSize)`.
    /// Returns `(sequenceLength − delay, batchSize, outputSize)`: row k is ŷ(q + k), so the horizon is
    /// `sequenceLength − delay` steps, aligned like `openLoop`. Gradients flow through the fed-back
    /// predictions (BPTT).
    public func closedLoop(inputs: Variable, warmUpOutputs: Variable) -> Variable {
        let sequenceLength = checkSequences(inputs: inputs, outputs: warmUpOutputs, outputsLength: delay)
        var lines = warmUp(inputs: inputs, outputs: warmUpOutputs)
        let u = inputs.unstacked(axis: 0)
        var predictions = [Variable]()
        predictions.reserveCapacity(sequenceLength - delay)
        for n in (delay - 1)..<(sequenceLength - 1) {
            let next = self(lines)                 // ŷ(n+1)
            predictions.append(next)
            if n + 1 < sequenceLength - 1 { lines.advance(output: next, input: u[n + 1]) }
        }
        return Variable.stacked(predictions)
    }

    /// Validates the shapes of a sequence pair and returns `sequenceLength`.
    private func checkSequences(inputs: Variable, outputs: Variable, outputsLength: Int?) -> Int {
        precondition(inputs.shape.count == 3 && inputs.shape[2] == inputSize,
                     "NARXNetwork: inputs must be (sequenceLength, batchSize, \(inputSize)), got \(inputs.shape)")
        let sequenceLength = inputs.shape[0], batchSize = inputs.shape[1]
        precondition(sequenceLength > delay,
                     "NARXNetwork: a sequence needs more than delay = \(delay) steps, got \(sequenceLength)")
        let expected = [outputsLength ?? sequenceLength, batchSize, outputSize]
        precondition(outputs.shape == expected, "NARXNetwork: outputs must be \(expected), got \(outputs.shape)")
        return sequenceLength
    }
}
