/// The largest sizes a model configuration may declare, checked before anything is allocated.
///
/// Configurations come from files a user can edit (`config.json` of a checkpoint) as much as from
/// options, so every size is checked against a limit before a tensor is made from it, and element
/// counts are computed with overflow-checked arithmetic: a size of 10⁹ or `Int.max` is refused with
/// a `ConfigurationError` naming the field instead of aborting in the allocator or trapping on
/// overflow. The limits are far above any model this CPU library trains, and low enough that every
/// product of a few of them fits in `Int`.
///
/// | limit | value | applies to |
/// |---|---|---|
/// | `maximumDimension` | 2²⁴ = 16,777,216 | one size: vocabulary, embedding, hidden, attention, projection, input, channels |
/// | `maximumLayerCount` | 1,024 | stacked recurrent layers |
/// | `maximumParameterCount` | 2³¹ = 2,147,483,648 (8 GiB of Float32) | all parameters of a model together |
public enum SizeLimits {
    /// The largest value of one size field.
    public static let maximumDimension = 1 << 24
    /// The most stacked recurrent layers.
    public static let maximumLayerCount = 1_024
    /// The most parameters of one model (and so elements of one tensor).
    public static let maximumParameterCount = 1 << 31

    /// The number of elements of `shape`, or nil when a dimension is negative or the product
    /// overflows `Int`.
    public static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for extent in shape {
            guard extent >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    /// The total number of elements of `shapes`, or nil when it overflows `Int` (or a dimension is negative).
    public static func totalElementCount(_ shapes: [[Int]]) -> Int? {
        var total = 0
        for shape in shapes {
            guard let count = elementCount(shape) else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(count)
            guard !overflow else { return nil }
            total = sum
        }
        return total
    }
}

extension ConfigurationError {
    /// Throws unless `value` is in `minimum...maximum` (by default a positive size up to
    /// `SizeLimits.maximumDimension`): "must be positive, got 0", "must be at most 16777216, got 1000000000".
    public static func requireSize(_ value: Int, _ argument: String, minimum: Int = 1,
                                   maximum: Int = SizeLimits.maximumDimension) throws {
        try require(value >= minimum, argument, minimum == 1 ? "must be positive, got \(value)" : "must be at least \(minimum), got \(value)")
        try require(value <= maximum, argument, "must be at most \(maximum), got \(value)")
    }

    /// Throws unless the parameters of `shapes` number at most `SizeLimits.maximumParameterCount`.
    public static func requireParameterCount(_ shapes: [(name: String, shape: [Int])]) throws {
        let count = SizeLimits.totalElementCount(shapes.map(\.shape))
        try require(count.map { $0 <= SizeLimits.maximumParameterCount } ?? false, "parameters",
                    "the model would have \(count.map(String.init) ?? "more than Int.max") parameters, "
                        + "more than the limit of \(SizeLimits.maximumParameterCount)")
    }
}
