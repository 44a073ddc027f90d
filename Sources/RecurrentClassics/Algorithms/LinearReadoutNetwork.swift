import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers

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
    /// Checks the sizes and draws a network's `count` weights uniformly in ±1/√hiddenSize from `rng`
    /// (PyTorch's default for the cells and for a `Linear` readout with hiddenSize inputs), in order.
    /// - Throws: `ConfigurationError` naming a size that is not positive.
    static func drawParameters(inputSize: Int, hiddenSize: Int, outputSize: Int, count: (Int) -> Int,
                               using rng: inout RandomGenerator) throws -> [Double] {
        try ConfigurationError.require(inputSize > 0, "inputSize", "must be positive, got \(inputSize)")
        try ConfigurationError.require(hiddenSize > 0, "hiddenSize", "must be positive, got \(hiddenSize)")
        try ConfigurationError.require(outputSize > 0, "outputSize", "must be positive, got \(outputSize)")
        let bound = 1 / Double(hiddenSize).squareRoot()
        return (0..<count(hiddenSize)).map { _ in Double(rng.nextUniform(-1, 1)) * bound }
    }

    /// The parameters of a step cell and its `Linear` readout in Double: `weight_ih`, `weight_hh`, then
    /// the biases (`bias_ih + bias_hh` merged, or both kept; zeros for a cell without bias), then the
    /// readout's weight and bias.
    /// - Throws: `ConfigurationError` when the readout's inputSize is not the cell's hiddenSize.
    static func cellParameters(weightIH: Parameter, weightHH: Parameter, biasIH: Parameter?, biasHH: Parameter?,
                               mergeBiases: Bool, hiddenSize: Int, readout: Linear) throws -> [Double] {
        try ConfigurationError.require(readout.inputSize == hiddenSize, "readout",
                                       "inputSize \(readout.inputSize) must equal the cell's hiddenSize \(hiddenSize)")
        let d = { (t: Tensor) in t.scalars.map { Double($0) } }
        let zeros = [Double](repeating: 0, count: weightHH.value.shape[0])
        let bih = biasIH.map { d($0.value) } ?? zeros, bhh = biasHH.map { d($0.value) } ?? zeros
        let biases = mergeBiases ? zip(bih, bhh).map(+) : bih + bhh
        return d(weightIH.value) + d(weightHH.value) + biases + d(readout.weight.value)
            + (readout.bias.map { d($0.value) } ?? [Double](repeating: 0, count: readout.outputSize))
    }

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
