import RecurrentCore
import RecurrentAutodiff

/// The state-space model of the lecture: the hidden neurons are the state of the network, fed back
/// to the input layer through unit delays, and the output is a linear function of the state:
///
///     x(n+1) = φ(W_a · x(n) + W_b · u(n) + b)
///     y(n)   = C · x(n)
///
/// Shapes: input u `(batchSize, inputSize)`, state x `(batchSize, stateSize)`, output y
/// `(batchSize, outputSize)`. Parameters (state-dict names): `weight_a` W_a `(stateSize, stateSize)`,
/// `weight_b` W_b `(stateSize, inputSize)`, `bias` b `(stateSize)` (optional), `weight_c` C
/// `(outputSize, stateSize)`; all initialised uniform in `±1/√stateSize`, like PyTorch's cells.
///
/// As a `RecurrentCell`, one step reads u(n) and x(n) and returns the next state x(n+1) with the
/// output y(n+1) = C · x(n+1) — the output that first reflects u(n). So `runSequence` over
/// u(0), …, u(T−1) returns y(1), …, y(T); y(0) = C · x(0) is `readout(_:)` of the initial state.
/// φ is tanh by default; `.sigmoid` is the lecture's other choice and `.identity` gives a linear
/// state-space model.
public final class StateSpaceModel: RecurrentCell {
    public typealias State = Variable

    public let inputSize: Int
    public let stateSize: Int
    public let outputSize: Int
    /// φ, applied to the new state.
    public let activation: ActivationFunction
    /// W_a `(stateSize, stateSize)`, state-dict name `weight_a`: the state feedback.
    public let weightA: Parameter
    /// W_b `(stateSize, inputSize)`, `weight_b`: the input weights.
    public let weightB: Parameter
    /// b `(stateSize)`, `bias`; `nil` when created with `bias: false`.
    public let bias: Parameter?
    /// C `(outputSize, stateSize)`, `weight_c`: the linear readout.
    public let weightC: Parameter
    public var isTraining = true

    /// A model with parameters drawn from `rng`.
    /// - Throws: `ConfigurationError` naming `inputSize`, `stateSize` or `outputSize` when it is not positive.
    public convenience init(inputSize: Int, stateSize: Int, outputSize: Int, bias: Bool = true,
                            activation: ActivationFunction = .tanh, using rng: inout RandomGenerator) throws {
        try Self.validate(inputSize, stateSize, outputSize)
        let values = uniformTensors(Self.shapes(inputSize, stateSize, outputSize, bias),
                                    bound: 1 / Float(stateSize).squareRoot(), using: &rng)
        self.init(inputSize: inputSize, stateSize: stateSize, outputSize: outputSize, activation: activation, values: values)
    }

    /// A model with parameters drawn from the process-wide generator (`GlobalRandom`).
    /// - Throws: `ConfigurationError` naming `inputSize`, `stateSize` or `outputSize` when it is not positive.
    public convenience init(inputSize: Int, stateSize: Int, outputSize: Int, bias: Bool = true,
                            activation: ActivationFunction = .tanh) throws {
        try Self.validate(inputSize, stateSize, outputSize)
        let values = GlobalRandom.with {
            uniformTensors(Self.shapes(inputSize, stateSize, outputSize, bias),
                           bound: 1 / Float(stateSize).squareRoot(), using: &$0)
        }
        self.init(inputSize: inputSize, stateSize: stateSize, outputSize: outputSize, activation: activation, values: values)
    }

    private init(inputSize: Int, stateSize: Int, outputSize: Int, activation: ActivationFunction, values: [Tensor]) {
        self.inputSize = inputSize
        self.stateSize = stateSize
        self.outputSize = outputSize
        self.activation = activation
        weightA = .parameter(values[0])
        weightB = .parameter(values[1])
        weightC = .parameter(values[2])
        bias = values.count > 3 ? .parameter(values[3]) : nil
    }

    private static func validate(_ inputSize: Int, _ stateSize: Int, _ outputSize: Int) throws {
        try ConfigurationError.require(inputSize > 0, "inputSize", "must be positive, got \(inputSize)")
        try ConfigurationError.require(stateSize > 0, "stateSize", "must be positive, got \(stateSize)")
        try ConfigurationError.require(outputSize > 0, "outputSize", "must be positive, got \(outputSize)")
    }

    /// Drawing order: W_a, W_b, C, then b.
    private static func shapes(_ inputSize: Int, _ stateSize: Int, _ outputSize: Int, _ bias: Bool) -> [[Int]] {
        [[stateSize, stateSize], [stateSize, inputSize], [outputSize, stateSize]] + (bias ? [[stateSize]] : [])
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        [("weight_a", weightA), ("weight_b", weightB)] + (bias.map { [("bias", $0)] } ?? []) + [("weight_c", weightC)]
    }

    /// Zeros `(batchSize, stateSize)`.
    public func zeroState(batchSize: Int) -> Variable { Variable(Tensor(zeros: [batchSize, stateSize])) }

    /// y = C · x: a state `(..., stateSize)` → output `(..., outputSize)`.
    public func readout(_ state: Variable) -> Variable {
        precondition(state.shape.last == stateSize, "StateSpaceModel: state must end in stateSize \(stateSize), got \(state.shape)")
        return linear(state, weight: weightC, bias: nil)
    }

    /// x(n+1) = φ(W_a x(n) + W_b u(n) + b) for `input` u(n) `(batchSize, inputSize)` and `state`
    /// x(n) `(batchSize, stateSize)`.
    public func nextState(_ input: Variable, state: Variable) -> Variable {
        checkCellShapes("StateSpaceModel", input: input, states: [state], inputSize: inputSize, hiddenSize: stateSize)
        return activation(linear(state, weight: weightA, bias: bias) + linear(input, weight: weightB, bias: nil))
    }

    /// One step: u(n) and x(n) → output y(n+1) = C x(n+1) `(batchSize, outputSize)` and state x(n+1).
    public func callAsFunction(_ input: Variable, state: Variable) -> (output: Variable, state: Variable) {
        let next = nextState(input, state: state)
        return (readout(next), next)
    }
}
