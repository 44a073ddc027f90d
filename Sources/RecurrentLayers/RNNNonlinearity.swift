/// The activation of a plain (Elman) RNN: `h' = act(W_ih x + b_ih + W_hh h + b_hh)`.
///
/// The raw values are PyTorch's `nonlinearity` strings (`"tanh"`, `"relu"`), so configurations and
/// checkpoints can name them the same way.
public enum RNNNonlinearity: String, Sendable, CaseIterable, Codable {
    case tanh
    case relu
}
