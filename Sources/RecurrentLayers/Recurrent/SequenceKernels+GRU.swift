import RecurrentCore

// The fused GRU kernel for one layer and direction (PyTorch gate order r, z, n):
//   r = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr)
//   z = σ(x W_izᵀ + b_iz + h W_hzᵀ + b_hz)
//   n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn))
//   h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
// b_hr and b_hz fold into the hoisted input projection; b_hn cannot (r multiplies it), so the per-step
// product h · W_hhᵀ goes to a B × 3H scratch and W_hn h + b_hn is kept (rows × H) for backward.
// Backward: the input-side gate gradients are (dr, dz, dn) before the nonlinearities; the hidden-side
// ones are (dr, dz, dn ⊙ r), so b_hh's n-part gradient is Σ dn_pre ⊙ r.

enum GRUSequenceKernel {
    static func forward(_ ctx: FusedDirectionContext, weights w: FusedDirectionWeights, record: FusedDirectionRecord,
                        hN: UnsafeMutablePointer<Float>) {
        let g = ctx.geometry, B = g.batchSize, H = ctx.hiddenSize
        let G = 3 * H
        let gates = record.gates!.pointer, hiddenN = record.hiddenN!.pointer
        let hiddenProduct = FusedBuffer(count: B * G)
        // b_ih + (b_hr, b_hz, 0) folded into the input projection.
        let foldedBias: FusedBuffer? = w.biasIH == nil && w.biasHH == nil ? nil : {
            let bias = FusedBuffer(count: G, zeroed: true)
            if let bih = w.biasIH { for j in 0..<G { bias.pointer[j] += bih[j] } }
            if let bhh = w.biasHH { for j in 0..<(2 * H) { bias.pointer[j] += bhh[j] } }
            return bias
        }()
        ctx.hoistInputProjection(weightIH: w.weightIH, biasA: foldedBias.map { UnsafePointer($0.pointer) }, biasB: nil,
                                 width: G, into: gates)
        let zeroH = FusedBuffer(count: H, zeroed: true)
        let bhn = UnsafePointer(w.biasHH.map { $0 + 2 * H } ?? UnsafePointer(zeroH.pointer))

        let fast = FastGEMM.worthPacking(rows: g.rows)
        let recurrentProduct = StepWeightProduct(weight: w.weightHH, transposed: true, n: G, k: H, fast: fast)
        let partition = batchPartition(batchSize: B, fast: fast)
        ComputeThreads.run(partition.count) { part in
            let rows = partition[part]
            for s in 0..<g.sequenceLength {
                let t = g.time(step: s, reverse: ctx.reverse)
                let (hPrev, hPrevStride) = ctx.previousH(step: s)
                recurrentProduct.multiply(m: rows.count, a: hPrev + rows.lowerBound * hPrevStride, lda: hPrevStride, beta: 0,
                                          c: hiddenProduct.pointer + rows.lowerBound * G, ldc: G)
                for b in rows {
                    let row = g.row(t, b)
                    let gr = gates + row * G
                    let hp = hiddenProduct.pointer + b * G
                    let hb = hPrev + b * hPrevStride
                    let hn = hiddenN + row * H
                    let out = ctx.output + row * ctx.outputWidth + ctx.column
                    for j in 0..<(2 * H) { gr[j] += hp[j] }
                    VectorizedActivation.sigmoid(gr, gr, count: 2 * H)
                    for j in 0..<H {
                        let v = hp[2 * H + j] + bhn[j]
                        hn[j] = v
                        gr[2 * H + j] += gr[j] * v
                    }
                    gruFinishRow(hiddenSize: H, gates: gr, hPrev: hb, output: out)
                }
                ctx.carryInactiveRows(step: s, rows: rows)
            }
        }
        ctx.copyFinalHidden(into: hN)
    }

    /// BPTT through one direction; `dh` (B × H) holds dh_n on entry and dh_0 on return.
    static func backward(_ ctx: FusedDirectionContext, weights w: FusedDirectionWeights, record: FusedDirectionRecord,
                         dOutput: UnsafePointer<Float>, dh: UnsafeMutablePointer<Float>,
                         dInput: UnsafeMutablePointer<Float>?, gradients: FusedDirectionGradients) {
        let g = ctx.geometry, B = g.batchSize, H = ctx.hiddenSize
        let G = 3 * H, rs = g.batchRowStride
        let gates = record.gates!.pointer, hiddenN = record.hiddenN!.pointer
        let dGatesInput = FusedBuffer(count: g.rows * G)
        let dGatesHidden = FusedBuffer(count: g.rows * G)

        let fast = FastGEMM.worthPacking(rows: g.rows)
        let recurrentProduct = StepWeightProduct(weight: w.weightHH, transposed: false, n: H, k: G, fast: fast)
        let partition = batchPartition(batchSize: B, fast: fast)
        ComputeThreads.run(partition.count) { part in
            let rows = partition[part]
            for s in stride(from: g.sequenceLength - 1, through: 0, by: -1) {
                let t = g.time(step: s, reverse: ctx.reverse)
                ctx.addOutputGradient(dOutput, time: t, rows: rows, into: dh)
                let (hPrev, hPrevStride) = ctx.previousH(step: s)
                for b in rows where g.isActive(t, b) {
                    let row = g.row(t, b)
                    let gr = gates + row * G
                    let hn = hiddenN + row * H
                    let hb = hPrev + b * hPrevStride
                    let dx = dGatesInput.pointer + row * G
                    let dhh = dGatesHidden.pointer + row * G
                    let dhb = dh + b * H
                    for j in 0..<H {
                        let r = gr[j], z = gr[H + j], n = gr[2 * H + j], d = dhb[j]
                        let dn = d * (1 - z) * (1 - n * n)
                        let dz = d * (hb[j] - n) * z * (1 - z)
                        let dr = dn * hn[j] * r * (1 - r)
                        dx[j] = dr
                        dx[H + j] = dz
                        dx[2 * H + j] = dn
                        dhh[j] = dr
                        dhh[H + j] = dz
                        dhh[2 * H + j] = dn * r
                        dhb[j] = d * z
                    }
                }
                ctx.clearInactiveRows(time: t, rows: rows, width: G, dGatesInput.pointer, dGatesHidden.pointer)
                // dh_{t−1} = dh_t ⊙ z + dgatesHidden_t · W_hh
                recurrentProduct.multiply(m: rows.count, a: dGatesHidden.pointer + g.row(t, rows.lowerBound) * G, lda: rs * G,
                                          beta: 1, c: dh + rows.lowerBound * H, ldc: H)
            }
        }
        ctx.finishBackward(dGates: dGatesInput.pointer, dGatesHidden: dGatesHidden.pointer, width: G,
                           weightIH: w.weightIH, gradients: gradients, dInput: dInput)
    }
}

/// The end of a GRU step for one row (both forms): the candidate `n = tanh(gates[2H..<3H])` in place,
/// then `output = (1 − z) ⊙ n + z ⊙ hPrev` with z = gates[H..<2H] (output may be hPrev).
@inline(__always)
func gruFinishRow(hiddenSize H: Int, gates gr: UnsafeMutablePointer<Float>, hPrev: UnsafePointer<Float>,
                  output: UnsafeMutablePointer<Float>) {
    VectorizedActivation.tanh(gr + 2 * H, gr + 2 * H, count: H)
    for j in 0..<H {
        let z = gr[H + j], n = gr[2 * H + j]
        output[j] = n + z * (hPrev[j] - n)
    }
}
