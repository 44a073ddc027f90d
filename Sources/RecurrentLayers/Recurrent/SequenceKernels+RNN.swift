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
        for s in 0..<g.sequenceLength {
            let t = g.time(step: s, reverse: ctx.reverse)
            let (hPrev, hPrevStride) = ctx.previousH(step: s)
            let step = preActivation.pointer + g.row(t, 0) * H
            stepProduct(m: B, n: H, k: H, a: hPrev, lda: hPrevStride, weight: w.weightHH, beta: 1, c: step, ldc: rs * H)
            for b in 0..<B {
                let source = step + b * rs * H
                let out = ctx.output + g.row(t, b) * ctx.outputWidth + ctx.column
                if relu {
                    for j in 0..<H { out[j] = source[j] > 0 ? source[j] : 0 }
                } else {
                    VectorizedActivation.tanh(source, out, count: H)
                }
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
        for s in stride(from: g.sequenceLength - 1, through: 0, by: -1) {
            let t = g.time(step: s, reverse: ctx.reverse)
            ctx.addOutputGradient(dOutput, time: t, into: dh)
            for b in 0..<B {
                let h = ctx.output + g.row(t, b) * ctx.outputWidth + ctx.column
                let d = dPre.pointer + g.row(t, b) * H
                let dhb = dh + b * H
                if relu {
                    for j in 0..<H { d[j] = h[j] > 0 ? dhb[j] : 0 }
                } else {
                    for j in 0..<H { d[j] = dhb[j] * (1 - h[j] * h[j]) }
                }
            }
            stepProductUntransposed(m: B, n: H, k: H, a: dPre.pointer + g.row(t, 0) * H, lda: rs * H,
                                    weight: w.weightHH, beta: 0, c: dh, ldc: H)
        }
        ctx.finishBackward(dGates: dPre.pointer, dGatesHidden: dPre.pointer, width: H, weightIH: w.weightIH,
                           gradients: gradients, dInput: dInput)
    }
}
