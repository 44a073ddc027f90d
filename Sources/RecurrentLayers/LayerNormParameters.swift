import RecurrentCore
import RecurrentAutodiff

/// The learnable gain γ (`weight`) and shift β (`bias`) of one layer normalisation inside a cell,
/// both `(features)`; saved as `<name>.weight` and `<name>.bias` (e.g. `ln_ih.weight`), like a
/// PyTorch `nn.LayerNorm` submodule. A new instance has γ = 1 and β = 0 (PyTorch's initialisation).
public struct LayerNormParameters {
    /// `(features)`: the gain γ.
    public let weight: Parameter
    /// `(features)`: the shift β.
    public let bias: Parameter
    /// The added variance floor ε (PyTorch's default).
    public static let epsilon: Float = 1e-5

    /// Gains 1 and shifts 0 for `features` features.
    public init(features: Int) {
        weight = .parameter(Tensor(repeating: 1, shape: [features]))
        bias = .parameter(Tensor(zeros: [features]))
    }

    /// Existing parameters, shared (the layer norms of a fused layer's cell path).
    init(weight: Parameter, bias: Parameter) {
        self.weight = weight
        self.bias = bias
    }

    /// `layerNorm(x, weight: γ, bias: β)` over the last axis: `(..., features) → (..., features)`.
    public func callAsFunction(_ x: Variable) -> Variable {
        layerNorm(x, weight: weight, bias: bias, epsilon: Self.epsilon)
    }
}

// Helpers shared by the built-in cells' variants.

/// `name.weight`, `name.bias` for each present layer norm, in order.
func layerNormParameters(_ norms: [(String, LayerNormParameters?)]) -> [(name: String, parameter: Parameter)] {
    norms.flatMap { name, norm -> [(name: String, parameter: Parameter)] in
        guard let norm else { return [] }
        return [("\(name).weight", norm.weight), ("\(name).bias", norm.bias)]
    }
}

/// The rows `features` of `W x + b`, layer-normalised over those features when `norm` is given:
/// `x · W[features]ᵀ + b[features]`, or `LN(x · W[features]ᵀ; γ[features], β[features]) + b[features]`.
///
/// Shapes: `x` `(batchSize, k)`, `weight` `(rows, k)`, `bias` and the norm's parameters `(rows)`;
/// the result is `(batchSize, features.count)`. Without a norm over all rows this is exactly
/// `linear(x, weight:, bias:)`, so the plain cells compute what they always did.
func normalizedProduct(_ x: Variable, _ weight: Parameter, _ bias: Parameter?, _ norm: LayerNormParameters?,
                       features: Range<Int>) -> Variable {
    let all = features == 0..<weight.shape[0]
    func rows(_ p: Variable) -> Variable { all ? p : p.slice(features, axis: 0) }
    guard let norm else { return linear(x, weight: rows(weight), bias: bias.map(rows)) }
    let normalized = layerNorm(linear(x, weight: rows(weight), bias: nil),
                               weight: rows(norm.weight), bias: rows(norm.bias), epsilon: LayerNormParameters.epsilon)
    return bias.map { normalized.addingBias(rows($0)) } ?? normalized
}

/// `x ⊙ mask` with a constant mask, or `x` itself without one.
func masked(_ x: Variable, _ mask: Tensor?) -> Variable {
    guard let mask else { return x }
    precondition(mask.shape == x.shape, "recurrent input mask must be \(x.shape), got \(mask.shape)")
    return x * Variable(mask)
}
