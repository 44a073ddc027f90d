import Foundation
import RecurrentCore
import RecurrentAutodiff

/// The parameters and the tape op shared by `RNN`, `LSTM` and `GRU`.
///
/// One call is one tape node: its inputs are x, h0 and c0 (when given) and every parameter; its
/// outputs are output, h_n and (LSTM) c_n; its backward runs BPTT over the whole stack. The options
/// the kernels do not run (`RecurrentLayerConfiguration.usesCellPath(training:)`) run on the cell path
/// instead (`FusedSequenceLayer+CellPath.swift`), over the same parameters.
final class FusedSequenceLayer {
    let configuration: RecurrentLayerConfiguration
    let names: [String]
    let parameters: [Parameter]
    let kernel: FusedSequenceKernel
    /// The cells over the same parameters, `[layer][direction]`; empty when no option needs them.
    let cellPath: [[CellPathDirection]]
    /// Where every mask of the layer is drawn (dropout between layers, recurrent dropout, zoneout).
    let randomSource: RandomSource

    /// Validates `configuration` and initialises every weight and bias uniformly in ±1/√hiddenSize
    /// (PyTorch's default), drawing in `parameterShapes` order from `rng`; layer-norm gains are 1 and
    /// shifts 0 (drawing nothing, so the other parameters do not depend on `layerNorm`).
    init(configuration: RecurrentLayerConfiguration, using rng: inout RandomGenerator) throws {
        try configuration.validate()
        self.configuration = configuration
        let bound = 1 / Float(configuration.hiddenSize).squareRoot()
        let shapes = configuration.parameterShapes
        names = shapes.map(\.name)
        parameters = shapes.map { name, shape in
            if name.hasPrefix("ln_") { return Parameter.parameter(Tensor(repeating: name.hasSuffix(".weight") ? 1 : 0, shape: shape)) }
            return Parameter.parameter(.uniform(shape: shape, low: -bound, high: bound, using: &rng))
        }
        kernel = FusedSequenceKernel(configuration: configuration)
        let c = configuration
        let needsCells = c.layerNorm || c.zoneout > 0 || c.recurrentDropout > 0
        let source = RandomSource()
        randomSource = source
        cellPath = needsCells ? try Self.cellPathDirections(c, names: names, parameters: parameters, source: source) : []
    }

    var namedParameters: [(name: String, parameter: Parameter)] { Array(zip(names, parameters)) }

    /// Runs the stack on `input` ((T, B, I), (B, T, I) when batchFirst, or unbatched (T, I)), with
    /// `lengths` (one per row, each in 0...T) for a padded batch, and merges the two directions of the
    /// last layer by `mergeMode`.
    /// `embeddedInput`: the input is rows of an embedding (a language model's layer 0); the fused kernels
    /// then project the embedding rows instead of every input row.
    func run(_ input: Variable, h0: Variable?, c0: Variable?, lengths: [Int]? = nil, training: Bool, layerName: String,
             embeddedInput: EmbeddedInputRows? = nil) -> (output: Variable, h: Variable, c: Variable?) {
        let result = runConcatenated(input, h0: h0, c0: c0, lengths: lengths, training: training, layerName: layerName,
                                     embeddedInput: embeddedInput)
        let c = configuration
        guard c.bidirectional, c.mergeMode != .concatenate else { return result }
        return (Self.mergeDirections(result.output, mode: c.mergeMode, width: c.outputHiddenSize), result.h, result.c)
    }

    /// One tape op: `(..., 2·width)` holding `[y→; y←]` per row → `(..., width)` merged by `mode`
    /// (sum, mean or multiply). Backward: `dy→ = dy·a`, `dy← = dy·b` with (a, b) = (1, 1), (½, ½) or (y←, y→).
    static func mergeDirections(_ output: Variable, mode: BidirectionalMerge, width P: Int) -> Variable {
        let x = output.value
        let rows = x.count / (2 * P)
        var shape = x.shape
        shape[shape.count - 1] = P
        let merged = Tensor(shape: shape) { out in
            x.scalars.withUnsafeBufferPointer { v in
                for r in 0..<rows {
                    let f = r * 2 * P, o = r * P
                    for j in 0..<P {
                        let a = v[f + j], b = v[f + P + j]
                        switch mode {
                        case .sum, .concatenate: out[o + j] = a + b
                        case .mean: out[o + j] = (a + b) * 0.5
                        case .multiply: out[o + j] = a * b
                        }
                    }
                }
            }
        }
        return Tape.record("mergeDirections", inputs: [output], output: merged) { g in
            [Tensor(shape: x.shape) { dx in
                g.scalars.withUnsafeBufferPointer { dy in
                    x.scalars.withUnsafeBufferPointer { v in
                        for r in 0..<rows {
                            let f = r * 2 * P, o = r * P
                            for j in 0..<P {
                                switch mode {
                                case .sum, .concatenate: dx[f + j] = dy[o + j]; dx[f + P + j] = dy[o + j]
                                case .mean: dx[f + j] = dy[o + j] * 0.5; dx[f + P + j] = dy[o + j] * 0.5
                                case .multiply: dx[f + j] = dy[o + j] * v[f + P + j]; dx[f + P + j] = dy[o + j] * v[f + j]
                                }
                            }
                        }
                    }
                }
            }]
        }
    }

    private func runConcatenated(_ input: Variable, h0: Variable?, c0: Variable?, lengths: [Int]?, training: Bool,
                                 layerName: String, embeddedInput: EmbeddedInputRows?) -> (output: Variable, h: Variable, c: Variable?) {
        let c = configuration
        let L = c.numLayers, D = c.numDirections, P = c.outputHiddenSize, H = c.hiddenSize
        let layout = c.batchFirst ? "(batchSize, sequenceLength, \(c.inputSize))" : "(sequenceLength, batchSize, \(c.inputSize))"
        precondition((input.shape.count == 3 || input.shape.count == 2) && input.shape.last == c.inputSize,
                     "\(layerName): input must be \(layout) or unbatched (sequenceLength, \(c.inputSize)), got \(input.shape)")
        if input.shape.count == 2 {
            // Unbatched, as in PyTorch: (T, I) with states (L·D, Hout); run as a batch of one.
            let T = input.shape[0]
            for (state, width, label) in [(h0, P, "h"), (c0, H, "c")] {
                if let state {
                    precondition(state.shape == [L * D, width],
                                 "\(layerName): unbatched initial \(label) must be \([L * D, width]), got \(state.shape)")
                }
            }
            let result = runBatched(input.reshaped([T, 1, c.inputSize]), batchFirst: false,
                                    h0: h0?.reshaped([L * D, 1, P]), c0: c0?.reshaped([L * D, 1, H]),
                                    lengths: lengths, training: training, layerName: layerName)
            return (result.output.reshaped([T, D * P]), result.h.reshaped([L * D, P]), result.c?.reshaped([L * D, H]))
        }
        return runBatched(input, batchFirst: c.batchFirst, h0: h0, c0: c0, lengths: lengths, training: training,
                          layerName: layerName, embeddedInput: embeddedInput)
    }

    private func runBatched(_ input: Variable, batchFirst: Bool, h0: Variable?, c0: Variable?, lengths: [Int]?,
                            training: Bool, layerName: String, embeddedInput: EmbeddedInputRows? = nil)
        -> (output: Variable, h: Variable, c: Variable?) {
        let c = configuration
        let L = c.numLayers, D = c.numDirections, P = c.outputHiddenSize, H = c.hiddenSize
        let T = batchFirst ? input.shape[1] : input.shape[0], B = batchFirst ? input.shape[0] : input.shape[1]
        precondition(T > 0 && B > 0, "\(layerName): input \(input.shape) has an empty sequence or batch")
        if let h0 {
            precondition(h0.shape == [L * D, B, P],
                         "\(layerName): initial h must be (numLayers·numDirections, batchSize, \(c.projSize > 0 ? "projSize" : "hiddenSize")) = \([L * D, B, P]), got \(h0.shape)")
        }
        if let c0 {
            precondition(c.cell.hasCellState, "\(layerName): a \(c.cell) layer has no cell state c")
            precondition(c0.shape == [L * D, B, H],
                         "\(layerName): initial c must be (numLayers·numDirections, batchSize, hiddenSize) = \([L * D, B, H]), got \(c0.shape)")
        }
        if let lengths {
            precondition(lengths.count == B, "\(layerName): \(lengths.count) lengths for a batch of \(B)")
            for (b, length) in lengths.enumerated() where length < 0 || length > T {
                preconditionFailure("\(layerName): length \(length) of row \(b) is outside 0...\(T)")
            }
        }
        if c.usesCellPath(training: training) {
            return runCellPath(input, batchFirst: batchFirst, h0: h0, c0: c0, lengths: lengths, training: training)
        }
        // All rows full: the plain kernels.
        let lengths = lengths.flatMap { $0.allSatisfy { $0 == T } ? nil : $0 }
        var masks: [Tensor?] = Array(repeating: nil, count: L - 1)
        if training && c.dropout > 0 && L > 1 {
            randomSource.with { rng in
                for k in 0..<(L - 1) {
                    masks[k] = Tensor.dropoutMask(shape: [T * B * D * P], probability: c.dropout, using: &rng)
                }
            }
        }
        let stateInputs = [h0, c0].compactMap { $0 }
        // With embedded input rows, the op's first input is the embedding weight: backward returns its
        // gradient directly (the embedding op that made `input` then gets none, and is not run).
        let source = embeddedInput?.weight ?? input
        let inputs = [source] + stateInputs + parameters
        let recording = Tape.isRecording(inputs)
        let values = parameters.map(\.value)
        let result = kernel.forward(input: input.value, batchFirst: batchFirst, h0: h0?.value, c0: c0?.value,
                                    parameters: values, masks: masks, lengths: lengths, embeddedInput: embeddedInput,
                                    saving: recording)
        let outputs = [result.output, result.hN] + (result.cN.map { [$0] } ?? [])
        let kernel = self.kernel
        let trace = result.trace
        let needsParameter = parameters.map(\.requiresGrad)
        let needsInput = source.requiresGrad, needsH0 = h0?.requiresGrad ?? false, needsC0 = c0?.requiresGrad ?? false
        let hasH0 = h0 != nil, hasC0 = c0 != nil
        let variables = Tape.record(layerName, inputs: inputs, outputs: outputs) { grads in
            guard let trace else { preconditionFailure("\(layerName): backward without a saved forward pass") }
            let g = kernel.backward(trace: trace, parameters: values, dOutput: grads[0], dhN: grads[1],
                                    dcN: grads.count > 2 ? grads[2] : nil, needsInput: needsInput,
                                    needsH0: needsH0, needsC0: needsC0, needsParameter: needsParameter)
            var inputGrads: [Tensor?] = [g.dInput]
            if hasH0 { inputGrads.append(g.dh0) }
            if hasC0 { inputGrads.append(g.dc0) }
            return inputGrads + g.dParameters
        }
        return (variables[0], variables[1], variables.count > 2 ? variables[2] : nil)
    }
}
