import RecurrentCore
import RecurrentAutodiff

/// A lookup table of `count` vectors of size `dimension` (PyTorch's `nn.Embedding`).
///
/// Shapes: parameter `weight` `(count, dimension)` initialised from N(0, 1) as PyTorch does;
/// indices of shape `S` give `(*S, dimension)`. Backward scatter-adds into the rows that were read.
public final class Embedding: Module {
    /// The number of rows (vocabulary size).
    public let count: Int
    /// The size of each vector.
    public let dimension: Int
    /// `(count, dimension)`, state-dict name `weight`.
    public let weight: Parameter
    public var isTraining = true

    /// A table with rows drawn from N(0, 1) using `rng`.
    /// - Throws: `ConfigurationError` naming `count` or `dimension` when it is not positive.
    public convenience init(count: Int, dimension: Int, using rng: inout RandomGenerator) throws {
        try Self.validate(count: count, dimension: dimension)
        self.init(weight: .normal(shape: [count, dimension], using: &rng))
    }

    /// A table with rows drawn from N(0, 1) using the process-wide generator (`GlobalRandom`).
    /// - Throws: `ConfigurationError` naming `count` or `dimension` when it is not positive.
    public convenience init(count: Int, dimension: Int) throws {
        try Self.validate(count: count, dimension: dimension)
        self.init(weight: GlobalRandom.with { Tensor.normal(shape: [count, dimension], using: &$0) })
    }

    private init(weight: Tensor) {
        count = weight.shape[0]
        dimension = weight.shape[1]
        self.weight = .parameter(weight)
    }

    private static func validate(count: Int, dimension: Int) throws {
        try ConfigurationError.requireSize(count, "count")
        try ConfigurationError.requireSize(dimension, "dimension")
        try ConfigurationError.requireParameterCount(parameterShapes(count: count, dimension: dimension))
    }

    /// The state-dict name and shape of the table, `weight` `(count, dimension)` (without allocating it).
    public static func parameterShapes(count: Int, dimension: Int) -> [(name: String, shape: [Int])] {
        [("weight", [count, dimension])]
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }

    /// The rows named by `indices`, laid out row-major in `shape` (default: one axis):
    /// result `(*shape, dimension)`. Example: token ids of a `(B, T)` batch give `(B, T, dimension)`.
    ///
    /// - Precondition: every index is in `0..<count` (a violation stops with a message naming the
    ///   index and its position) and `shape` holds `indices.count` elements. Validate untrusted ids
    ///   (e.g. against a vocabulary) before calling.
    public func callAsFunction(_ indices: [Int], shape: [Int]? = nil) -> Variable {
        embedding(indices, shape: shape, weight: weight)
    }
}
