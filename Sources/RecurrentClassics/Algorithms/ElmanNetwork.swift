import Foundation
import RecurrentCore
import RecurrentLayers

/// The Elman network of the lecture notes in Double precision, with all weights in one vector —
/// the form that RTRL and EKF training work on:
///
///     h_t = φ(W_hh h_{t−1} + W_xh x_t + b)          (hiddenSize)
///     y_t = W_hy h_t + b_y                           (outputSize)
///
/// Shapes: x_t has `inputSize` elements; W_xh is `(hiddenSize, inputSize)`, W_hh
/// `(hiddenSize, hiddenSize)`, b `(hiddenSize)`, W_hy `(outputSize, hiddenSize)`, b_y `(outputSize)`.
///
/// `parameters` holds them in that order, each row-major: `[W_xh, W_hh, b, W_hy, b_y]`. The first
/// `recurrentParameterCount` entries (W_xh, W_hh, b) shape the hidden state; the rest is the readout.
/// One neuron's incoming weights (row i of W_xh and W_hh, and b_i; or row k of W_hy and b_y,k) are
/// `neuronParameterIndices`, the blocks of the decoupled EKF.
public struct ElmanNetwork: LinearReadoutNetwork, Sendable, Equatable {
    public let inputSize: Int
    public let hiddenSize: Int
    public let outputSize: Int
    /// φ of the hidden layer.
    public var activation: ActivationFunction
    /// `[W_xh, W_hh, b, W_hy, b_y]`, row-major, `parameterCount` elements.
    public var parameters: [Double]

    /// Weights uniform in ±1/√hiddenSize (PyTorch's default for `nn.RNNCell` and for an `nn.Linear`
    /// readout with hiddenSize inputs), drawn from `rng` in the order of `parameters`.
    /// - Throws: `ConfigurationError` naming a size that is not positive.
    public init(inputSize: Int, hiddenSize: Int, outputSize: Int, activation: ActivationFunction = .tanh,
                using rng: inout RandomGenerator) throws {
        parameters = try Self.drawParameters(inputSize: inputSize, hiddenSize: hiddenSize, outputSize: outputSize,
                                             count: { $0 * inputSize + $0 * $0 + $0 + outputSize * $0 + outputSize }, using: &rng)
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.outputSize = outputSize
        self.activation = activation
    }

    /// The network an `RNNCell` (tanh or ReLU) and a `Linear` readout compute, in Double: W_xh =
    /// `weight_ih`, W_hh = `weight_hh`, b = `bias_ih + bias_hh`, W_hy and b_y the readout's.
    /// - Throws: `ConfigurationError` when the readout's inputSize is not the cell's hiddenSize.
    public init(cell: RNNCell, readout: Linear) throws {
        parameters = try Self.cellParameters(weightIH: cell.weightIH, weightHH: cell.weightHH, biasIH: cell.biasIH,
                                             biasHH: cell.biasHH, mergeBiases: true, hiddenSize: cell.hiddenSize, readout: readout)
        inputSize = cell.inputSize
        hiddenSize = cell.hiddenSize
        outputSize = readout.outputSize
        activation = cell.nonlinearity == .tanh ? .tanh : .relu
    }

    /// The number of weights: `hiddenSize·(inputSize + hiddenSize + 1) + outputSize·(hiddenSize + 1)`.
    public var parameterCount: Int { recurrentParameterCount + outputSize * (hiddenSize + 1) }
    /// The number of weights that shape the hidden state (W_xh, W_hh, b).
    public var recurrentParameterCount: Int { hiddenSize * (inputSize + hiddenSize + 1) }

    // Offsets of the blocks in `parameters`.
    var offsetWxh: Int { 0 }
    var offsetWhh: Int { hiddenSize * inputSize }
    var offsetB: Int { offsetWhh + hiddenSize * hiddenSize }
    var offsetWhy: Int { offsetB + hiddenSize }
    var offsetBy: Int { offsetWhy + outputSize * hiddenSize }

    /// For every neuron (the hiddenSize hidden neurons, then the outputSize output neurons), the
    /// indices in `parameters` of the weights that feed it.
    public var neuronParameterIndices: [[Int]] {
        let hidden = (0..<hiddenSize).map { i in
            Array((offsetWxh + i * inputSize)..<(offsetWxh + (i + 1) * inputSize))
                + Array((offsetWhh + i * hiddenSize)..<(offsetWhh + (i + 1) * hiddenSize)) + [offsetB + i]
        }
        let output = (0..<outputSize).map { k in
            Array((offsetWhy + k * hiddenSize)..<(offsetWhy + (k + 1) * hiddenSize)) + [offsetBy + k]
        }
        return hidden + output
    }

    /// One step: the pre-activation `W_hh h + W_xh x + b`, the new hidden state and the output.
    public func step(hidden h: [Double], input x: [Double]) -> (preactivation: [Double], hidden: [Double], output: [Double]) {
        precondition(h.count == hiddenSize && x.count == inputSize,
                     "ElmanNetwork.step: hidden \(h.count) (expected \(hiddenSize)), input \(x.count) (expected \(inputSize))")
        var a = [Double](repeating: 0, count: hiddenSize)
        for i in 0..<hiddenSize {
            var s = parameters[offsetB + i]
            for k in 0..<inputSize { s += parameters[offsetWxh + i * inputSize + k] * x[k] }
            for j in 0..<hiddenSize { s += parameters[offsetWhh + i * hiddenSize + j] * h[j] }
            a[i] = s
        }
        let hNew = a.map { activation.evaluate($0) }
        return (a, hNew, readout(hNew))
    }

    /// Runs the network from the zero state over `inputs` and returns every output.
    public func outputs(for inputs: [[Double]]) -> [[Double]] {
        var h = [Double](repeating: 0, count: hiddenSize)
        return inputs.map { x in
            let s = step(hidden: h, input: x)
            h = s.hidden
            return s.output
        }
    }
}

extension ActivationFunction {
    /// φ(v) in Double.
    public func evaluate(_ v: Double) -> Double {
        switch self {
        case .tanh: return Foundation.tanh(v)
        case .sigmoid: return 1 / (1 + Foundation.exp(-v))
        case .relu: return v > 0 ? v : 0
        case .identity: return v
        }
    }

    /// φ'(v) in Double, from v and φ(v) = `y`.
    public func slope(at v: Double, value y: Double) -> Double {
        switch self {
        case .tanh: return 1 - y * y
        case .sigmoid: return y * (1 - y)
        case .relu: return v > 0 ? 1 : 0
        case .identity: return 1
        }
    }
}
