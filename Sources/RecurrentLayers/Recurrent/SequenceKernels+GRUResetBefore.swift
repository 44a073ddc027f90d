import RecurrentCore

// The fused kernel of the reset-before GRU (Cho et al. 2014; `resetAfter: false`) for one layer and
// direction, gate order r, z, n as in PyTorch:
//   r = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr)
//   z = σ(x W_izᵀ + b_iz + h W_hzᵀ + b_hz)
//   n = tanh(x W_inᵀ + b_in + (r ⊙ h) W_hnᵀ + b_hn)
//   h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
// Every bias folds into the hoisted input projection (b_hn is not multiplied by r here). Each step
// takes two products: h · W_hr,hzᵀ (B × 2H) for r and z, then (r ⊙ h) · W_hnᵀ added to the n block.
// r ⊙ h is kept (rows × H, in `hiddenN`) for backward.
// Backward, with dn, dz the gradients before the nonlinearities:
//   d(r ⊙ h) = dn · W_hn        dr = d(r ⊙ h) ⊙ h ⊙ r(1 − r)
//   dh_{t−1} = dh_t ⊙ z + d(r ⊙ h) ⊙ r + (dr, dz) · W_hr,hz
//   dW_hr,hz = Σ (dr, dz)ᵀ h_{t−1}      dW_hn = Σ dnᵀ (r ⊙ h)      db_hh = db_ih = Σ (dr, dz, dn)

enum GRUResetBeforeSequenceKernel {
    static func forward(_ ctx: FusedDirectionContext, weights w: FusedDirectionWeights, record: FusedDirectionRecord,
                        hN: UnsafeMutablePointer<Float>) {
        let g = ctx.geometry, B = g.batchSize, H = ctx.hiddenSize
        let G = 3 * H, rs = g.batchRowStride
        let gates = record.gates!.pointer, resetHidden = record.hiddenN!.pointer
        let hiddenProduct = FusedBuffer(count: B * 2 * H)
        ctx.hoistInputProjection(weightIH: w.weightIH, biasA: w.biasIH, biasB: w.biasHH, width: G, into: gates)
        let fast = FastGEMM.worthPacking(rows: g.rows)
        let gateProduct = StepWeightProduct(weight: w.weightHH, transposed: true, n: 2 * H, k: H, fast: fast)
        let candidateProduct = StepWeightProduct(weight: w.weightHH + 2 * H * H, transposed: true, n: H, k: H, fast: fast)
        let partition = batchPartition(batchSize: B, fast: fast)
        ctx.forwardSteps(partition) { rows, s, t in
            let first = rows.lowerBound
            let (hPrev, hPrevStride) = ctx.previousH(step: s)
            gateProduct.multiply(m: rows.count, a: hPrev + first * hPrevStride, lda: hPrevStride, beta: 0,
                                 c: hiddenProduct.pointer + first * 2 * H, ldc: 2 * H)
            for b in rows {
                let row = g.row(t, b)
                let gr = gates + row * G, hp = hiddenProduct.pointer + b * 2 * H
                let hb = hPrev + b * hPrevStride, rh = resetHidden + row * H
                for j in 0..<(2 * H) { gr[j] += hp[j] }
                VectorizedActivation.sigmoid(gr, gr, count: 2 * H)
                for j in 0..<H { rh[j] = gr[j] * hb[j] }
            }
            // n block += (r ⊙ h) · W_hnᵀ
            candidateProduct.multiply(m: rows.count, a: resetHidden + g.row(t, first) * H, lda: rs * H, beta: 1,
                                      c: gates + g.row(t, first) * G + 2 * H, ldc: rs * G)
            for b in rows {
                let row = g.row(t, b)
                let gr = gates + row * G, hb = hPrev + b * hPrevStride
                let out = ctx.output + row * ctx.outputWidth + ctx.column
                gruFinishRow(hiddenSize: H, gates: gr, hPrev: hb, output: out)
            }
            ctx.carryInactiveRows(step: s, rows: rows)
        }
        ctx.copyFinalHidden(into: hN)
    }

    /// BPTT through one direction; `dh` (B × H) holds dh_n on entry and dh_0 on return.
    static func backward(_ ctx: FusedDirectionContext, weights w: FusedDirectionWeights, record: FusedDirectionRecord,
                         dOutput: UnsafePointer<Float>, dh: UnsafeMutablePointer<Float>,
                         dInput: UnsafeMutablePointer<Float>?, gradients: FusedDirectionGradients) {
        let g = ctx.geometry, B = g.batchSize, H = ctx.hiddenSize
        let G = 3 * H, rs = g.batchRowStride
        let gates = record.gates!.pointer, resetHidden = record.hiddenN!.pointer
        let dGates = FusedBuffer(count: g.rows * G)
        let dResetHidden = FusedBuffer(count: B * H)
        let fast = FastGEMM.worthPacking(rows: g.rows)
        let candidateProduct = StepWeightProduct(weight: w.weightHH + 2 * H * H, transposed: false, n: H, k: H, fast: fast)
        let gateProduct = StepWeightProduct(weight: w.weightHH, transposed: false, n: H, k: 2 * H, fast: fast)
        let partition = batchPartition(batchSize: B, fast: fast)
        ctx.backwardSteps(partition, dOutput: dOutput, dh: dh) { rows, s, t in
            let first = rows.lowerBound
            let (hPrev, hPrevStride) = ctx.previousH(step: s)
            for b in rows where g.isActive(t, b) {
                let row = g.row(t, b)
                let gr = gates + row * G, hb = hPrev + b * hPrevStride
                let dg = dGates.pointer + row * G, dhb = dh + b * H
                for j in 0..<H {
                    let z = gr[H + j], n = gr[2 * H + j], d = dhb[j]
                    dg[2 * H + j] = d * (1 - z) * (1 - n * n)
                    dg[H + j] = d * (hb[j] - n) * z * (1 - z)
                    dhb[j] = d * z
                }
            }
            ctx.clearInactiveRows(time: t, rows: rows, width: G, dGates.pointer)
            // d(r ⊙ h) = dn · W_hn
            candidateProduct.multiply(m: rows.count, a: dGates.pointer + g.row(t, first) * G + 2 * H, lda: rs * G,
                                      beta: 0, c: dResetHidden.pointer + first * H, ldc: H)
            for b in rows where g.isActive(t, b) {
                let row = g.row(t, b)
                let gr = gates + row * G, hb = hPrev + b * hPrevStride
                let dg = dGates.pointer + row * G, dhb = dh + b * H, drh = dResetHidden.pointer + b * H
                for j in 0..<H {
                    let r = gr[j]
                    dg[j] = drh[j] * hb[j] * r * (1 - r)
                    dhb[j] += drh[j] * r
                }
            }
            // dh_{t−1} += (dr, dz) · W_hr,hz (zero rows for inactive steps: dh passes through)
            gateProduct.multiply(m: rows.count, a: dGates.pointer + g.row(t, first) * G, lda: rs * G, beta: 1,
                                 c: dh + first * H, ldc: H)
        }
        // W_hh's n block met r ⊙ h, not h: finishBackward's n rows are replaced below.
        ctx.finishBackward(dGates: dGates.pointer, dGatesHidden: dGates.pointer, width: G, weightIH: w.weightIH,
                           gradients: gradients, dInput: dInput)
        if let dW = gradients.weightHH {
            FastGEMM.gemm(transposeA: true, transposeB: false, m: H, n: H, k: g.rows, a: dGates.pointer + 2 * H, lda: G,
                          b: resetHidden, ldb: H, beta: 0, c: dW + 2 * H * H, ldc: H)
        }
    }
}
