import RecurrentCore
import RecurrentAutodiff

/// The states of a recurrent multilayer perceptron, one per layer: `layers[l]` is x_{l+1}
/// `(batchSize, layerSizes[l])`; the last entry is the output layer's state x_o.
public struct RMLPState {
    public var layers: [Variable]
    public init(layers: [Variable]) { self.layers = layers }
}

/// The recurrent multilayer perceptron (RMLP) of the lecture: a stack of layers, each with
/// feedback around itself. Each layer is an Elman-like recurrence with its own weights whose
/// input is the NEW state of the layer below (the external input u for the first layer):
///
///     x_1(n+1) = φ_1(W_1 · x_1(n) + U_1 · u(n)       + b_1)
///     x_2(n+1) = φ_2(W_2 · x_2(n) + U_2 · x_1(n+1)   + b_2)
///     …
///     x_o(n+1) = φ_o(W_o · x_o(n) + U_o · x_last(n+1) + b_o)
///
/// `layerSizes` lists the sizes of all layers including the output layer (the last entry, which is
/// `outputSize`). Shapes: input `(batchSize, inputSize)`, layer l's state `(batchSize, layerSizes[l])`,
/// output `(batchSize, outputSize)`.
///
/// Parameters of layer l (counted from 0; state-dict names): `weight_ih_l{l}` U `(layerSizes[l],
/// inputSize or layerSizes[l−1])`, `weight_hh_l{l}` W `(layerSizes[l], layerSizes[l])` and
/// `bias_l{l}` b `(layerSizes[l])` (optional). All are uniform in `±1/√layerSizes[l]`.
public final class RecurrentMultilayerPerceptron: RecurrentCell {
    public typealias State = RMLPState

    public let inputSize: Int
    /// The size of each layer, the output layer last.
    public let layerSizes: [Int]
    /// φ of each layer: `hiddenActivation` for all but the last, `outputActivation` for the last.
    public let activations: [ActivationFunction]
    /// U_l, `weight_ih_l{l}`: from the layer below (or the input) into layer l.
    public let weightsIH: [Parameter]
    /// W_l, `weight_hh_l{l}`: layer l's feedback around itself.
    public let weightsHH: [Parameter]
    /// b_l, `bias_l{l}`; empty when created with `bias: false`.
    public let biases: [Parameter]
    public var isTraining = true

    /// The size of the output layer (`layerSizes.last`).
    public var outputSize: Int { layerSizes[layerSizes.count - 1] }

    /// A network with parameters drawn from `rng`.
    /// - Parameters:
    ///   - layerSizes: the sizes of the hidden layers followed by the output layer; at least one entry.
    ///   - hiddenActivation: φ of every layer but the last.
    ///   - outputActivation: φ_o of the output layer.
    /// - Throws: `ConfigurationError` naming `inputSize` or `layerSizes` when a size is not positive
    ///   or the list is empty.
    public convenience init(inputSize: Int, layerSizes: [Int], bias: Bool = true,
                            hiddenActivation: ActivationFunction = .tanh, outputActivation: ActivationFunction = .tanh,
                            using rng: inout RandomGenerator) throws {
        try Self.validate(inputSize, layerSizes)
        let values = Self.draw(inputSize, layerSizes, bias, using: &rng)
        self.init(inputSize: inputSize, layerSizes: layerSizes, hiddenActivation: hiddenActivation,
                  outputActivation: outputActivation, values: values)
    }

    /// A network with parameters drawn from the process-wide generator (`GlobalRandom`).
    /// - Throws: `ConfigurationError` as the other initialiser.
    public convenience init(inputSize: Int, layerSizes: [Int], bias: Bool = true,
                            hiddenActivation: ActivationFunction = .tanh, outputActivation: ActivationFunction = .tanh) throws {
        try Self.validate(inputSize, layerSizes)
        let values = GlobalRandom.with { Self.draw(inputSize, layerSizes, bias, using: &$0) }
        self.init(inputSize: inputSize, layerSizes: layerSizes, hiddenActivation: hiddenActivation,
                  outputActivation: outputActivation, values: values)
    }

    private init(inputSize: Int, layerSizes: [Int], hiddenActivation: ActivationFunction,
                 outputActivation: ActivationFunction, values: [[Tensor]]) {
        self.inputSize = inputSize
        self.layerSizes = layerSizes
        activations = Array(repeating: hiddenActivation, count: layerSizes.count - 1) + [outputActivation]
        weightsIH = values.map { .parameter($0[0]) }
        weightsHH = values.map { .parameter($0[1]) }
        biases = values.compactMap { $0.count > 2 ? .parameter($0[2]) : nil }
    }

    private static func validate(_ inputSize: Int, _ layerSizes: [Int]) throws {
        try ConfigurationError.require(inputSize > 0, "inputSize", "must be positive, got \(inputSize)")
        try ConfigurationError.require(!layerSizes.isEmpty, "layerSizes", "needs at least one layer (the output layer)")
        if let bad = layerSizes.firstIndex(where: { $0 <= 0 }) {
            throw ConfigurationError(argument: "layerSizes", reason: "entry \(bad) must be positive, got \(layerSizes[bad])")
        }
    }

    /// Per layer, in order: U, W, then b; each uniform in ±1/√size.
    private static func draw(_ inputSize: Int, _ layerSizes: [Int], _ bias: Bool,
                             using rng: inout RandomGenerator) -> [[Tensor]] {
        layerSizes.indices.map { l in
            let size = layerSizes[l], below = l == 0 ? inputSize : layerSizes[l - 1]
            return uniformTensors([[size, below], [size, size]] + (bias ? [[size]] : []),
                                  bound: 1 / Float(size).squareRoot(), using: &rng)
        }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        layerSizes.indices.flatMap { l -> [(name: String, parameter: Parameter)] in
            [("weight_ih_l\(l)", weightsIH[l]), ("weight_hh_l\(l)", weightsHH[l])]
                + (biases.isEmpty ? [] : [("bias_l\(l)", biases[l])])
        }
    }

    /// Zeros for every layer.
    public func zeroState(batchSize: Int) -> RMLPState {
        RMLPState(layers: layerSizes.map { Variable(Tensor(zeros: [batchSize, $0])) })
    }

    /// One step: `input` u(n) `(batchSize, inputSize)` and the layer states at time n → the output
    /// x_o(n+1) `(batchSize, outputSize)` and every layer's state at n+1.
    public func callAsFunction(_ input: Variable, state: RMLPState) -> (output: Variable, state: RMLPState) {
        precondition(state.layers.count == layerSizes.count,
                     "RecurrentMultilayerPerceptron: state has \(state.layers.count) layers, expected \(layerSizes.count)")
        var below = input
        var next = [Variable]()
        next.reserveCapacity(layerSizes.count)
        for l in layerSizes.indices {
            checkCellShapes("RecurrentMultilayerPerceptron layer \(l)", input: below, states: [state.layers[l]],
                            inputSize: l == 0 ? inputSize : layerSizes[l - 1], hiddenSize: layerSizes[l])
            let v = linear(state.layers[l], weight: weightsHH[l], bias: biases.isEmpty ? nil : biases[l])
                + linear(below, weight: weightsIH[l], bias: nil)
            below = activations[l](v)
            next.append(below)
        }
        return (below, RMLPState(layers: next))
    }
}
