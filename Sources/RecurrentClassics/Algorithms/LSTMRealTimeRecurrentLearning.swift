import Foundation
import RecurrentCore
import RecurrentLayers

/// An LSTM layer with a linear readout in Double, all weights in one vector — PyTorch's
/// `nn.LSTMCell` (gate blocks i, f, g, o; no peepholes) with the two biases merged:
///
///     z = W_x x_t + W_h h_{t−1} + b                          (4·hiddenSize)
///     i = σ(z_i), f = σ(z_f), g = tanh(z_g), o = σ(z_o)
///     c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t),   y_t = W_hy h_t + b_y
///
/// `parameters` = `[W_x (4H, I), W_h (4H, H), b (4H), W_hy (O, H), b_y (O)]`, row-major.
public struct LSTMNetwork: LinearReadoutNetwork, Sendable, Equatable {
    public let inputSize: Int
    public let hiddenSize: Int
    public let outputSize: Int
    public var parameters: [Double]

    /// Weights uniform in ±1/√hiddenSize, drawn from `rng` in the order of `parameters`.
    /// - Throws: `ConfigurationError` naming a size that is not positive.
    public init(inputSize: Int, hiddenSize: Int, outputSize: Int, using rng: inout RandomGenerator) throws {
        parameters = try Self.drawParameters(inputSize: inputSize, hiddenSize: hiddenSize, outputSize: outputSize,
                                             count: { 4 * $0 * (inputSize + $0 + 1) + outputSize * ($0 + 1) }, using: &rng)
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.outputSize = outputSize
    }

    /// The network an `LSTMCell` (without peepholes) and a `Linear` readout compute:
    /// b = `bias_ih + bias_hh`.
    /// - Throws: `ConfigurationError` when the cell has peepholes or the sizes do not fit.
    public init(cell: LSTMCell, readout: Linear) throws {
        try ConfigurationError.require(!cell.hasPeepholes, "cell", "LSTM RTRL does not support peephole connections")
        parameters = try Self.cellParameters(weightIH: cell.weightIH, weightHH: cell.weightHH, biasIH: cell.biasIH,
                                             biasHH: cell.biasHH, mergeBiases: true, hiddenSize: cell.hiddenSize, readout: readout)
        inputSize = cell.inputSize
        hiddenSize = cell.hiddenSize
        outputSize = readout.outputSize
    }

    /// `4·hiddenSize·(inputSize + hiddenSize + 1)`: the weights that shape the state.
    public var recurrentParameterCount: Int { 4 * hiddenSize * (inputSize + hiddenSize + 1) }
    public var parameterCount: Int { recurrentParameterCount + outputSize * (hiddenSize + 1) }
    var offsetWx: Int { 0 }
    var offsetWh: Int { 4 * hiddenSize * inputSize }
    var offsetB: Int { offsetWh + 4 * hiddenSize * hiddenSize }
    var offsetWhy: Int { offsetB + 4 * hiddenSize }
    var offsetBy: Int { offsetWhy + outputSize * hiddenSize }

    /// Per gate unit (4·hiddenSize of them, in the order of z) and per output neuron, the indices
    /// of the weights feeding it.
    public var neuronParameterIndices: [[Int]] {
        let gates = (0..<(4 * hiddenSize)).map { r in
            Array((offsetWx + r * inputSize)..<(offsetWx + (r + 1) * inputSize))
                + Array((offsetWh + r * hiddenSize)..<(offsetWh + (r + 1) * hiddenSize)) + [offsetB + r]
        }
        let outputs = (0..<outputSize).map { k in
            Array((offsetWhy + k * hiddenSize)..<(offsetWhy + (k + 1) * hiddenSize)) + [offsetBy + k]
        }
        return gates + outputs
    }

    /// One step: the gate activations (i, f, g, o, each hiddenSize), the new h and c, the output.
    public func step(h: [Double], c: [Double], input x: [Double])
        -> (gates: [Double], h: [Double], c: [Double], output: [Double]) {
        let n = hiddenSize, m = inputSize
        precondition(h.count == n && c.count == n && x.count == m, "LSTMNetwork.step: sizes do not match")
        var gates = [Double](repeating: 0, count: 4 * n)
        for r in 0..<(4 * n) {
            var s = parameters[offsetB + r]
            for k in 0..<m { s += parameters[offsetWx + r * m + k] * x[k] }
            for j in 0..<n { s += parameters[offsetWh + r * n + j] * h[j] }
            gates[r] = r / n == 2 ? tanh(s) : 1 / (1 + exp(-s))
        }
        var cNew = [Double](repeating: 0, count: n), hNew = cNew
        for j in 0..<n {
            cNew[j] = gates[n + j] * c[j] + gates[j] * gates[2 * n + j]
            hNew[j] = gates[3 * n + j] * tanh(cNew[j])
        }
        return (gates, hNew, cNew, readout(hNew))
    }
}

/// RTRL for the `LSTMNetwork`, in Double: the sensitivities Λ^h_t = ∂h_t/∂θ and Λ^c_t = ∂c_t/∂θ of
/// both state vectors to the recurrent weights θ = (W_x, W_h, b) are carried forward:
///
///     DZ   = W_h Λ^h_{t−1} + U_t                     (∂z_t/∂θ; U_t the direct term: x_t, h_{t−1}, 1)
///     DI   = diag(i(1−i)) DZ_i,  DF = diag(f(1−f)) DZ_f,  DG = diag(1−g²) DZ_g,  DO = diag(o(1−o)) DZ_o
///     Λ^c_t = diag(c_{t−1}) DF + diag(f) Λ^c_{t−1} + diag(g) DI + diag(i) DG
///     Λ^h_t = diag(tanh c_t) DO + diag(o ⊙ (1 − tanh² c_t)) Λ^c_t
///
/// Cost per step: W_h Λ^h is (4n × n)·(n × 4n(n + m + 1)): O(16·n⁴) multiply–adds, four times the
/// Elman network's per unit; memory 2·n·4n(n + m + 1) = O(n³).
public final class LSTMRealTimeRecurrentLearning: RealTimeRecurrentLearner {
    public var network: LSTMNetwork
    public private(set) var hidden: [Double]
    public private(set) var cell: [Double]
    public private(set) var output: [Double]
    /// Λ^h = ∂h/∂θ_recurrent, `(hiddenSize, recurrentParameterCount)`.
    public private(set) var hiddenSensitivity: DoubleMatrix
    /// Λ^c = ∂c/∂θ_recurrent, `(hiddenSize, recurrentParameterCount)`.
    public private(set) var cellSensitivity: DoubleMatrix

    public init(network: LSTMNetwork) {
        self.network = network
        hidden = [Double](repeating: 0, count: network.hiddenSize)
        cell = hidden
        output = network.readout(hidden)
        hiddenSensitivity = DoubleMatrix(rows: network.hiddenSize, columns: network.recurrentParameterCount)
        cellSensitivity = hiddenSensitivity
    }

    public var weights: [Double] {
        get { network.parameters }
        set { network.parameters = newValue }
    }
    public var outputCount: Int { network.outputSize }
    public var weightBlocks: [[Int]] { network.neuronParameterIndices }

    public func reset() {
        hidden = [Double](repeating: 0, count: network.hiddenSize)
        cell = hidden
        output = network.readout(hidden)
        hiddenSensitivity = DoubleMatrix(rows: network.hiddenSize, columns: network.recurrentParameterCount)
        cellSensitivity = hiddenSensitivity
    }

    @discardableResult
    public func advance(_ input: [Double]) -> [Double] {
        let net = network
        let n = net.hiddenSize, m = net.inputSize, columns = net.recurrentParameterCount
        let step = net.step(h: hidden, c: cell, input: input)
        let wh = DoubleMatrix(rows: 4 * n, columns: n, elements: Array(net.parameters[net.offsetWh..<net.offsetB]))
        var dz = wh * hiddenSensitivity                                   // (4n, columns)
        for r in 0..<(4 * n) {
            let row = r * columns
            for k in 0..<m { dz.elements[row + net.offsetWx + r * m + k] += input[k] }
            for j in 0..<n { dz.elements[row + net.offsetWh + r * n + j] += hidden[j] }
            dz.elements[row + net.offsetB + r] += 1
            let a = step.gates[r]
            let slope = r / n == 2 ? 1 - a * a : a * (1 - a)
            for q in 0..<columns { dz.elements[row + q] *= slope }
        }
        var newC = DoubleMatrix(rows: n, columns: columns), newH = newC
        for j in 0..<n {
            let i = step.gates[j], f = step.gates[n + j], g = step.gates[2 * n + j], o = step.gates[3 * n + j]
            let cPrev = cell[j], tc = tanh(step.c[j])
            let rowI = j * columns, rowF = (n + j) * columns, rowG = (2 * n + j) * columns, rowO = (3 * n + j) * columns
            let out = j * columns
            for q in 0..<columns {
                let dc = cPrev * dz.elements[rowF + q] + f * cellSensitivity.elements[out + q]
                    + g * dz.elements[rowI + q] + i * dz.elements[rowG + q]
                newC.elements[out + q] = dc
                newH.elements[out + q] = tc * dz.elements[rowO + q] + o * (1 - tc * tc) * dc
            }
        }
        hiddenSensitivity = newH
        cellSensitivity = newC
        hidden = step.h
        cell = step.c
        output = step.output
        return output
    }

    public func outputJacobian() -> DoubleMatrix {
        network.readoutJacobian(hidden: hidden, sensitivity: hiddenSensitivity)
    }
}
