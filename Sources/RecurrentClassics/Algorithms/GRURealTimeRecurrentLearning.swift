import Foundation
import RecurrentCore
import RecurrentLayers

/// A GRU layer with a linear readout in Double, all weights in one vector — exactly PyTorch's
/// `nn.GRUCell` (gate blocks r, z, n; the reset gate applied after `W_hn h + b_hn`, so both biases
/// are kept):
///
///     a = W_x x_t + b_x,   s = W_h h_{t−1} + b_h                        (each 3·hiddenSize)
///     r = σ(a_r + s_r),  z = σ(a_z + s_z),  n = tanh(a_n + r ⊙ s_n)
///     h_t = (1 − z) ⊙ n + z ⊙ h_{t−1},   y_t = W_hy h_t + b_y
///
/// `parameters` = `[W_x (3H, I), W_h (3H, H), b_x (3H), b_h (3H), W_hy (O, H), b_y (O)]`, row-major.
public struct GRUNetwork: LinearReadoutNetwork, Sendable, Equatable {
    public let inputSize: Int
    public let hiddenSize: Int
    public let outputSize: Int
    public var parameters: [Double]

    /// Weights uniform in ±1/√hiddenSize, drawn from `rng` in the order of `parameters`.
    /// - Throws: `ConfigurationError` naming a size that is not positive.
    public init(inputSize: Int, hiddenSize: Int, outputSize: Int, using rng: inout RandomGenerator) throws {
        parameters = try Self.drawParameters(inputSize: inputSize, hiddenSize: hiddenSize, outputSize: outputSize,
                                             count: { 3 * $0 * (inputSize + $0 + 2) + outputSize * ($0 + 1) }, using: &rng)
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.outputSize = outputSize
    }

    /// The network a `GRUCell` and a `Linear` readout compute (a cell without bias gets zero biases).
    /// - Throws: `ConfigurationError` when the readout's inputSize is not the cell's hiddenSize.
    public init(cell: GRUCell, readout: Linear) throws {
        parameters = try Self.cellParameters(weightIH: cell.weightIH, weightHH: cell.weightHH, biasIH: cell.biasIH,
                                             biasHH: cell.biasHH, mergeBiases: false, hiddenSize: cell.hiddenSize, readout: readout)
        inputSize = cell.inputSize
        hiddenSize = cell.hiddenSize
        outputSize = readout.outputSize
    }

    /// `3·hiddenSize·(inputSize + hiddenSize + 2)`: the weights that shape the state.
    public var recurrentParameterCount: Int { 3 * hiddenSize * (inputSize + hiddenSize + 2) }
    public var parameterCount: Int { recurrentParameterCount + outputSize * (hiddenSize + 1) }
    var offsetWx: Int { 0 }
    var offsetWh: Int { 3 * hiddenSize * inputSize }
    var offsetBx: Int { offsetWh + 3 * hiddenSize * hiddenSize }
    var offsetBh: Int { offsetBx + 3 * hiddenSize }
    var offsetWhy: Int { offsetBh + 3 * hiddenSize }
    var offsetBy: Int { offsetWhy + outputSize * hiddenSize }

    /// Per gate unit (3·hiddenSize, in the order r, z, n) and per output neuron, the indices of the
    /// weights feeding it.
    public var neuronParameterIndices: [[Int]] {
        let gates = (0..<(3 * hiddenSize)).map { r in
            Array((offsetWx + r * inputSize)..<(offsetWx + (r + 1) * inputSize))
                + Array((offsetWh + r * hiddenSize)..<(offsetWh + (r + 1) * hiddenSize)) + [offsetBx + r, offsetBh + r]
        }
        let outputs = (0..<outputSize).map { k in
            Array((offsetWhy + k * hiddenSize)..<(offsetWhy + (k + 1) * hiddenSize)) + [offsetBy + k]
        }
        return gates + outputs
    }

    /// One step: `s = W_h h + b_h`, the gates r, z, n (each hiddenSize, concatenated), the new h and the output.
    public func step(h: [Double], input x: [Double]) -> (recurrent: [Double], gates: [Double], h: [Double], output: [Double]) {
        let n = hiddenSize, m = inputSize
        precondition(h.count == n && x.count == m, "GRUNetwork.step: sizes do not match")
        var a = [Double](repeating: 0, count: 3 * n), s = a
        for r in 0..<(3 * n) {
            var u = parameters[offsetBx + r], v = parameters[offsetBh + r]
            for k in 0..<m { u += parameters[offsetWx + r * m + k] * x[k] }
            for j in 0..<n { v += parameters[offsetWh + r * n + j] * h[j] }
            a[r] = u
            s[r] = v
        }
        var gates = [Double](repeating: 0, count: 3 * n), hNew = [Double](repeating: 0, count: n)
        for j in 0..<n {
            let rj = 1 / (1 + exp(-(a[j] + s[j]))), zj = 1 / (1 + exp(-(a[n + j] + s[n + j])))
            let nj = tanh(a[2 * n + j] + rj * s[2 * n + j])
            gates[j] = rj
            gates[n + j] = zj
            gates[2 * n + j] = nj
            hNew[j] = (1 - zj) * nj + zj * h[j]
        }
        return (s, gates, hNew, readout(hNew))
    }
}

/// RTRL for the `GRUNetwork`, in Double. With Λ_t = ∂h_t/∂θ for the recurrent weights θ
/// (W_x, W_h, b_x, b_h), A = ∂a/∂θ (direct only: x_t under W_x, 1 under b_x) and
/// S = ∂s/∂θ = W_h Λ_{t−1} + (h_{t−1} under W_h, 1 under b_h):
///
///     R = diag(r(1−r)) (A_r + S_r),   Z = diag(z(1−z)) (A_z + S_z)
///     N = diag(1−n²) (A_n + diag(s_n) R + diag(r) S_n)
///     Λ_t = diag(h_{t−1} − n) Z + diag(1 − z) N + diag(z) Λ_{t−1}
///
/// Cost per step: W_h Λ is (3n × n)·(n × 3n(n + m + 2)): O(9·n⁴); memory O(n³).
public final class GRURealTimeRecurrentLearning: RealTimeRecurrentLearner {
    public var network: GRUNetwork
    public private(set) var hidden: [Double]
    public private(set) var output: [Double]
    /// Λ = ∂h/∂θ_recurrent, `(hiddenSize, recurrentParameterCount)`.
    public private(set) var sensitivity: DoubleMatrix

    public init(network: GRUNetwork) {
        self.network = network
        hidden = [Double](repeating: 0, count: network.hiddenSize)
        output = network.readout(hidden)
        sensitivity = DoubleMatrix(rows: network.hiddenSize, columns: network.recurrentParameterCount)
    }

    public var weights: [Double] {
        get { network.parameters }
        set { network.parameters = newValue }
    }
    public var outputCount: Int { network.outputSize }
    public var weightBlocks: [[Int]] { network.neuronParameterIndices }

    public func reset() {
        hidden = [Double](repeating: 0, count: network.hiddenSize)
        output = network.readout(hidden)
        sensitivity = DoubleMatrix(rows: network.hiddenSize, columns: network.recurrentParameterCount)
    }

    @discardableResult
    public func advance(_ input: [Double]) -> [Double] {
        let net = network
        let n = net.hiddenSize, m = net.inputSize, columns = net.recurrentParameterCount
        let step = net.step(h: hidden, input: input)
        let wh = DoubleMatrix(rows: 3 * n, columns: n, elements: Array(net.parameters[net.offsetWh..<net.offsetBx]))
        var ds = wh * sensitivity                                          // S without its direct part
        for r in 0..<(3 * n) {
            let row = r * columns
            for j in 0..<n { ds.elements[row + net.offsetWh + r * n + j] += hidden[j] }
            ds.elements[row + net.offsetBh + r] += 1
        }
        // The direct derivative of a (only row r's W_x block and b_x entry), added where needed.
        func addA(_ r: Int, into values: inout [Double], scale: Double) {
            for k in 0..<m { values[net.offsetWx + r * m + k] += scale * input[k] }
            values[net.offsetBx + r] += scale
        }
        var next = DoubleMatrix(rows: n, columns: columns)
        for j in 0..<n {
            let r = step.gates[j], z = step.gates[n + j], nj = step.gates[2 * n + j], sn = step.recurrent[2 * n + j]
            let rowR = j * columns, rowZ = (n + j) * columns, rowN = (2 * n + j) * columns
            var dR = Array(ds.elements[rowR..<(rowR + columns)])
            addA(j, into: &dR, scale: 1)
            var dZ = Array(ds.elements[rowZ..<(rowZ + columns)])
            addA(n + j, into: &dZ, scale: 1)
            let sr = r * (1 - r), sz = z * (1 - z), sN = 1 - nj * nj
            var dN = [Double](repeating: 0, count: columns)
            for q in 0..<columns {
                dR[q] *= sr
                dZ[q] *= sz
                dN[q] = sn * dR[q] + r * ds.elements[rowN + q]
            }
            addA(2 * n + j, into: &dN, scale: 1)
            let out = j * columns, carry = hidden[j] - nj
            for q in 0..<columns {
                next.elements[out + q] = carry * dZ[q] + (1 - z) * sN * dN[q] + z * sensitivity.elements[out + q]
            }
        }
        sensitivity = next
        hidden = step.h
        output = step.output
        return output
    }

    public func outputJacobian() -> DoubleMatrix {
        network.readoutJacobian(hidden: hidden, sensitivity: sensitivity)
    }
}
