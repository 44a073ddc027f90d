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
    /// One row of a step: `gates` (4H) holds the pre-activations without the peephole terms; on return
    /// it holds the activations i, f, g, o, and `c` (H) and `h` (H) the new state. `c` may be `cPrev`
    /// (every element is read before it is written). Peepholes: `w.weightCI`, `weightCF`, `weightCO` (nil: none).
    @inline(__always)
    static func forwardRow(hiddenSize H: Int, gates gr: UnsafeMutablePointer<Float>, cPrev cp: UnsafePointer<Float>,
                           c: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>, peepholes w: CellRowVectors) {
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
        VectorizedActivation.tanh(c, h, count: H)
        for j in 0..<H { h[j] *= gr[3 * H + j] }
    }

    static func forward(_ ctx: FusedDirectionContext, weights w: FusedDirectionWeights, record: FusedDirectionRecord,
                        hN: UnsafeMutablePointer<Float>, cN: UnsafeMutablePointer<Float>) {
        let g = ctx.geometry, B = g.batchSize, H = ctx.hiddenSize, P = ctx.outputHiddenSize
        let G = 4 * H, rs = g.batchRowStride
        let gates = record.gates!.pointer, cells = record.cells!.pointer
        let unprojected = record.unprojected?.pointer
        let c0 = ctx.c0!
        ctx.hoistInputProjection(weightIH: w.weightIH, biasA: w.biasIH, biasB: w.biasHH, width: G, into: gates)
        let fast = FastGEMM.worthPacking(rows: g.rows)
        let recurrentProduct = StepWeightProduct(weight: w.weightHH, transposed: true, n: G, k: P, fast: fast)
        // The projection's per-step product runs on the BLAS path (one thread).
        let partition = batchPartition(batchSize: B, fast: fast, allowThreads: w.weightHR == nil)

        ctx.forwardSteps(partition) { rows, s, t in
            let nb = rows.count
            let (hPrev, hPrevStride) = ctx.previousH(step: s)
            let cPrev: UnsafePointer<Float>, cPrevStride: Int
            if s == 0 {
                cPrev = c0; cPrevStride = H
            } else {
                cPrev = UnsafePointer(cells + g.row(g.time(step: s - 1, reverse: ctx.reverse), 0) * H); cPrevStride = rs * H
            }
            let gateStep = gates + g.row(t, 0) * G, gateStride = rs * G
            // gates_t += h_{t−1} · W_hhᵀ for this thread's rows
            recurrentProduct.multiply(m: nb, a: hPrev + rows.lowerBound * hPrevStride, lda: hPrevStride, beta: 1,
                                      c: gateStep + rows.lowerBound * gateStride, ldc: gateStride)
            if fast && w.weightCI == nil && unprojected == nil {
                for b in rows {
                    FastElementwise.lstmForwardRow(hiddenSize: H, gates: gateStep + b * gateStride, cPrev: cPrev + b * cPrevStride,
                                                   c: cells + g.row(t, b) * H,
                                                   h: ctx.output + g.row(t, b) * ctx.outputWidth + ctx.column)
                }
                ctx.carryInactiveRows(step: s, rows: rows, cells: cells)
                return
            }
            for b in rows {
                let h = unprojected.map { $0 + g.row(t, b) * H } ?? (ctx.output + g.row(t, b) * ctx.outputWidth + ctx.column)
                forwardRow(hiddenSize: H, gates: gateStep + b * gateStride, cPrev: cPrev + b * cPrevStride,
                           c: cells + g.row(t, b) * H, h: h, peepholes: w.vectors)
            }
            if let unprojected, let weightHR = w.weightHR {
                stepProduct(m: B, n: P, k: H, a: unprojected + g.row(t, 0) * H, lda: rs * H, weight: weightHR,
                            beta: 0, c: ctx.output + g.row(t, 0) * ctx.outputWidth + ctx.column, ldc: rs * ctx.outputWidth)
            }
            ctx.carryInactiveRows(step: s, rows: rows, cells: cells)
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
        // Projection: dh_t saved for dW_hr, and the gradient of the unprojected h.
        let projected = w.weightHR != nil
        let dUnprojected = projected ? FusedBuffer(count: B * H) : nil
        let dHidden = projected && gradients.weightHR != nil ? FusedBuffer(count: g.rows * P) : nil
        // Peephole gradients accumulate over steps.
        let dPeep = peephole ? FusedBuffer(count: 3 * H, zeroed: true) : nil
        let zeroH = FusedBuffer(count: H, zeroed: true)
        let zero = UnsafePointer(zeroH.pointer)
        let wci = w.weightCI ?? zero, wcf = w.weightCF ?? zero, wco = w.weightCO ?? zero

        let fast = FastGEMM.worthPacking(rows: g.rows)
        let recurrentProduct = StepWeightProduct(weight: w.weightHH, transposed: false, n: P, k: G, fast: fast)
        // Peephole gradients accumulate over rows and the projection runs on the BLAS: one thread then.
        let partition = batchPartition(batchSize: B, fast: fast, allowThreads: !projected && !peephole)

        // tanh(c_t) of one row: scratch per thread, at the thread's first batch row.
        let tanhScratch = FusedBuffer(count: B * H)
        ctx.backwardSteps(partition, dOutput: dOutput, dh: dh) { rows, s, t in
            let nb = rows.count, tanhC = tanhScratch.pointer + rows.lowerBound * H
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
            for b in rows where fast && !peephole && g.isActive(t, b) {
                FastElementwise.lstmBackwardRow(hiddenSize: H, gates: gates + g.row(t, b) * G, c: cells + g.row(t, b) * H,
                                                cPrev: cPrev + b * cPrevStride, dh: dhUnprojected + b * H, dc: dc + b * H,
                                                dGates: dGates.pointer + g.row(t, b) * G)
            }
            for b in rows where !(fast && !peephole) && g.isActive(t, b) {
                let gr = UnsafePointer(gates + g.row(t, b) * G)
                let c = UnsafePointer(cells + g.row(t, b) * H)
                let cp = cPrev + b * cPrevStride
                let dg = dGates.pointer + g.row(t, b) * G
                let dhb = dhUnprojected + b * H
                let dcb = dc + b * H
                let tc = tanhC
                let gi = gr, gf = gr + H, gg = gr + 2 * H, go = gr + 3 * H
                let di = dg, df = dg + H, dgg = dg + 2 * H, dO = dg + 3 * H
                // Short passes over L1-resident rows, each simple enough for LLVM to vectorise.
                VectorizedActivation.tanh(c, tc, count: H)
                for j in 0..<H { dO[j] = dhb[j] * tc[j] * go[j] * (1 - go[j]) }
                for j in 0..<H { dcb[j] += dhb[j] * go[j] * (1 - tc[j] * tc[j]) }
                if peephole {
                    for j in 0..<H { dcb[j] += dO[j] * wco[j] }
                }
                for j in 0..<H { di[j] = dcb[j] * gg[j] * gi[j] * (1 - gi[j]) }
                for j in 0..<H { df[j] = dcb[j] * cp[j] * gf[j] * (1 - gf[j]) }
                for j in 0..<H { dgg[j] = dcb[j] * gi[j] * (1 - gg[j] * gg[j]) }
                for j in 0..<H { dcb[j] *= gf[j] }
                if peephole {
                    let dci = dPeep!.pointer, dcf = dci + H, dco = dci + 2 * H
                    for j in 0..<H { dcb[j] += di[j] * wci[j] + df[j] * wcf[j] }
                    for j in 0..<H { dci[j] += di[j] * cp[j] }
                    for j in 0..<H { dcf[j] += df[j] * cp[j] }
                    for j in 0..<H { dco[j] += dO[j] * c[j] }
                }
            }
            ctx.clearInactiveRows(time: t, rows: rows, width: G, dGates.pointer)
            ctx.clearInactiveRows(time: t, rows: rows, width: P, dHidden?.pointer)
            // dh_{t−1} = dgates_t · W_hh for this thread's rows
            let beta = ctx.zeroActiveRows(time: t, rows: rows, dh: dh, width: P)
            recurrentProduct.multiply(m: nb, a: dGates.pointer + g.row(t, rows.lowerBound) * G, lda: rs * G, beta: beta,
                                      c: dh + rows.lowerBound * P, ldc: P)
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

extension LSTMSequenceKernel: CellKernel {
    static func makeLayer(_ core: FusedSequenceLayer) -> any RecurrentLayer { LSTM(core: core) }
    static var gateCount: Int { 4 }
    static var hasCellState: Bool { true }

    static func validate(_ c: RecurrentLayerConfiguration) throws {
        try requireResetAfter(c)
    }

    static func makeRecord(rows: Int, _ c: RecurrentLayerConfiguration) -> FusedDirectionRecord {
        var record = FusedDirectionRecord()
        record.gates = FusedBuffer(count: rows * 4 * c.hiddenSize)
        record.cells = FusedBuffer(count: rows * c.hiddenSize)
        if c.projSize > 0 { record.unprojected = FusedBuffer(count: rows * c.hiddenSize) }
        return record
    }

    static func forward(_ ctx: FusedDirectionContext, _ c: RecurrentLayerConfiguration, weights: FusedDirectionWeights,
                        record: FusedDirectionRecord, hN: UnsafeMutablePointer<Float>, cN: UnsafeMutablePointer<Float>?) {
        forward(ctx, weights: weights, record: record, hN: hN, cN: cN!)
    }

    static func backward(_ ctx: FusedDirectionContext, _ c: RecurrentLayerConfiguration, weights: FusedDirectionWeights,
                         record: FusedDirectionRecord, dOutput: UnsafePointer<Float>, dh: UnsafeMutablePointer<Float>,
                         dc: UnsafeMutablePointer<Float>?, dInput: UnsafeMutablePointer<Float>?,
                         gradients: FusedDirectionGradients) {
        backward(ctx, weights: weights, record: record, dOutput: dOutput, dh: dh, dc: dc!, dInput: dInput, gradients: gradients)
    }

    static func cellPathDirection(_ c: RecurrentLayerConfiguration, inputSize: Int,
                                  parameters p: CellPathParameters) throws -> CellPathDirection {
        let peepholes = c.peephole ? [p("weight_ci"), p("weight_cf"), p("weight_co")] : nil
        let cell = LSTMCell(inputSize: inputSize, hiddenSize: c.hiddenSize, weightIH: p("weight_ih"), weightHH: p("weight_hh"),
                            biasIH: p.biasIH, biasHH: p.biasHH, peepholes: peepholes, layerNormIH: p.norm("ln_ih"),
                            layerNormHH: p.norm("ln_hh"), layerNormC: p.norm("ln_c"))
        return try RecurrentLayers.cellPathDirection(cell, recurrentDropout: c.recurrentDropout, zoneout: c.zoneout, source: p.source,
                                                     state: { h0, c0, b in LSTMState(h: h0 ?? p.zeros(b), c: c0 ?? p.zeros(b)) },
                                                     components: { ($0.h, $0.c) })
    }

    static func makeStepCell(inputSize: Int, hiddenSize: Int, using rng: inout RandomGenerator) throws -> StepCell {
        StepCell(try LSTMCell(inputSize: inputSize, hiddenSize: hiddenSize, using: &rng), hasCellState: true,
                 state: { LSTMState(h: $0.h, c: $0.c!) }, components: { CellState(h: $0.h, c: $0.c) })
    }

    static func stepsRows(_ c: RecurrentLayerConfiguration) -> Bool { c.projSize == 0 }

    static func stepRow(_ c: RecurrentLayerConfiguration, hiddenSize H: Int, gates: UnsafeMutablePointer<Float>,
                        hidden: UnsafePointer<Float>, vectors: CellRowVectors, h: UnsafeMutablePointer<Float>,
                        c cell: UnsafeMutablePointer<Float>) {
        forwardRow(hiddenSize: H, gates: gates, cPrev: cell, c: cell, h: h, peepholes: vectors)
    }
}
