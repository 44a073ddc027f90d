import RecurrentCore

// The fused Elman RNN kernel for one layer and direction:
//   h_t = act(x W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh), act = tanh or relu.
// Backward needs only h_t (the layer output): tanh' = 1 − h², relu' = [h > 0].

enum RNNSequenceKernel {
    /// One row of a step: `output` (H) = act(`preActivation`) (they may be the same buffer).
    @inline(__always)
    static func forwardRow(hiddenSize H: Int, preActivation: UnsafePointer<Float>, relu: Bool, output: UnsafeMutablePointer<Float>) {
        if relu {
            for j in 0..<H { output[j] = preActivation[j] > 0 ? preActivation[j] : 0 }
        } else {
            VectorizedActivation.tanh(preActivation, output, count: H)
        }
    }

    static func forward(_ ctx: FusedDirectionContext, weights w: FusedDirectionWeights, relu: Bool,
                        hN: UnsafeMutablePointer<Float>) {
        let g = ctx.geometry, B = g.batchSize, H = ctx.hiddenSize, rs = g.batchRowStride
        let preActivation = FusedBuffer(count: g.rows * H)
        ctx.hoistInputProjection(weightIH: w.weightIH, biasA: w.biasIH, biasB: w.biasHH, width: H,
                                 into: preActivation.pointer)
        let fast = FastGEMM.worthPacking(rows: g.rows)
        let recurrentProduct = StepWeightProduct(weight: w.weightHH, transposed: true, n: H, k: H, fast: fast)
        let partition = batchPartition(batchSize: B, fast: fast)
        ctx.forwardSteps(partition) { rows, s, t in
            let (hPrev, hPrevStride) = ctx.previousH(step: s)
            let step = preActivation.pointer + g.row(t, 0) * H
            recurrentProduct.multiply(m: rows.count, a: hPrev + rows.lowerBound * hPrevStride, lda: hPrevStride, beta: 1,
                                      c: step + rows.lowerBound * rs * H, ldc: rs * H)
            for b in rows {
                forwardRow(hiddenSize: H, preActivation: step + b * rs * H, relu: relu,
                           output: ctx.output + g.row(t, b) * ctx.outputWidth + ctx.column)
            }
            ctx.carryInactiveRows(step: s, rows: rows)
        }
        ctx.copyFinalHidden(into: hN)
    }

    /// BPTT through one direction; `dh` (B × H) holds dh_n on entry and dh_0 on return.
    static func backward(_ ctx: FusedDirectionContext, weights w: FusedDirectionWeights, relu: Bool,
                         dOutput: UnsafePointer<Float>, dh: UnsafeMutablePointer<Float>,
                         dInput: UnsafeMutablePointer<Float>?, gradients: FusedDirectionGradients) {
        let g = ctx.geometry, B = g.batchSize, H = ctx.hiddenSize, rs = g.batchRowStride
        let dPre = FusedBuffer(count: g.rows * H)
        let fast = FastGEMM.worthPacking(rows: g.rows)
        let recurrentProduct = StepWeightProduct(weight: w.weightHH, transposed: false, n: H, k: H, fast: fast)
        let partition = batchPartition(batchSize: B, fast: fast)
        ctx.backwardSteps(partition, dOutput: dOutput, dh: dh) { rows, s, t in
            for b in rows where g.isActive(t, b) {
                let h = ctx.output + g.row(t, b) * ctx.outputWidth + ctx.column
                let d = dPre.pointer + g.row(t, b) * H
                let dhb = dh + b * H
                if relu {
                    for j in 0..<H { d[j] = h[j] > 0 ? dhb[j] : 0 }
                } else {
                    for j in 0..<H { d[j] = dhb[j] * (1 - h[j] * h[j]) }
                }
            }
            ctx.clearInactiveRows(time: t, rows: rows, width: H, dPre.pointer)
            let beta = ctx.zeroActiveRows(time: t, rows: rows, dh: dh, width: H)
            recurrentProduct.multiply(m: rows.count, a: dPre.pointer + g.row(t, rows.lowerBound) * H, lda: rs * H,
                                      beta: beta, c: dh + rows.lowerBound * H, ldc: H)
        }
        ctx.finishBackward(dGates: dPre.pointer, dGatesHidden: dPre.pointer, width: H, weightIH: w.weightIH,
                           gradients: gradients, dInput: dInput)
    }
}

extension RNNSequenceKernel: CellKernel {
    static func makeLayer(_ core: FusedSequenceLayer) -> any RecurrentLayer { RNN(core: core) }
    static var gateCount: Int { 1 }

    static func validate(_ c: RecurrentLayerConfiguration) throws {
        try requireNoProjectionOrPeephole(c)
        try requireResetAfter(c)
    }

    static func makeRecord(rows: Int, _ c: RecurrentLayerConfiguration) -> FusedDirectionRecord { FusedDirectionRecord() }

    static func forward(_ ctx: FusedDirectionContext, _ c: RecurrentLayerConfiguration, weights: FusedDirectionWeights,
                        record: FusedDirectionRecord, hN: UnsafeMutablePointer<Float>, cN: UnsafeMutablePointer<Float>?) {
        forward(ctx, weights: weights, relu: c.cell == .rnn(.relu), hN: hN)
    }

    static func backward(_ ctx: FusedDirectionContext, _ c: RecurrentLayerConfiguration, weights: FusedDirectionWeights,
                         record: FusedDirectionRecord, dOutput: UnsafePointer<Float>, dh: UnsafeMutablePointer<Float>,
                         dc: UnsafeMutablePointer<Float>?, dInput: UnsafeMutablePointer<Float>?,
                         gradients: FusedDirectionGradients) {
        backward(ctx, weights: weights, relu: c.cell == .rnn(.relu), dOutput: dOutput, dh: dh, dInput: dInput,
                 gradients: gradients)
    }

    static func cellPathDirection(_ c: RecurrentLayerConfiguration, inputSize: Int,
                                  parameters p: CellPathParameters) throws -> CellPathDirection {
        guard case .rnn(let nonlinearity) = c.cell else { preconditionFailure("RNNSequenceKernel: not an RNN configuration") }
        let cell = RNNCell(inputSize: inputSize, hiddenSize: c.hiddenSize, nonlinearity: nonlinearity,
                           weightIH: p("weight_ih"), weightHH: p("weight_hh"), biasIH: p.biasIH, biasHH: p.biasHH,
                           layerNormIH: p.norm("ln_ih"), layerNormHH: p.norm("ln_hh"))
        return try RecurrentLayers.cellPathDirection(cell, recurrentDropout: c.recurrentDropout, zoneout: c.zoneout, source: p.source,
                                                     state: { h0, _, b in h0 ?? p.zeros(b) }, components: { ($0, nil) })
    }

    static func makeStepCell(inputSize: Int, hiddenSize: Int, using rng: inout RandomGenerator) throws -> StepCell {
        StepCell(try RNNCell(inputSize: inputSize, hiddenSize: hiddenSize, using: &rng), hasCellState: false,
                 state: { $0.h }, components: { CellState(h: $0, c: nil) })
    }

    static func stepsRows(_ c: RecurrentLayerConfiguration) -> Bool { true }

    static func stepRow(_ c: RecurrentLayerConfiguration, hiddenSize H: Int, gates: UnsafeMutablePointer<Float>,
                        hidden: UnsafePointer<Float>, vectors: CellRowVectors, h: UnsafeMutablePointer<Float>,
                        c cell: UnsafeMutablePointer<Float>) {
        forwardRow(hiddenSize: H, preActivation: gates, relu: c.cell == .rnn(.relu), output: h)
    }
}
