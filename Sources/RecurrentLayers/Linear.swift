import RecurrentCore
import RecurrentAutodiff

/// A fully connected layer `y = x · Wᵀ + b` over the last axis (PyTorch's `nn.Linear`).
///
/// Shapes: input `(..., inputSize)`, output `(..., outputSize)`; parameters `weight`
/// `(outputSize, inputSize)` and `bias` `(outputSize)`, both initialised uniform in `±1/√inputSize`
/// as PyTorch does.
public final class Linear: Module {
    public let inputSize: Int
    public let outputSize: Int
    /// `(outputSize, inputSize)`, state-dict name `weight`.
    public let weight: Parameter
    /// `(outputSize)`, state-dict name `bias`; `nil` when created with `bias: false`.
    public let bias: Parameter?
    public var isTraining = true

    /// A layer with parameters drawn from `rng`.
    /// - Throws: `ConfigurationError` naming `inputSize` or `outputSize` when it is not positive.
    public convenience init(inputSize: Int, outputSize: Int, bias: Bool = true,
                            using rng: inout RandomGenerator) throws {
        try Self.validate(inputSize: inputSize, outputSize: outputSize)
        let values = uniformTensors(Self.parameterShapes(inputSize: inputSize, outputSize: outputSize, bias: bias).map(\.shape),
                                    bound: 1 / Float(inputSize).squareRoot(), using: &rng)
        self.init(inputSize: inputSize, outputSize: outputSize, values: values)
    }

    /// A layer with parameters drawn from the process-wide generator (`GlobalRandom`).
    /// - Throws: `ConfigurationError` naming `inputSize` or `outputSize` when it is not positive.
    public convenience init(inputSize: Int, outputSize: Int, bias: Bool = true) throws {
        try Self.validate(inputSize: inputSize, outputSize: outputSize)
        let values = GlobalRandom.with {
            uniformTensors(Self.parameterShapes(inputSize: inputSize, outputSize: outputSize, bias: bias).map(\.shape), bound: 1 / Float(inputSize).squareRoot(), using: &$0)
        }
        self.init(inputSize: inputSize, outputSize: outputSize, values: values)
    }

    private init(inputSize: Int, outputSize: Int, values: [Tensor]) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        weight = .parameter(values[0])
        bias = values.count > 1 ? .parameter(values[1]) : nil
    }

    private static func validate(inputSize: Int, outputSize: Int) throws {
        try ConfigurationError.requireSize(inputSize, "inputSize")
        try ConfigurationError.requireSize(outputSize, "outputSize")
        try ConfigurationError.requireParameterCount(parameterShapes(inputSize: inputSize, outputSize: outputSize))
    }

    /// The state-dict names and shapes of a layer's parameters: `weight` `(outputSize, inputSize)`
    /// and `bias` `(outputSize)` (without allocating them).
    public static func parameterShapes(inputSize: Int, outputSize: Int, bias: Bool = true) -> [(name: String, shape: [Int])] {
        [("weight", [outputSize, inputSize])] + (bias ? [("bias", [outputSize])] : [])
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// `x · Wᵀ + b`: `(..., inputSize) → (..., outputSize)`.
    public func callAsFunction(_ input: Variable) -> Variable {
        precondition(input.shape.last == inputSize,
                     "Linear: input shape \(input.shape) does not end in inputSize \(inputSize)")
        return linear(input, weight: weight, bias: bias)
    }
}
