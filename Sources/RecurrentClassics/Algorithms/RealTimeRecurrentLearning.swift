import RecurrentCore

/// Real-time recurrent learning (Williams & Zipser 1989) for the `ElmanNetwork`, in Double.
///
/// Instead of storing the past and propagating errors backwards, RTRL carries forward the
/// sensitivities Λ_t = ∂h_t/∂θ of the hidden state to every recurrent weight θ (W_xh, W_hh, b):
///
///     a_t = W_hh h_{t−1} + W_xh x_t + b,     h_t = φ(a_t)
///     Λ_t = Φ_t (W_hh Λ_{t−1} + U_t),        Λ_0 = 0
///
/// with Φ_t = diag(φ'(a_t)) and U_t the direct derivative ∂a_t/∂θ at fixed h_{t−1}: row i holds
/// x_tᵀ under W_xh's row i, h_{t−1}ᵀ under W_hh's row i and 1 under b_i, zeros elsewhere (Haykin's
/// U_{j,n}; note the plus sign, which lecture 01's slide prints as a minus). Then the output
/// Jacobian is ∂y_t/∂θ = W_hy Λ_t for the recurrent weights, and h_t (for W_hy) and I (for b_y)
/// for the readout, and the gradient of L_t = ½‖y_t − d_t‖² is (∂y_t/∂θ)ᵀ (y_t − d_t): available
/// at time t, so the weights can change at every step (continuous, online training).
///
/// Cost per step with n = hiddenSize, m = inputSize, p = outputSize: Λ has n·(n·(n + m + 1))
/// entries and W_hh Λ costs n²·n·(n + m + 1) = O(n⁴) multiply–adds; the Jacobian W_hy Λ costs
/// O(p·n²·(n + m)). Memory O(n³) (Λ), independent of the sequence length — unlike BPTT, whose
/// memory grows with the sequence but whose cost per step is only O(n² + n·m).
///
/// Accumulated over a sequence with fixed weights, the RTRL gradients equal BPTT's (see the
/// tests); with an update at every step they are the usual online approximation (Λ is carried
/// over as if the weights had always been the current ones).
public final class RealTimeRecurrentLearning {
    /// The network; `trainStep` changes its `parameters`.
    public var network: ElmanNetwork
    /// h_t (hiddenSize).
    public private(set) var hidden: [Double]
    /// y_t (outputSize) after the last `advance`.
    public private(set) var output: [Double]
    /// Λ_t = ∂h_t/∂θ_recurrent: `(hiddenSize, recurrentParameterCount)`.
    public private(set) var sensitivity: DoubleMatrix
    /// Steps since the last reset.
    public private(set) var time = 0

    public init(network: ElmanNetwork) {
        self.network = network
        hidden = [Double](repeating: 0, count: network.hiddenSize)
        output = network.readout(hidden)
        sensitivity = DoubleMatrix(rows: network.hiddenSize, columns: network.recurrentParameterCount)
    }

    /// Back to h = 0 and Λ = 0 (the start of an epoch in epochwise training).
    public func reset() {
        hidden = [Double](repeating: 0, count: network.hiddenSize)
        output = network.readout(hidden)
        sensitivity = DoubleMatrix(rows: network.hiddenSize, columns: network.recurrentParameterCount)
        time = 0
    }

    /// One step with the current weights: h_t, Λ_t and y_t from x_t (`inputSize` elements).
    /// - Returns: y_t.
    @discardableResult
    public func advance(_ input: [Double]) -> [Double] {
        let net = network
        let n = net.hiddenSize, m = net.inputSize
        let previous = hidden
        let step = net.step(hidden: previous, input: input)
        // W_hh Λ_{t−1}
        let whh = DoubleMatrix(rows: n, columns: n,
                               elements: Array(net.parameters[net.offsetWhh..<(net.offsetWhh + n * n)]))
        var next = whh * sensitivity
        // + U_t, then scale row i by φ'(a_i).
        let columns = net.recurrentParameterCount
        for i in 0..<n {
            let row = i * columns
            for k in 0..<m { next.elements[row + net.offsetWxh + i * m + k] += input[k] }
            for j in 0..<n { next.elements[row + net.offsetWhh + i * n + j] += previous[j] }
            next.elements[row + net.offsetB + i] += 1
            let slope = net.activation.slope(at: step.preactivation[i], value: step.hidden[i])
            for q in 0..<columns { next.elements[row + q] *= slope }
        }
        sensitivity = next
        hidden = step.hidden
        output = step.output
        time += 1
        return output
    }

    /// ∂y_t/∂θ at the current step: `(outputSize, parameterCount)`, columns in `parameters` order.
    public func outputJacobian() -> DoubleMatrix {
        network.readoutJacobian(hidden: hidden, sensitivity: sensitivity)
    }
}
