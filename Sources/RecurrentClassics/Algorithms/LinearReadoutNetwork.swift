/// A recurrent network in Double whose weights are one vector: the recurrent weights first
/// (`recurrentParameterCount` of them), then the readout `y = W_hy h + b_y` — `W_hy`
/// (`outputSize × hiddenSize`, row-major) and `b_y` (`outputSize`). The Elman, LSTM and GRU networks
/// of the RTRL and EKF trainers share this layout and the readout below.
public protocol LinearReadoutNetwork {
    var hiddenSize: Int { get }
    var outputSize: Int { get }
    var parameters: [Double] { get }
    var parameterCount: Int { get }
    var recurrentParameterCount: Int { get }
}

extension LinearReadoutNetwork {
    /// `W_hy h + b_y`.
    public func readout(_ h: [Double]) -> [Double] {
        let weights = recurrentParameterCount, biases = weights + outputSize * hiddenSize
        return (0..<outputSize).map { k in
            var s = parameters[biases + k]
            for j in 0..<hiddenSize { s += parameters[weights + k * hiddenSize + j] * h[j] }
            return s
        }
    }

    /// ∂y/∂θ `(outputSize, parameterCount)` at a step with hidden state `hidden` and sensitivities
    /// `sensitivity` = ∂h/∂θ_recurrent `(hiddenSize, recurrentParameterCount)`: the recurrent part is
    /// `W_hy · sensitivity`, the readout part is `h` under `W_hy` and 1 under `b_y`.
    func readoutJacobian(hidden: [Double], sensitivity: DoubleMatrix) -> DoubleMatrix {
        let n = hiddenSize, p = outputSize, columns = parameterCount, recurrent = recurrentParameterCount
        let weights = recurrent, biases = weights + p * n
        var jacobian = DoubleMatrix(rows: p, columns: columns)
        for k in 0..<p {
            for j in 0..<n {
                let v = parameters[weights + k * n + j]
                if v != 0 {
                    for q in 0..<recurrent { jacobian.elements[k * columns + q] += v * sensitivity.elements[j * recurrent + q] }
                }
                jacobian.elements[k * columns + weights + k * n + j] = hidden[j]
            }
            jacobian.elements[k * columns + biases + k] = 1
        }
        return jacobian
    }
}
