import RecurrentCore

// The fused LSTM kernel for one layer and direction (PyTorch gate order i, f, g, o):
//   i = σ(x W_iiᵀ + b_ii + h W_hiᵀ + b_hi [+ w_ci ⊙ c_{t−1}])
//   f = σ(x W_ifᵀ + b_if + h W_hfᵀ + b_hf [+ w_cf ⊙ c_{t−1}])
//   g = tanh(x W_igᵀ + b_ig + h W_hgᵀ + b_hg)
//   c_t = f ⊙ c_{t−1} + i ⊙ g
//   o = σ(x W_ioᵀ + b_io + h W_hoᵀ + b_ho [+ w_co ⊙ c_t])
//   h_t = o ⊙ tanh(c_t)            (then h_t · W_hrᵀ with a projection)
// Buffers (rows = T·B): gates rows × 4H (activations, kept for backward), cells rows × H,
// unprojected rows × H (projection only).

enum LSTMSequenceKernel {
    static func forward(_ ctx: FusedDirectionContext, weights w: FusedDirectionWeights, record: FusedDirectionRecord,
                        hN: UnsafeMutablePointer<Float>, cN: UnsafeMutablePointer<Float>) {
        let g = ctx.geometry, B = g.batchSize, H = ctx.hiddenSize, P = ctx.outputHiddenSize
        let G = 4 * H, rs = g.batchRowStride
        let gates = record.gates!.pointer, cells = record.cells!.pointer
        let unprojected = record.unprojected?.pointer
        let c0 = ctx.c0!
        ctx.hoistInputProjection(weightIH: w.weightIH, biasA: w.biasIH, biasB: w.biasHH, width: G, into: gates)

        for s in 0..<g.sequenceLength {
            let t = g.time(step: s, reverse: ctx.reverse)
            let (hPrev, hPrevStride) = ctx.previousH(step: s)
            let cPrev: UnsafePointer<Float>, cPrevStride: Int
            if s == 0 {
                cPrev = c0; cPrevStride = H
            } else {
                cPrev = UnsafePointer(cells + g.row(g.time(step: s - 1, reverse: ctx.reverse), 0) * H); cPrevStride = rs * H
            }
            let gateStep = gates + g.row(t, 0) * G, gateStride = rs * G
            // gates_t += h_{t−1} · W_hhᵀ
            stepProduct(m: B, n: G, k: P, a: hPrev, lda: hPrevStride, weight: w.weightHH, beta: 1, c: gateStep, ldc: gateStride)
            for b in 0..<B {
                let gr = gateStep + b * gateStride
                let cp = cPrev + b * cPrevStride
                let c = cells + g.row(t, b) * H
                if let wci = w.weightCI, let wcf = w.weightCF {
                    for j in 0..<H {
                        gr[j] += wci[j] * cp[j]
                        gr[H + j] += wcf[j] * cp[j]
                    }
                }
                VectorizedActivation.sigmoid(gr, gr, count: 2 * H)
                VectorizedActivation.tanh(gr + 2 * H, gr + 2 * H, count: H)
                for j in 0..<H { c[j] = gr[H + j] * cp[j] + gr[j] * gr[2 * H + j] }
                if let wco = w.weightCO {
                    for j in 0..<H { gr[3 * H + j] += wco[j] * c[j] }
                }
                VectorizedActivation.sigmoid(gr + 3 * H, gr + 3 * H, count: H)
                let h = unprojected.map { $0 + g.row(t, b) * H } ?? (ctx.output + g.row(t, b) * ctx.outputWidth + ctx.column)
                VectorizedActivation.tanh(c, h, count: H)
                for j in 0..<H { h[j] *= gr[3 * H + j] }
            }
            if let unprojected, let weightHR = w.weightHR {
                stepProduct(m: B, n: P, k: H, a: unprojected + g.row(t, 0) * H, lda: rs * H, weight: weightHR,
                            beta: 0, c: ctx.output + g.row(t, 0) * ctx.outputWidth + ctx.column, ldc: rs * ctx.outputWidth)
            }
        }
        ctx.copyFinalHidden(into: hN)
        let tLast = g.time(step: g.sequenceLength - 1, reverse: ctx.reverse)
        copyBlock(cells + g.row(tLast, 0) * H, sourceStride: rs * H, cN, destinationStride: H, rows: B, width: H)
    }

    /// BPTT through one direction. On entry `dh` (B × Hout) and `dc` (B × H) hold the gradients of the
    /// final state; on return they hold the gradients of the initial state. `dOutput` is rows × D·Hout.
    static func backward(_ ctx: FusedDirectionContext, weights w: FusedDirectionWeights, record: FusedDirectionRecord,
                         dOutput: UnsafePointer<Float>, dh: UnsafeMutablePointer<Float>, dc: UnsafeMutablePointer<Float>,
                         dInput: UnsafeMutablePointer<Float>?, gradients: FusedDirectionGradients) {
        let g = ctx.geometry, B = g.batchSize, H = ctx.hiddenSize, P = ctx.outputHiddenSize
        let G = 4 * H, rs = g.batchRowStride
        let gates = record.gates!.pointer, cells = record.cells!.pointer
        let c0 = ctx.c0!
        let peephole = w.weightCI != nil
        let dGates = FusedBuffer(count: g.rows * G)
        let tanhC = FusedBuffer(count: H)
        // Projection: dh_t saved for dW_hr, and the gradient of the unprojected h.
        let projected = w.weightHR != nil
        let dUnprojected = projected ? FusedBuffer(count: B * H) : nil
        let dHidden = projected && gradients.weightHR != nil ? FusedBuffer(count: g.rows * P) : nil
        // Peephole gradients accumulate over steps.
        let dPeep = peephole ? FusedBuffer(count: 3 * H, zeroed: true) : nil
        let zeroH = FusedBuffer(count: H, zeroed: true)
        let zero = UnsafePointer(zeroH.pointer)
        let wci = w.weightCI ?? zero, wcf = w.weightCF ?? zero, wco = w.weightCO ?? zero

        for s in stride(from: g.sequenceLength - 1, through: 0, by: -1) {
            let t = g.time(step: s, reverse: ctx.reverse)
            ctx.addOutputGradient(dOutput, time: t, into: dh)
            let dhUnprojected: UnsafePointer<Float>
            if let dUnprojected, let weightHR = w.weightHR {
                if let dHidden {
                    copyBlock(dh, sourceStride: P, dHidden.pointer + g.row(t, 0) * P, destinationStride: rs * P, rows: B, width: P)
                }
                stepProductUntransposed(m: B, n: H, k: P, a: dh, lda: P, weight: weightHR, beta: 0,
                                        c: dUnprojected.pointer, ldc: H)
                dhUnprojected = UnsafePointer(dUnprojected.pointer)
            } else {
                dhUnprojected = UnsafePointer(dh)
            }
            let cPrev: UnsafePointer<Float>, cPrevStride: Int
            if s == 0 {
                cPrev = c0; cPrevStride = H
            } else {
                cPrev = UnsafePointer(cells + g.row(g.time(step: s - 1, reverse: ctx.reverse), 0) * H); cPrevStride = rs * H
            }
            for b in 0..<B {
                let gr = gates + g.row(t, b) * G
                let c = cells + g.row(t, b) * H
                let cp = cPrev + b * cPrevStride
                let dg = dGates.pointer + g.row(t, b) * G
                let dhb = dhUnprojected + b * H
                let dcb = dc + b * H
                let tc = tanhC.pointer
                VectorizedActivation.tanh(c, tc, count: H)
                if peephole {
                    let dci = dPeep!.pointer, dcf = dci + H, dco = dci + 2 * H
                    for j in 0..<H {
                        let i = gr[j], f = gr[H + j], gg = gr[2 * H + j], o = gr[3 * H + j], tcj = tc[j]
                        let dO = dhb[j] * tcj * o * (1 - o)
                        let dcj = dcb[j] + dhb[j] * o * (1 - tcj * tcj) + dO * wco[j]
                        let dI = dcj * gg * i * (1 - i)
                        let dF = dcj * cp[j] * f * (1 - f)
                        dg[j] = dI
                        dg[H + j] = dF
                        dg[2 * H + j] = dcj * i * (1 - gg * gg)
                        dg[3 * H + j] = dO
                        dcb[j] = dcj * f + dI * wci[j] + dF * wcf[j]
                        dci[j] += dI * cp[j]
                        dcf[j] += dF * cp[j]
                        dco[j] += dO * c[j]
                    }
                } else {
                    for j in 0..<H {
                        let i = gr[j], f = gr[H + j], gg = gr[2 * H + j], o = gr[3 * H + j], tcj = tc[j]
                        let dcj = dcb[j] + dhb[j] * o * (1 - tcj * tcj)
                        dg[j] = dcj * gg * i * (1 - i)
                        dg[H + j] = dcj * cp[j] * f * (1 - f)
                        dg[2 * H + j] = dcj * i * (1 - gg * gg)
                        dg[3 * H + j] = dhb[j] * tcj * o * (1 - o)
                        dcb[j] = dcj * f
                    }
                }
            }
            // dh_{t−1} = dgates_t · W_hh
            stepProductUntransposed(m: B, n: P, k: G, a: dGates.pointer + g.row(t, 0) * G, lda: rs * G,
                                    weight: w.weightHH, beta: 0, c: dh, ldc: P)
        }

        ctx.finishBackward(dGates: dGates.pointer, dGatesHidden: dGates.pointer, width: G, weightIH: w.weightIH,
                           gradients: gradients, dInput: dInput)
        if let dW = gradients.weightHR, let dHidden, let unprojected = record.unprojected {
            BLAS.gemm(transposeA: true, transposeB: false, m: P, n: H, k: g.rows, a: dHidden.pointer, lda: P,
                      b: unprojected.pointer, ldb: H, beta: 0, c: dW, ldc: H)
        }
        if let dPeep {
            if let d = gradients.weightCI { d.update(from: dPeep.pointer, count: H) }
            if let d = gradients.weightCF { d.update(from: dPeep.pointer + H, count: H) }
            if let d = gradients.weightCO { d.update(from: dPeep.pointer + 2 * H, count: H) }
        }
    }
}
