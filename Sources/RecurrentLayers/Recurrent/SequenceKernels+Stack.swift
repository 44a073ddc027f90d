import RecurrentCore

// Runs the fused kernels over all layers and directions, and back.
//
// Layer k reads the output of layer k − 1 (rows × D·Hout, forward and reverse halves side by side),
// after the dropout mask when training. Direction d of layer k owns state index k·D + d and writes
// its h_t into columns d·Hout ..< (d + 1)·Hout of the layer output at the original time index.

/// What the backward pass of one fused call needs; kept alive by the tape node's closure.
final class FusedSequenceTrace {
    let geometry: SequenceGeometry
    /// Per layer: its input, rows × I_k (after dropout for k > 0).
    let layerInputs: [FusedBuffer]
    /// Per layer: its output before dropout, rows × D·Hout.
    let layerOutputs: [FusedBuffer]
    /// Per layer boundary k → k + 1: the dropout mask (0 or 1/(1 − p)), or nil without dropout.
    let masks: [FusedBuffer?]
    /// `[layer][direction]`.
    let records: [[FusedDirectionRecord]]
    /// Initial states, (L·D, B, Hout) and (L·D, B, H).
    let h0: FusedBuffer
    let c0: FusedBuffer?
    /// Layer 0's input as embedding rows: backward then returns the embedding's gradient (V × I).
    let embeddedInput: EmbeddedInputRows?

    init(geometry: SequenceGeometry, layerInputs: [FusedBuffer], layerOutputs: [FusedBuffer], masks: [FusedBuffer?],
         records: [[FusedDirectionRecord]], h0: FusedBuffer, c0: FusedBuffer?, embeddedInput: EmbeddedInputRows?) {
        self.geometry = geometry
        self.layerInputs = layerInputs
        self.layerOutputs = layerOutputs
        self.masks = masks
        self.records = records
        self.h0 = h0
        self.c0 = c0
        self.embeddedInput = embeddedInput
    }
}

/// The fused forward and backward passes of a whole multi-layer, optionally bidirectional stack.
struct FusedSequenceKernel {
    let configuration: RecurrentLayerConfiguration
    let slots: [[FusedParameterSlots]]

    init(configuration: RecurrentLayerConfiguration) {
        self.configuration = configuration
        self.slots = FusedParameterSlots.layout(of: configuration)
    }

    var hasCellState: Bool { configuration.cell.hasCellState }

    private func context(_ geometry: SequenceGeometry, layer: Int, direction: Int, input: FusedBuffer,
                         output: FusedBuffer, h0: FusedBuffer, c0: FusedBuffer?) -> FusedDirectionContext {
        let c = configuration, P = c.outputHiddenSize, B = geometry.batchSize
        let state = layer * c.numDirections + direction
        return FusedDirectionContext(
            geometry: geometry, hiddenSize: c.hiddenSize, outputHiddenSize: P,
            inputWidth: c.layerInputSize(layer), outputWidth: c.numDirections * P, column: direction * P,
            reverse: direction == 1, input: input.pointer, output: output.pointer,
            h0: h0.pointer + state * B * P, c0: c0.map { UnsafePointer($0.pointer + state * B * c.hiddenSize) })
    }

    /// Runs the stack forward.
    ///
    /// - Parameters:
    ///   - input: (T, B, I), or (B, T, I) when `batchFirst`.
    ///   - h0: (L·D, B, Hout) or nil for zeros; `c0`: (L·D, B, H) for LSTM, or nil for zeros.
    ///   - parameters: the values in `parameterShapes` order.
    ///   - masks: L − 1 dropout masks (rows × D·Hout) or nil entries.
    ///   - embeddedInput: the tokens and embedding whose rows the input is (layer 0 of a language model);
    ///     backward then returns the gradient of the embedding weight instead of the input's.
    ///   - saving: whether to keep what backward needs.
    /// - Returns: output (T, B, D·Hout) or (B, T, D·Hout), h_n (L·D, B, Hout), c_n (L·D, B, H) for LSTM.
    func forward(input: Tensor, batchFirst: Bool, h0: Tensor?, c0: Tensor?, parameters: [Tensor],
                 masks: [Tensor?], lengths: [Int]? = nil, embeddedInput: EmbeddedInputRows? = nil, saving: Bool)
        -> (output: Tensor, hN: Tensor, cN: Tensor?, trace: FusedSequenceTrace?) {
        let c = configuration
        let T = batchFirst ? input.shape[1] : input.shape[0], B = batchFirst ? input.shape[0] : input.shape[1]
        let geometry = SequenceGeometry(sequenceLength: T, batchSize: B, batchFirst: batchFirst, lengths: lengths)
        let L = c.numLayers, D = c.numDirections, H = c.hiddenSize, P = c.outputHiddenSize, rows = geometry.rows
        let stateCount = L * D * B
        let h0Buffer = h0.map(FusedBuffer.init(copying:)) ?? FusedBuffer(count: stateCount * P, zeroed: true)
        let c0Buffer: FusedBuffer? = hasCellState ? (c0.map(FusedBuffer.init(copying:)) ?? FusedBuffer(count: stateCount * H, zeroed: true)) : nil
        let hN = FusedBuffer(count: stateCount * P)
        let cN: FusedBuffer? = hasCellState ? FusedBuffer(count: stateCount * H) : nil
        let maskBuffers = masks.map { $0.map(FusedBuffer.init(copying:)) }

        var layerInputs: [FusedBuffer] = []
        var layerOutputs: [FusedBuffer] = []
        var records: [[FusedDirectionRecord]] = []
        var layerInput = FusedBuffer(copying: input)
        withScalarPointers(parameters) { p in
            for k in 0..<L {
                let output = FusedBuffer(count: rows * D * P)
                var layerRecords: [FusedDirectionRecord] = []
                for d in 0..<D {
                    var ctx = context(geometry, layer: k, direction: d, input: layerInput, output: output, h0: h0Buffer, c0: c0Buffer)
                    if k == 0 { ctx.embeddedInput = embeddedInput }
                    let weights = slots[k][d].weights(p)
                    let state = k * D + d
                    let record = c.cell.kernel.makeRecord(rows: rows, c)
                    c.cell.kernel.forward(ctx, c, weights: weights, record: record, hN: hN.pointer + state * B * P,
                                          cN: cN.map { $0.pointer + state * B * H })
                    if saving { layerRecords.append(record) }
                }
                if saving {
                    layerInputs.append(layerInput)
                    layerOutputs.append(output)
                    records.append(layerRecords)
                }
                if k < L - 1, let mask = maskBuffers[k] {
                    let next = FusedBuffer(count: output.count)
                    for i in 0..<output.count { next.pointer[i] = output.pointer[i] * mask.pointer[i] }
                    layerInput = next
                } else {
                    layerInput = output
                }
            }
        }
        let outputShape = batchFirst ? [B, T, D * P] : [T, B, D * P]
        let trace = saving ? FusedSequenceTrace(geometry: geometry, layerInputs: layerInputs, layerOutputs: layerOutputs,
                                                masks: maskBuffers, records: records, h0: h0Buffer, c0: c0Buffer,
                                                embeddedInput: embeddedInput) : nil
        return (geometry.zeroingPadding(layerInput.tensor(shape: outputShape)), hN.tensor(shape: [L * D, B, P]),
                cN?.tensor(shape: [L * D, B, H]), trace)
    }

    /// BPTT through the whole stack.
    ///
    /// - Parameters:
    ///   - dOutput: the gradient of the output; `dhN`, `dcN`: of the final states (zeros when unused).
    ///   - needsParameter: per parameter in `parameterShapes` order, whether its gradient is wanted.
    /// - Returns: dInput, dh0, dc0 (nil where not needed) and each wanted parameter gradient. With an
    ///   embedded input (`trace.embeddedInput`), dInput is the gradient of the embedding weight (V × I).
    func backward(trace: FusedSequenceTrace, parameters: [Tensor], dOutput: Tensor, dhN: Tensor, dcN: Tensor?,
                  needsInput: Bool, needsH0: Bool, needsC0: Bool, needsParameter: [Bool])
        -> (dInput: Tensor?, dh0: Tensor?, dc0: Tensor?, dParameters: [Tensor?]) {
        let c = configuration, g = trace.geometry
        let L = c.numLayers, D = c.numDirections, H = c.hiddenSize, P = c.outputHiddenSize
        let B = g.batchSize, rows = g.rows
        // Layer k needs BPTT when anything at or below it, or the initial state, wants a gradient.
        let below = needsInput || needsH0 || needsC0
        let lowest = (0..<L).first { k in below || (0...k).contains { l in slots[l].contains { s in s.all.contains { needsParameter[$0] } } } } ?? L
        let shapes = c.parameterShapes.map(\.shape)
        let dParameterBuffers: [FusedBuffer?] = needsParameter.enumerated().map { i, needed in
            needed ? FusedBuffer(count: shapes[i].reduce(1, *), zeroed: true) : nil
        }
        let dh = FusedBuffer(copying: dhN)
        let dc = dcN.map(FusedBuffer.init(copying:))
        var dInput: FusedBuffer?
        if lowest < L {
            var dOut = FusedBuffer(copying: g.zeroingPadding(dOutput))
            withScalarPointers(parameters) { p in
                for k in stride(from: L - 1, through: lowest, by: -1) {
                    let needsDX = k > lowest || needsInput
                    let embedded = k == 0 ? trace.embeddedInput : nil
                    let dXRows = embedded?.vocabularySize ?? rows
                    let dX = needsDX ? FusedBuffer(count: dXRows * c.layerInputSize(k), zeroed: true) : nil
                    for d in 0..<D {
                        var ctx = context(g, layer: k, direction: d, input: trace.layerInputs[k], output: trace.layerOutputs[k],
                                          h0: trace.h0, c0: trace.c0)
                        ctx.embeddedInput = embedded
                        let weights = slots[k][d].weights(p)
                        let gradients = slots[k][d].gradients(dParameterBuffers)
                        let record = trace.records[k][d]
                        let state = k * D + d
                        c.cell.kernel.backward(ctx, c, weights: weights, record: record, dOutput: dOut.pointer,
                                               dh: dh.pointer + state * B * P, dc: dc.map { $0.pointer + state * B * H },
                                               dInput: dX?.pointer, gradients: gradients)
                    }
                    guard let dX else { continue }
                    if k > 0 {
                        if let mask = trace.masks[k - 1] {
                            for i in 0..<dX.count { dX.pointer[i] *= mask.pointer[i] }
                        }
                        dOut = dX
                    } else {
                        dInput = dX
                    }
                }
            }
        }
        let inputShape = trace.embeddedInput.map { [$0.vocabularySize, c.inputSize] }
            ?? (g.batchFirst ? [B, g.sequenceLength, c.inputSize] : [g.sequenceLength, B, c.inputSize])
        return (needsInput ? dInput?.tensor(shape: inputShape) : nil,
                needsH0 ? dh.tensor(shape: [L * D, B, P]) : nil,
                needsC0 ? dc?.tensor(shape: [L * D, B, H]) : nil,
                dParameterBuffers.enumerated().map { i, buffer in buffer?.tensor(shape: shapes[i]) })
    }
}
