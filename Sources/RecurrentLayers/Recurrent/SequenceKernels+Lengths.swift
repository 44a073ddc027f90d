import RecurrentCore

// Padded batches in the fused kernels (`lengths`): row b is active at time steps 0..<lengths[b].
//
// An inactive step carries the row's state through unchanged, s_t = s_{t−1}, exactly as
// `runSequence(_:over:lengths:)` does. The kernels compute every row as usual (the rows are
// independent) and then, for the inactive rows of the step:
// - forward: `carryInactiveRows` overwrites the row's h_t in the layer output (and c_t in the LSTM
//   cell buffer) with h_{t−1} (c_{t−1}). The buffers thus hold the carried state at the padding: the
//   final state read at the last processed step is each row's own (after its last element forwards,
//   after element 0 in reverse), and the reverse direction starts each row from h0 at its own last
//   element (PyTorch's packed sequences).
// - backward: the row's gate gradients are zero (the elementwise loops skip it, then
//   `clearInactiveRows` zeros its dgates), and dh, dc pass through unchanged. Kernels whose product
//   `dh_{t−1} = dgates_t · W_hh` overwrites dh (beta 0: RNN, LSTM) run it with beta 1 after
//   `zeroActiveRows` has cleared the active rows' dh, so the inactive rows keep theirs.
// The layer output visible to the caller is zero at the padding (`zeroingPadding`), and the gradient
// arriving there is dropped; between layers the carried values stay in the buffers, where the next
// layer's zero gate gradients at the padding keep them out of every gradient.
// Without lengths none of this runs: every hook returns at once.

extension SequenceGeometry {
    /// Whether row `b` is active at time `t` (always without lengths).
    @inline(__always)
    func isActive(_ t: Int, _ b: Int) -> Bool { lengths.map { t < $0[b] } ?? true }

    /// `tensor` (rows × width, in this geometry's layout) with the padding rows set to zero.
    func zeroingPadding(_ tensor: Tensor) -> Tensor {
        guard let lengths else { return tensor }
        var result = tensor
        let width = tensor.count / rows
        result.scalars.withUnsafeMutableBufferPointer { out in
            for b in 0..<batchSize {
                for t in lengths[b]..<sequenceLength {
                    let start = row(t, b) * width
                    for j in 0..<width { out[start + j] = 0 }
                }
            }
        }
        return result
    }
}

extension FusedDirectionContext {
    /// Forward, after step `s` of `rows`: each inactive row's h_t (and c_t in `cells`, rows × H)
    /// becomes its h_{t−1} (c_{t−1}).
    @inline(__always)
    func carryInactiveRows(step s: Int, rows: Range<Int>, cells: UnsafeMutablePointer<Float>? = nil) {
        guard let lengths = geometry.lengths else { return }
        let g = geometry, H = hiddenSize, t = g.time(step: s, reverse: reverse)
        let (hPrev, hPrevStride) = previousH(step: s)
        for b in rows where t >= lengths[b] {
            (output + g.row(t, b) * outputWidth + column).update(from: hPrev + b * hPrevStride, count: outputHiddenSize)
            if let cells {
                let cPrev = s == 0 ? c0! + b * H : UnsafePointer(cells + g.row(g.time(step: s - 1, reverse: reverse), b) * H)
                (cells + g.row(t, b) * H).update(from: cPrev, count: H)
            }
        }
    }

    /// Backward, step at time `t`: zeros the `width` values of each inactive row of `rows` in the
    /// per-position buffers `a` and `b` (gate gradients, saved dh; nil: none).
    @inline(__always)
    func clearInactiveRows(time t: Int, rows: Range<Int>, width: Int, _ a: UnsafeMutablePointer<Float>?,
                           _ b: UnsafeMutablePointer<Float>? = nil) {
        guard let lengths = geometry.lengths else { return }
        for row in rows where t >= lengths[row] {
            let offset = geometry.row(t, row) * width
            (a.map { $0 + offset })?.initialize(repeating: 0, count: width)
            (b.map { $0 + offset })?.initialize(repeating: 0, count: width)
        }
    }

    /// Backward, before `dh_{t−1} = dgates_t · W_hh` is added with beta 1: zeros dh (B × `width`) of the
    /// active rows of `rows`, so that they receive exactly the product while inactive rows keep theirs.
    /// Returns the beta to use: 0 without lengths (the plain kernels' product), else 1.
    @inline(__always)
    func zeroActiveRows(time t: Int, rows: Range<Int>, dh: UnsafeMutablePointer<Float>, width: Int) -> Float {
        guard let lengths = geometry.lengths else { return 0 }
        for b in rows where t < lengths[b] { (dh + b * width).initialize(repeating: 0, count: width) }
        return 1
    }
}
