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
    /// One row of a step: `gates` (3H) holds the input part with b_ih + (b_hr, b_hz) folded in,
    /// `hiddenProduct` (3H) `h_{t−1} · W_hhᵀ`, `biasN` b_hn (nil: none). Writes `W_hn h + b_hn` into
    /// `hiddenN` (H, when given) and the new h into `output` (which may be `hPrev`).
    @inline(__always)
    static func forwardRow(hiddenSize H: Int, gates gr: UnsafeMutablePointer<Float>, hiddenProduct hp: UnsafePointer<Float>,
                           biasN: UnsafePointer<Float>?, hPrev: UnsafePointer<Float>, hiddenN: UnsafeMutablePointer<Float>?,
                           output: UnsafeMutablePointer<Float>) {
        for j in 0..<(2 * H) { gr[j] += hp[j] }
        VectorizedActivation.sigmoid(gr, gr, count: 2 * H)
        for j in 0..<H {
            let v = hp[2 * H + j] + (biasN?[j] ?? 0)
            hiddenN?[j] = v
            gr[2 * H + j] += gr[j] * v
        }
        gruFinishRow(hiddenSize: H, gates: gr, hPrev: hPrev, output: output)
    }

    static func forward(_ ctx: FusedDirectionContext, weights w: FusedDirectionWeights, record: FusedDirectionRecord,
                        hN: UnsafeMutablePointer<Float>) {
        let g = ctx.geometry, B = g.batchSize, H = ctx.hiddenSize
        let G = 3 * H
        let gates = record.gates!.pointer, hiddenN = record.hiddenN!.pointer
        let hiddenProduct = FusedBuffer(count: B * G)
        // b_ih + (b_hr, b_hz, 0) folded into the input projection.
        let foldedBias: FusedBuffer? = w.biasIH == nil && w.biasHH == nil ? nil : {
            let bias = FusedBuffer(count: G)
            inputBias(hiddenSize: H, biasIH: w.biasIH, biasHH: w.biasHH, into: bias.pointer)
            return bias
        }()
        ctx.hoistInputProjection(weightIH: w.weightIH, biasA: foldedBias.map { UnsafePointer($0.pointer) }, biasB: nil,
                                 width: G, into: gates)
        let bhn = w.biasHH.map { $0 + 2 * H }

        let fast = FastGEMM.worthPacking(rows: g.rows)
        let recurrentProduct = StepWeightProduct(weight: w.weightHH, transposed: true, n: G, k: H, fast: fast)
        let partition = batchPartition(batchSize: B, fast: fast)
        ctx.forwardSteps(partition) { rows, s, t in
            let (hPrev, hPrevStride) = ctx.previousH(step: s)
            recurrentProduct.multiply(m: rows.count, a: hPrev + rows.lowerBound * hPrevStride, lda: hPrevStride, beta: 0,
                                      c: hiddenProduct.pointer + rows.lowerBound * G, ldc: G)
            for b in rows {
                let row = g.row(t, b)
                forwardRow(hiddenSize: H, gates: gates + row * G, hiddenProduct: hiddenProduct.pointer + b * G, biasN: bhn,
                           hPrev: hPrev + b * hPrevStride, hiddenN: hiddenN + row * H,
                           output: ctx.output + row * ctx.outputWidth + ctx.column)
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
        let gates = record.gates!.pointer, hiddenN = record.hiddenN!.pointer
        let dGatesInput = FusedBuffer(count: g.rows * G)
        let dGatesHidden = FusedBuffer(count: g.rows * G)

        let fast = FastGEMM.worthPacking(rows: g.rows)
        let recurrentProduct = StepWeightProduct(weight: w.weightHH, transposed: false, n: H, k: G, fast: fast)
        let partition = batchPartition(batchSize: B, fast: fast)
        ctx.backwardSteps(partition, dOutput: dOutput, dh: dh) { rows, s, t in
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

extension GRUSequenceKernel: CellKernel {
    static func makeLayer(_ core: FusedSequenceLayer) -> any RecurrentLayer { GRU(core: core) }
    static var gateCount: Int { 3 }
    /// r multiplies `W_hn h + b_hn`, so the step keeps the hidden product apart.
    static var addsHiddenProductToGates: Bool { false }

    static func validate(_ c: RecurrentLayerConfiguration) throws {
        try requireNoProjectionOrPeephole(c)
    }

    /// b_ih + (b_hr, b_hz, 0): b_hn cannot fold, as r multiplies it.
    static func inputBias(hiddenSize H: Int, biasIH: UnsafePointer<Float>?, biasHH: UnsafePointer<Float>?,
                          into bias: UnsafeMutablePointer<Float>) {
        for j in 0..<(3 * H) { bias[j] = (biasIH?[j] ?? 0) + (j < 2 * H ? biasHH?[j] ?? 0 : 0) }
    }

    static func makeRecord(rows: Int, _ c: RecurrentLayerConfiguration) -> FusedDirectionRecord {
        var record = FusedDirectionRecord()
        record.gates = FusedBuffer(count: rows * 3 * c.hiddenSize)
        record.hiddenN = FusedBuffer(count: rows * c.hiddenSize)
        return record
    }

    static func forward(_ ctx: FusedDirectionContext, _ c: RecurrentLayerConfiguration, weights: FusedDirectionWeights,
                        record: FusedDirectionRecord, hN: UnsafeMutablePointer<Float>, cN: UnsafeMutablePointer<Float>?) {
        if c.resetAfter {
            forward(ctx, weights: weights, record: record, hN: hN)
        } else {
            GRUResetBeforeSequenceKernel.forward(ctx, weights: weights, record: record, hN: hN)
        }
    }

    static func backward(_ ctx: FusedDirectionContext, _ c: RecurrentLayerConfiguration, weights: FusedDirectionWeights,
                         record: FusedDirectionRecord, dOutput: UnsafePointer<Float>, dh: UnsafeMutablePointer<Float>,
                         dc: UnsafeMutablePointer<Float>?, dInput: UnsafeMutablePointer<Float>?,
                         gradients: FusedDirectionGradients) {
        if c.resetAfter {
            backward(ctx, weights: weights, record: record, dOutput: dOutput, dh: dh, dInput: dInput, gradients: gradients)
        } else {
            GRUResetBeforeSequenceKernel.backward(ctx, weights: weights, record: record, dOutput: dOutput, dh: dh,
                                                  dInput: dInput, gradients: gradients)
        }
    }

    static func cellPathDirection(_ c: RecurrentLayerConfiguration, inputSize: Int,
                                  parameters p: CellPathParameters) throws -> CellPathDirection {
        let cell = GRUCell(inputSize: inputSize, hiddenSize: c.hiddenSize, resetAfter: c.resetAfter,
                           weightIH: p("weight_ih"), weightHH: p("weight_hh"), biasIH: p.biasIH, biasHH: p.biasHH,
                           layerNormIH: p.norm("ln_ih"), layerNormHH: p.norm("ln_hh"))
        return try RecurrentLayers.cellPathDirection(cell, recurrentDropout: c.recurrentDropout, zoneout: c.zoneout, source: p.source,
                                                     state: { h0, _, b in h0 ?? p.zeros(b) }, components: { ($0, nil) })
    }

    static func makeStepCell(inputSize: Int, hiddenSize: Int, using rng: inout RandomGenerator) throws -> StepCell {
        StepCell(try GRUCell(inputSize: inputSize, hiddenSize: hiddenSize, using: &rng), hasCellState: false,
                 state: { $0.h }, components: { CellState(h: $0, c: nil) })
    }

    static func stepsRows(_ c: RecurrentLayerConfiguration) -> Bool { c.resetAfter }

    static func stepRow(_ c: RecurrentLayerConfiguration, hiddenSize H: Int, gates: UnsafeMutablePointer<Float>,
                        hidden: UnsafePointer<Float>, vectors: CellRowVectors, h: UnsafeMutablePointer<Float>,
                        c cell: UnsafeMutablePointer<Float>) {
        forwardRow(hiddenSize: H, gates: gates, hiddenProduct: hidden, biasN: vectors.biasHH.map { $0 + 2 * H },
                   hPrev: h, hiddenN: nil, output: h)
    }
}
