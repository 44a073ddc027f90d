import RecurrentCore

// The fused Elman RNN kernel for one layer and direction:
//   h_t = act(x W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh), act = tanh or relu.
// Backward needs only h_t (the layer output): tanh' = 1 − h², relu' = [h > 0].

enum RNNSequenceKernel {
    static func forward(_ ctx: FusedDirectionContext, weights w: FusedDirectionWeights, relu: Bool,
                        hN: UnsafeMutablePointer<Float>) {
        let g = ctx.geometry, B = g.batchSize, H = ctx.hiddenSize, rs = g.batchRowStride
        let preActivation = FusedBuffer(count: g.rows * H)
        ctx.hoistInputProjection(weightIH: w.weightIH, biasA: w.biasIH, biasB: w.biasHH, width: H,
                                 into: preActivation.pointer)
        let fast = FastGEMM.worthPacking(rows: g.rows)
        let recurrentProduct = StepWeightProduct(weight: w.weightHH, transposed: true, n: H, k: H, fast: fast)
        let partition = batchPartition(batchSize: B, fast: fast)
        ComputeThreads.run(partition.count) { part in
            let rows = partition[part]
            for s in 0..<g.sequenceLength {
                let t = g.time(step: s, reverse: ctx.reverse)
                let (hPrev, hPrevStride) = ctx.previousH(step: s)
                let step = preActivation.pointer + g.row(t, 0) * H
                recurrentProduct.multiply(m: rows.count, a: hPrev + rows.lowerBound * hPrevStride, lda: hPrevStride, beta: 1,
                                          c: step + rows.lowerBound * rs * H, ldc: rs * H)
                for b in rows {
                    let source = step + b * rs * H
                    let out = ctx.output + g.row(t, b) * ctx.outputWidth + ctx.column
                    if relu {
                        for j in 0..<H { out[j] = source[j] > 0 ? source[j] : 0 }
                    } else {
                        VectorizedActivation.tanh(source, out, count: H)
                    }
                }
                ctx.carryInactiveRows(step: s, rows: rows)
            }
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
        ComputeThreads.run(partition.count) { part in
            let rows = partition[part]
            for s in stride(from: g.sequenceLength - 1, through: 0, by: -1) {
                let t = g.time(step: s, reverse: ctx.reverse)
                ctx.addOutputGradient(dOutput, time: t, rows: rows, into: dh)
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
        }
        ctx.finishBackward(dGates: dPre.pointer, dGatesHidden: dPre.pointer, width: H, weightIH: w.weightIH,
                           gradients: gradients, dInput: dInput)
    }
}
