import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers

/// Measurements of how gradients flow back through time (lecture 05, "The Challenge of
/// Long-Term Dependencies"): the norm of ∂L_T/∂h_t against the lag T − t, for a loss L_T at the
/// last step only.
///
/// For a tanh RNN, ∂h_T/∂h_t is a product of T − t Jacobians diag(φ') W_hh whose norms are mostly
/// below 1 at the default initialisation, so the norm falls geometrically with the lag (vanishing
/// gradients); with large recurrent weights it can grow instead (exploding gradients). The LSTM's
/// additive cell path (∂c_t/∂c_{t−1} = f_t) and the GRU's interpolation (∂h_t/∂h_{t−1} ⊇ z_t)
/// let gradients survive longer.
public enum GradientFlow {
    /// The norms ‖∂L_T/∂s_t‖ of the gradient of `loss` (applied to the cell's output at the last
    /// step) with respect to the state s_t entering each step t = 0 … T−1, computed by one full
    /// BPTT pass (`TruncatedBPTT` with k1 = k2 = T).
    ///
    /// - Parameters:
    ///   - inputs: T steps `(batchSize, inputSize)`.
    ///   - loss: the scalar loss of the last step's output.
    /// - Returns: `norms[lag − 1]` for lag = T − t = 1 … T: one norm per state component
    ///   (`[h]`, or `[h, c]` for an LSTM). The parameters' `grad` is left as it was.
    public static func stateGradientNorms<Cell: RecurrentCell>(
        _ cell: Cell, inputs: [Tensor], loss: (Variable) -> Variable
    ) throws -> [[Float]] where Cell.State: TruncatableState {
        precondition(!inputs.isEmpty, "GradientFlow.stateGradientNorms: no inputs")
        let saved = cell.parameters.map(\.grad)
        defer { for (p, g) in zip(cell.parameters, saved) { p.grad = g } }
        let T = inputs.count
        let trainer = try TruncatedBPTT(cell: cell, k1: T, k2: T)
        for (t, x) in inputs.enumerated() {
            trainer.step(x) { t == T - 1 ? loss($0) : nil }
        }
        return trainer.stateGradientNorms.reversed()
    }
}
