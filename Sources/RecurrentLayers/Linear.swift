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
        let values = uniformTensors(Self.shapes(inputSize, outputSize, bias),
                                    bound: 1 / Float(inputSize).squareRoot(), using: &rng)
        self.init(inputSize: inputSize, outputSize: outputSize, values: values)
    }

    /// A layer with parameters drawn from the process-wide generator (`GlobalRandom`).
    /// - Throws: `ConfigurationError` naming `inputSize` or `outputSize` when it is not positive.
    public convenience init(inputSize: Int, outputSize: Int, bias: Bool = true) throws {
        try Self.validate(inputSize: inputSize, outputSize: outputSize)
        let values = GlobalRandom.with {
            uniformTensors(Self.shapes(inputSize, outputSize, bias), bound: 1 / Float(inputSize).squareRoot(), using: &$0)
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
        try ConfigurationError.require(inputSize > 0, "inputSize", "must be positive, got \(inputSize)")
        try ConfigurationError.require(outputSize > 0, "outputSize", "must be positive, got \(outputSize)")
    }

    private static func shapes(_ inputSize: Int, _ outputSize: Int, _ bias: Bool) -> [[Int]] {
        [[outputSize, inputSize]] + (bias ? [[outputSize]] : [])
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
