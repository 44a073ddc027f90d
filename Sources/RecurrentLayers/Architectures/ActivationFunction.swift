import RecurrentAutodiff

/// The activation φ of a layer in the classic recurrent architectures (NARX hidden layer,
/// state-space model, RMLP layers).
///
/// The raw values are the lower-case names used in configurations (`"tanh"`, `"sigmoid"` ...).
public enum ActivationFunction: String, Sendable, CaseIterable, Codable {
    /// `tanh(v)`, in (−1, 1).
    case tanh
    /// The logistic function `1 / (1 + e^(−v))`, in (0, 1).
    case sigmoid
    /// `max(v, 0)`.
    case relu
    /// `v` itself: a linear layer (for example a linear state-space model or a regression output).
    case identity

    /// `φ(v)` elementwise, recorded on the tape.
    public func callAsFunction(_ v: Variable) -> Variable {
        switch self {
        case .tanh: return v.tanh()
        case .sigmoid: return v.sigmoid()
        case .relu: return v.relu()
        case .identity: return v
        }
    }
}
