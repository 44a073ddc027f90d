import Foundation
import RecurrentAutodiff
import RecurrentCore

// Shared machinery of the fused whole-sequence kernels (RNN, LSTM, GRU).
//
// Sizes: T = sequenceLength, B = batchSize, I = input width of a layer, H = hiddenSize,
// Hout = outputHiddenSize (projSize or H), G = gate count, D = number of directions.
//
// Every per-position buffer has one row per (t, b) in the *storage order of the input*: row
// `t·B + b` for time-major input (T, B, ·) and `b·T + t` for batch-first input (B, T, ·). Layouts are
// handled by strides, never by transposes: the B rows of one time step form a matrix whose rows are
// `batchRowStride` rows apart, which BLAS reads and writes through its leading dimension.

/// Heap storage for a kernel workspace or saved activation, freed with its last reference.
/// Elements are uninitialised unless `zeroed`.
final class FusedBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int, zeroed: Bool = false) {
        self.count = count
        pointer = FusedBufferPool.take(count: count)
        if zeroed { pointer.initialize(repeating: 0, count: count) }
    }

    init(copying tensor: Tensor) {
        count = tensor.count
        pointer = FusedBufferPool.take(count: count)
        tensor.scalars.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.initialize(from: base, count: count) }
        }
    }

    deinit { FusedBufferPool.give(pointer, count: count) }

    /// A copy of the contents as a tensor of `shape`.
    func tensor(shape: [Int]) -> Tensor {
        precondition(shape.reduce(1, *) == count, "FusedBuffer: shape \(shape) does not hold \(count) elements")
        return Tensor(shape: shape) { out in
            if let base = out.baseAddress { base.update(from: pointer, count: count) }
        }
    }
}

/// A small cache of recently freed large kernel buffers, so that repeated calls with the same shapes
/// (every training step) reuse resident memory instead of page-faulting fresh allocations.
/// Holds at most `limit` floats; buffers are matched by exact size, oldest evicted first.
enum FusedBufferPool {
    /// 16 Mi floats = 64 MiB.
    static let limit = 16 << 20
    /// Buffers smaller than this go straight to the allocator.
    static let minimumCount = 16 << 10
    private static let lock = NSLock()
    nonisolated(unsafe) private static var free: [(count: Int, pointer: UnsafeMutablePointer<Float>)] = []
    nonisolated(unsafe) private static var held = 0

    static func take(count: Int) -> UnsafeMutablePointer<Float> {
        if count >= minimumCount {
            lock.lock()
            if let i = free.lastIndex(where: { $0.count == count }) {
                let entry = free.remove(at: i)
                held -= entry.count
                lock.unlock()
                return entry.pointer
            }
            lock.unlock()
        }
        return .allocate(capacity: Swift.max(count, 1))
    }

    static func give(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        guard count >= minimumCount && count <= limit else { return pointer.deallocate() }
        lock.lock()
        free.append((count, pointer))
        held += count
        var evicted: [UnsafeMutablePointer<Float>] = []
        while held > limit {
            let oldest = free.removeFirst()
            held -= oldest.count
            evicted.append(oldest.pointer)
        }
        lock.unlock()
        for p in evicted { p.deallocate() }
    }
}

/// The row arithmetic of a sequence batch in time-major or batch-first storage.
struct SequenceGeometry {
    let sequenceLength: Int
    let batchSize: Int
    let batchFirst: Bool
    /// A padded batch: row b is active at time steps `0..<lengths[b]` (nil: every step of every row).
    /// See SequenceKernels+Lengths.swift.
    var lengths: [Int]? = nil

    /// T · B, the number of rows in every per-position buffer.
    var rows: Int { sequenceLength * batchSize }

    /// The row of time step `t`, batch element `b`.
    @inline(__always)
    func row(_ t: Int, _ b: Int) -> Int { batchFirst ? b * sequenceLength + t : t * batchSize + b }

    /// Rows between batch elements `b` and `b + 1` of one time step.
    var batchRowStride: Int { batchFirst ? sequenceLength : 1 }

    /// The time index of processing step `s` (reverse directions run backwards in time).
    @inline(__always)
    func time(step s: Int, reverse: Bool) -> Int { reverse ? sequenceLength - 1 - s : s }
}

/// Pointers to the parameters of one layer and direction (nil where the configuration has none).
struct FusedDirectionWeights {
    var weightIH: UnsafePointer<Float>      // (G·H, I)
    var weightHH: UnsafePointer<Float>      // (G·H, Hout)
    var biasIH: UnsafePointer<Float>?       // (G·H)
    var biasHH: UnsafePointer<Float>?       // (G·H)
    var weightHR: UnsafePointer<Float>?     // (P, H)
    var weightCI: UnsafePointer<Float>?     // (H)
    var weightCF: UnsafePointer<Float>?     // (H)
    var weightCO: UnsafePointer<Float>?     // (H)
}

/// Where the gradients of one layer and direction go (nil where not needed). Each is written, not accumulated.
struct FusedDirectionGradients {
    var weightIH: UnsafeMutablePointer<Float>?
    var weightHH: UnsafeMutablePointer<Float>?
    var biasIH: UnsafeMutablePointer<Float>?
    var biasHH: UnsafeMutablePointer<Float>?
    var weightHR: UnsafeMutablePointer<Float>?
    var weightCI: UnsafeMutablePointer<Float>?
    var weightCF: UnsafeMutablePointer<Float>?
    var weightCO: UnsafeMutablePointer<Float>?
}

/// Indices of one layer and direction's parameters in the flat parameter list.
struct FusedParameterSlots {
    var weightIH = -1, weightHH = -1, biasIH = -1, biasHH = -1, weightHR = -1
    var weightCI = -1, weightCF = -1, weightCO = -1

    var all: [Int] { [weightIH, weightHH, biasIH, biasHH, weightHR, weightCI, weightCF, weightCO].filter { $0 >= 0 } }

    /// The slots of every layer and direction, `[layer][direction]`, following `parameterShapes`.
    static func layout(of configuration: RecurrentLayerConfiguration) -> [[FusedParameterSlots]] {
        var index = 0
        func next() -> Int { defer { index += 1 }; return index }
        return (0..<configuration.numLayers).map { _ in
            (0..<configuration.numDirections).map { _ in
                var s = FusedParameterSlots()
                s.weightIH = next()
                s.weightHH = next()
                if configuration.bias { s.biasIH = next(); s.biasHH = next() }
                if configuration.projSize > 0 { s.weightHR = next() }
                if configuration.peephole { s.weightCI = next(); s.weightCF = next(); s.weightCO = next() }
                if configuration.layerNorm { index += 2 * configuration.layerNormBlocks.count }   // cell path only
                return s
            }
        }
    }

    func weights(_ p: [UnsafePointer<Float>]) -> FusedDirectionWeights {
        func optional(_ i: Int) -> UnsafePointer<Float>? { i >= 0 ? p[i] : nil }
        return FusedDirectionWeights(
            weightIH: p[weightIH], weightHH: p[weightHH], biasIH: optional(biasIH), biasHH: optional(biasHH),
            weightHR: optional(weightHR), weightCI: optional(weightCI), weightCF: optional(weightCF),
            weightCO: optional(weightCO))
    }

    func gradients(_ g: [FusedBuffer?]) -> FusedDirectionGradients {
        func optional(_ i: Int) -> UnsafeMutablePointer<Float>? { i >= 0 ? g[i]?.pointer : nil }
        return FusedDirectionGradients(
            weightIH: optional(weightIH), weightHH: optional(weightHH), biasIH: optional(biasIH),
            biasHH: optional(biasHH), weightHR: optional(weightHR), weightCI: optional(weightCI),
            weightCF: optional(weightCF), weightCO: optional(weightCO))
    }
}

/// Runs `body` with stable pointers to the scalars of every tensor (nested `withUnsafeBufferPointer`).
func withScalarPointers<R>(_ tensors: [Tensor], _ body: ([UnsafePointer<Float>]) -> R) -> R {
    var pointers: [UnsafePointer<Float>] = []
    pointers.reserveCapacity(tensors.count)
    func nest(_ i: Int) -> R {
        if i == tensors.count { return body(pointers) }
        return tensors[i].scalars.withUnsafeBufferPointer { buffer in
            // A zero-size tensor has no base address; nothing reads through its pointer.
            pointers.append(buffer.baseAddress ?? UnsafePointer(bitPattern: 0x10)!)
            return nest(i + 1)
        }
    }
    return nest(0)
}

/// What one direction's forward pass keeps for backward.
struct FusedDirectionRecord {
    /// Gate activations, rows × G·H (LSTM i,f,g,o after σ/tanh; GRU r,z,n; unused for RNN).
    var gates: FusedBuffer?
    /// LSTM cell states c_t, rows × H.
    var cells: FusedBuffer?
    /// LSTM with projection: o ⊙ tanh(c_t) before the projection, rows × H.
    var unprojected: FusedBuffer?
    /// GRU: W_hn h_{t−1} + b_hn, rows × H.
    var hiddenN: FusedBuffer?
}

// MARK: - Small dense helpers (outside the time loops or per step, never allocating)

/// Fills each of `rows` rows (width `width`, contiguous) with `a + b` (either may be nil: zeros).
/// Large fills are split by rows over `ComputeThreads` (each element is written the same way).
func fillRows(_ destination: UnsafeMutablePointer<Float>, rows: Int, width: Int,
              _ a: UnsafePointer<Float>?, _ b: UnsafePointer<Float>?) {
    guard rows > 0 else { return }
    // The first row holds a + b; the others are copies of it.
    for j in 0..<width { destination[j] = (a?[j] ?? 0) + (b?[j] ?? 0) }
    let first = UnsafePointer(destination)
    let threads = rows * width >= 1 << 18 ? Swift.min(ComputeThreads.count, rows) : 1
    ComputeThreads.run(threads) { part in
        for r in Swift.max(1, part * rows / threads)..<((part + 1) * rows / threads) {
            (destination + r * width).update(from: first, count: width)
        }
    }
}

/// `destination[j] += Σ_r source[r·stride + j]` over `rows` rows of width `width`. Large sums are split
/// by columns over `ComputeThreads`; every column still adds its rows in order, so the result does not
/// depend on the thread count.
func addColumnSums(_ source: UnsafePointer<Float>, rows: Int, width: Int, stride: Int,
                   into destination: UnsafeMutablePointer<Float>) {
    let threads = rows * width >= 1 << 18 ? Swift.min(ComputeThreads.count, Swift.max(1, width / 64)) : 1
    ComputeThreads.run(threads) { part in
        let j0 = part * width / threads, j1 = (part + 1) * width / threads
        for r in 0..<rows {
            let s = source + r * stride
            for j in j0..<j1 { destination[j] += s[j] }
        }
    }
}

/// `destination[tokens[r]] += source[r]` for every row r (rows of `width`, V × width destination);
/// the columns are split over the threads, so each thread adds its columns of every row in row order.
func addRowsPerToken(_ source: UnsafePointer<Float>, tokens: [Int], width: Int, into destination: UnsafeMutablePointer<Float>) {
    let rows = tokens.count
    let threads = rows * width >= 1 << 18 ? Swift.min(ComputeThreads.count, Swift.max(1, width / 64)) : 1
    tokens.withUnsafeBufferPointer { tokens in
        ComputeThreads.run(threads) { part in
            let j0 = part * width / threads, j1 = (part + 1) * width / threads
            for r in 0..<rows {
                let s = source + r * width, d = destination + tokens[r] * width
                for j in j0..<j1 { d[j] += s[j] }
            }
        }
    }
}

/// Copies a (rows × width) block between strided matrices.
@inline(__always)
func copyBlock(_ source: UnsafePointer<Float>, sourceStride: Int,
               _ destination: UnsafeMutablePointer<Float>, destinationStride: Int, rows: Int, width: Int) {
    for r in 0..<rows {
        (destination + r * destinationStride).update(from: source + r * sourceStride, count: width)
    }
}

/// `C = A · Bᵀ + beta · C` for per-step products with `B` a weight stored (n, k): the shape of every
/// recurrent product `h_{t−1} · W_hhᵀ`. Uses GEMV when there is one row (batch size 1).
@inline(__always)
func stepProduct(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, weight: UnsafePointer<Float>,
                 beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m == 1 {
        BLAS.gemv(transpose: false, rows: n, columns: k, a: weight, lda: k, x: a, beta: beta, y: c)
    } else {
        BLAS.gemm(transposeA: false, transposeB: true, m: m, n: n, k: k, a: a, lda: lda,
                  b: weight, ldb: k, beta: beta, c: c, ldc: ldc)
    }
}

/// `C = A · W + beta · C` with `W` stored (k, n): the shape of every backward product `dgates_t · W_hh`.
@inline(__always)
func stepProductUntransposed(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                             weight: UnsafePointer<Float>, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m == 1 {
        BLAS.gemv(transpose: true, rows: k, columns: n, a: weight, lda: n, x: a, beta: beta, y: c)
    } else {
        BLAS.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: lda,
                  b: weight, ldb: n, beta: beta, c: c, ldc: ldc)
    }
}

/// Layer 0's input given as rows of an embedding: row r of the input is `embedding[tokens[r]]`, with
/// fewer than half as many vocabulary entries as rows (`LanguageModel.runsLayer0OnVocabularyRows`). The input
/// projection then needs only the V embedding rows projected (a V × G table) and a gather, instead of
/// the product over every row. Backward works on V rows too: the gate gradients summed per token
/// (G, V × width) give dW_ih = Gᵀ · E and the embedding's gradient dE = G · W_ih directly (the sum
/// over a token's rows of dX = dGates · W_ih), instead of two products over every row. The results
/// are those of the row-by-row products up to the order of the Float additions.
struct EmbeddedInputRows {
    /// The token of every input row, in the input's memory order.
    let tokens: [Int]
    /// The embedding weight's values, V × I.
    let embedding: FusedBuffer
    let vocabularySize: Int
    /// The embedding weight itself: the fused op's gradient for layer 0's input goes to it (V × I).
    let weight: Variable
}

/// The buffers and sizes one direction of one layer works on.
struct FusedDirectionContext {
    let geometry: SequenceGeometry
    /// H.
    let hiddenSize: Int
    /// Hout: the width of h (projSize with a projection, else H).
    let outputHiddenSize: Int
    /// I of this layer.
    let inputWidth: Int
    /// D · Hout: the row width of the layer output.
    let outputWidth: Int
    /// This direction's first column in the layer output (d · Hout).
    let column: Int
    let reverse: Bool
    /// The layer input, rows × I.
    let input: UnsafePointer<Float>
    /// The layer output, rows × D·Hout (written by forward, read by backward).
    let output: UnsafeMutablePointer<Float>
    /// The initial h of this direction, B × Hout.
    let h0: UnsafePointer<Float>
    /// The initial c of this direction (LSTM), B × H.
    let c0: UnsafePointer<Float>?
    /// Layer 0 of a language model: the input rows are embedding rows (nil otherwise).
    var embeddedInput: EmbeddedInputRows? = nil

    /// h_{t−1} for processing step `s` (h0 at s = 0) and its row stride.
    @inline(__always)
    func previousH(step s: Int) -> (UnsafePointer<Float>, Int) {
        if s == 0 { return (h0, outputHiddenSize) }
        let t = geometry.time(step: s - 1, reverse: reverse)
        return (UnsafePointer(output + geometry.row(t, 0) * outputWidth + column), geometry.batchRowStride * outputWidth)
    }

    /// The gates input projection for all steps at once: `rows × width` = X · W_ihᵀ + biasA + biasB.
    func hoistInputProjection(weightIH: UnsafePointer<Float>, biasA: UnsafePointer<Float>?,
                              biasB: UnsafePointer<Float>?, width: Int, into gates: UnsafeMutablePointer<Float>) {
        let rows = geometry.rows
        let hasBias = biasA != nil || biasB != nil
        if let embedded = embeddedInput {
            // Project the V embedding rows once, then copy each row's token row.
            let V = embedded.vocabularySize
            let table = FusedBuffer(count: V * width)
            if hasBias { fillRows(table.pointer, rows: V, width: width, biasA, biasB) }
            FastGEMM.gemm(transposeA: false, transposeB: true, m: V, n: width, k: inputWidth,
                          a: embedded.embedding.pointer, lda: inputWidth, b: weightIH, ldb: inputWidth,
                          beta: hasBias ? 1 : 0, c: table.pointer, ldc: width)
            let source = UnsafePointer(table.pointer)
            let threads = rows * width >= 1 << 18 ? ComputeThreads.count : 1
            embedded.tokens.withUnsafeBufferPointer { tokens in
                ComputeThreads.run(threads) { part in
                    for r in (part * rows / threads)..<((part + 1) * rows / threads) {
                        (gates + r * width).update(from: source + tokens[r] * width, count: width)
                    }
                }
            }
            return
        }
        if hasBias { fillRows(gates, rows: rows, width: width, biasA, biasB) }
        FastGEMM.gemm(transposeA: false, transposeB: true, m: rows, n: width, k: inputWidth,
                  a: input, lda: inputWidth, b: weightIH, ldb: inputWidth,
                  beta: hasBias ? 1 : 0, c: gates, ldc: width)
    }

    /// The forward time loop of a kernel: each part of `partition` (batch rows) runs on its own thread
    /// through every step in processing order, calling `body(rows, s, t)` with the step `s` and its time
    /// index `t` (reversed for the reverse direction).
    @inline(__always)
    func forwardSteps(_ partition: [Range<Int>], _ body: (_ rows: Range<Int>, _ s: Int, _ t: Int) -> Void) {
        ComputeThreads.run(partition.count) { part in
            let rows = partition[part]
            for s in 0..<geometry.sequenceLength { body(rows, s, geometry.time(step: s, reverse: reverse)) }
        }
    }

    /// The backward time loop of a kernel: as `forwardSteps`, from the last step to the first, adding the
    /// output gradient of step t to `dh` (B × Hout) of the part's rows before calling `body(rows, s, t)`.
    @inline(__always)
    func backwardSteps(_ partition: [Range<Int>], dOutput: UnsafePointer<Float>, dh: UnsafeMutablePointer<Float>,
                       _ body: (_ rows: Range<Int>, _ s: Int, _ t: Int) -> Void) {
        ComputeThreads.run(partition.count) { part in
            let rows = partition[part]
            for s in stride(from: geometry.sequenceLength - 1, through: 0, by: -1) {
                let t = geometry.time(step: s, reverse: reverse)
                addOutputGradient(dOutput, time: t, rows: rows, into: dh)
                body(rows, s, t)
            }
        }
    }

    /// Rows × Hout matrix whose row (t, b) holds h_{t−1} of batch element b (h0 for the first step),
    /// so that `Σ_t dgates_tᵀ · h_{t−1}` is one GEMM.
    func previousHiddenMatrix() -> FusedBuffer {
        let g = geometry, width = outputHiddenSize
        let result = FusedBuffer(count: g.rows * width)
        for s in 0..<g.sequenceLength {
            let t = g.time(step: s, reverse: reverse)
            let (source, stride) = previousH(step: s)
            copyBlock(source, sourceStride: stride, result.pointer + g.row(t, 0) * width,
                      destinationStride: g.batchRowStride * width, rows: g.batchSize, width: width)
        }
        return result
    }

    /// Copies h of the last processed step into `hN` (B × Hout).
    func copyFinalHidden(into hN: UnsafeMutablePointer<Float>) {
        let (source, stride) = previousH(step: geometry.sequenceLength)
        copyBlock(source, sourceStride: stride, hN, destinationStride: outputHiddenSize,
                  rows: geometry.batchSize, width: outputHiddenSize)
    }

    /// `dh += dOutput` of time step `t` for this direction (dh is B × Hout).
    @inline(__always)
    func addOutputGradient(_ dOutput: UnsafePointer<Float>, time t: Int, into dh: UnsafeMutablePointer<Float>) {
        addOutputGradient(dOutput, time: t, rows: 0..<geometry.batchSize, into: dh)
    }

    /// `dh += dOutput` of time step `t` for batch elements `rows` only.
    @inline(__always)
    func addOutputGradient(_ dOutput: UnsafePointer<Float>, time t: Int, rows: Range<Int>, into dh: UnsafeMutablePointer<Float>) {
        let width = outputHiddenSize
        for b in rows {
            let source = dOutput + geometry.row(t, b) * outputWidth + column
            let destination = dh + b * width
            for j in 0..<width { destination[j] += source[j] }
        }
    }

    /// After BPTT: dW_ih = dGatesᵀ · X, dW_hh = dGatesHᵀ · H_prev, bias gradients as column sums,
    /// and dInput += dGates · W_ih. `dGatesHidden` differs from `dGates` only for GRU. With an embedded
    /// input (`embeddedInput`), dInput is the embedding's gradient (V × I): see `EmbeddedInputRows`.
    func finishBackward(dGates: UnsafePointer<Float>, dGatesHidden: UnsafePointer<Float>, width: Int,
                        weightIH: UnsafePointer<Float>, gradients: FusedDirectionGradients,
                        dInput: UnsafeMutablePointer<Float>?) {
        let rows = geometry.rows
        if let embedded = embeddedInput {
            let V = embedded.vocabularySize
            let perToken = FusedBuffer(count: V * width, zeroed: true)
            addRowsPerToken(dGates, tokens: embedded.tokens, width: width, into: perToken.pointer)
            if let dW = gradients.weightIH {
                FastGEMM.gemm(transposeA: true, transposeB: false, m: width, n: inputWidth, k: V,
                              a: perToken.pointer, lda: width, b: embedded.embedding.pointer, ldb: inputWidth,
                              beta: 0, c: dW, ldc: inputWidth)
            }
            if let dInput {
                FastGEMM.gemm(transposeA: false, transposeB: false, m: V, n: inputWidth, k: width,
                              a: perToken.pointer, lda: width, b: weightIH, ldb: inputWidth, beta: 1, c: dInput, ldc: inputWidth)
            }
        } else {
            if let dW = gradients.weightIH {
                FastGEMM.gemm(transposeA: true, transposeB: false, m: width, n: inputWidth, k: rows,
                              a: dGates, lda: width, b: input, ldb: inputWidth, beta: 0, c: dW, ldc: inputWidth)
            }
            if let dInput {
                FastGEMM.gemm(transposeA: false, transposeB: false, m: rows, n: inputWidth, k: width,
                              a: dGates, lda: width, b: weightIH, ldb: inputWidth, beta: 1, c: dInput, ldc: inputWidth)
            }
        }
        if let dW = gradients.weightHH {
            let previous = previousHiddenMatrix()
            FastGEMM.gemm(transposeA: true, transposeB: false, m: width, n: outputHiddenSize, k: rows,
                      a: dGatesHidden, lda: width, b: previous.pointer, ldb: outputHiddenSize,
                      beta: 0, c: dW, ldc: outputHiddenSize)
        }
        if let db = gradients.biasIH {
            db.initialize(repeating: 0, count: width)
            addColumnSums(dGates, rows: rows, width: width, stride: width, into: db)
        }
        if let db = gradients.biasHH {
            if dGatesHidden == dGates, let dbIH = gradients.biasIH {
                db.update(from: dbIH, count: width)   // the same sums (LSTM, RNN)
            } else {
                db.initialize(repeating: 0, count: width)
                addColumnSums(dGatesHidden, rows: rows, width: width, stride: width, into: db)
            }
        }
    }
}

/// A per-step weight product `rows(A) · op(W)` that packs `op(W)` once per kernel call when the fast
/// path is on (`FastGEMM.isEnabled`), and otherwise calls the BLAS (`stepProduct` /
/// `stepProductUntransposed`, the reference path).
struct StepWeightProduct {
    let weight: UnsafePointer<Float>
    /// true: `A · Wᵀ` with W stored (n, k); false: `A · W` with W stored (k, n).
    let transposed: Bool
    let n: Int
    let k: Int
    let packed: PackedMatrix?

    init(weight: UnsafePointer<Float>, transposed: Bool, n: Int, k: Int, fast: Bool) {
        // fast: pack op(W) (worth it for many rows); batch-1 calls take the SIMD GEMV of the current kernel family when enabled.
        self.weight = weight
        self.transposed = transposed
        self.n = n
        self.k = k
        packed = fast ? PackedMatrix(transposed: transposed, k: k, n: n, b: weight, ldb: transposed ? k : n) : nil
    }


    /// `C (m × n) = A · op(W) + beta · C` (beta 0 or 1) on the calling thread.
    @inline(__always)
    func multiply(m: Int, a: UnsafePointer<Float>, lda: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 { return }
        if let packed {
            packed.multiplyUnthreaded(m: m, a: a, lda: lda, beta: beta, c: c, ldc: ldc)
        } else if m == 1 && FastGEMM.isEnabled && (beta == 0 || beta == 1) {
            FastGEMM.gemv(transposeB: transposed, n: n, k: k, x: a, b: weight, ldb: transposed ? k : n, beta: beta, y: c)
        } else if transposed {
            stepProduct(m: m, n: n, k: k, a: a, lda: lda, weight: weight, beta: beta, c: c, ldc: ldc)
        } else {
            stepProductUntransposed(m: m, n: n, k: k, a: a, lda: lda, weight: weight, beta: beta, c: c, ldc: ldc)
        }
    }
}

/// How a time loop splits the batch over threads: batch elements are independent through time, so
/// each thread runs every step for its own rows with no synchronisation inside the loop.
/// `fast` is false on the reference path (one thread, BLAS products).
func batchPartition(batchSize: Int, fast: Bool, allowThreads: Bool = true) -> [Range<Int>] {
    let threads = fast && allowThreads ? Swift.min(ComputeThreads.count, Swift.max(1, batchSize / 4)) : 1
    return (0..<threads).map { t in (t * batchSize / threads)..<((t + 1) * batchSize / threads) }
}
