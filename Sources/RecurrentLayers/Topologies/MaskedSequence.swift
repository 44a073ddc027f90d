import RecurrentCore
import RecurrentAutodiff

// Variable-length batches for the generic sequence runner.
//
// A padded batch `(sequenceLength, batchSize, inputSize)` holds sequence b in its first `lengths[b]`
// steps. Rows past their length are "inactive": the state is carried through unchanged and the output
// is zero, so each sequence's final state is the one after its own last step (what PyTorch's packed
// sequences give). The same row selection resets chosen rows of a carried state to zero for streaming.

/// A recurrent state whose batch rows can be chosen one by one: what `runSequence(_:over:lengths:)`
/// needs to carry inactive rows through unchanged.
public protocol MaskableState {
    /// Row b comes from `self` where `take[b]` is true and from `other` elsewhere; gradients flow to
    /// the row that was taken. Both states have the same shapes, with `take.count` rows.
    func selectingRows(_ take: [Bool], otherwise other: Self) -> Self
    /// The same state with the rows where `reset[b]` is true set to zero (their gradient stops there).
    func resettingRows(_ reset: [Bool]) -> Self
}

/// Row b (along `axis`) of the result is `a`'s where `take[b]` and `b`'s elsewhere.
/// Backward: `dA` is `dOutput` on the taken rows and zero elsewhere; `dB` the opposite.
public func selectRows(_ take: [Bool], _ a: Variable, otherwise b: Variable, axis: Int = 0) -> Variable {
    let shape = a.shape
    precondition(shape == b.shape, "selectRows: shapes \(shape) and \(b.shape) differ")
    precondition(axis >= 0 && axis < shape.count && shape[axis] == take.count,
                 "selectRows: \(take.count) choices for axis \(axis) of shape \(shape)")
    if take.allSatisfy({ $0 }) { return a }
    let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
    let rows = take.count
    // Copies the rows of `x` where take == keep, zeros elsewhere; or merges two tensors.
    func merge(_ x: Tensor, _ y: Tensor?) -> Tensor {
        var out = y ?? Tensor(zeros: shape)
        out.scalars.withUnsafeMutableBufferPointer { out in
            x.scalars.withUnsafeBufferPointer { x in
                for o in 0..<outer {
                    for r in 0..<rows where take[r] {
                        let base = (o * rows + r) * inner
                        for i in 0..<inner { out[base + i] = x[base + i] }
                    }
                }
            }
        }
        return out
    }
    func rowsNotTaken(_ y: Tensor) -> Tensor {
        var out = y
        out.scalars.withUnsafeMutableBufferPointer { out in
            for o in 0..<outer {
                for r in 0..<rows where take[r] {
                    let base = (o * rows + r) * inner
                    for i in 0..<inner { out[base + i] = 0 }
                }
            }
        }
        return out
    }
    return Tape.record("selectRows", inputs: [a, b], output: merge(a.value, b.value)) { g in
        [a.requiresGrad ? merge(g, nil) : nil, b.requiresGrad ? rowsNotTaken(g) : nil]
    }
}

extension Variable: MaskableState {
    /// Rows along the first axis (`(batchSize, ...)`).
    public func selectingRows(_ take: [Bool], otherwise other: Variable) -> Variable {
        selectRows(take, self, otherwise: other)
    }

    /// Rows along the first axis set to zero where `reset[b]`.
    public func resettingRows(_ reset: [Bool]) -> Variable {
        selectRows(reset.map { !$0 }, self, otherwise: Variable(Tensor(zeros: shape)))
    }
}

extension LSTMState: MaskableState {
    public func selectingRows(_ take: [Bool], otherwise other: LSTMState) -> LSTMState {
        LSTMState(h: h.selectingRows(take, otherwise: other.h), c: c.selectingRows(take, otherwise: other.c))
    }

    public func resettingRows(_ reset: [Bool]) -> LSTMState {
        LSTMState(h: h.resettingRows(reset), c: c.resettingRows(reset))
    }
}

extension RecurrentLayerState {
    /// Per-sample reset for streaming with the fused layers: zeros the batch rows where `reset[b]`
    /// (axis 1 of `h` and `c`, which are `(numLayers·numDirections, batchSize, hidden)`), so sample b
    /// starts a new sequence at the next call while the others continue.
    public func resettingRows(_ reset: [Bool]) -> RecurrentLayerState {
        let keep = reset.map { !$0 }
        func zeroed(_ x: Variable) -> Variable { selectRows(keep, x, otherwise: Variable(Tensor(zeros: x.shape)), axis: 1) }
        return RecurrentLayerState(h: zeroed(h), c: c.map(zeroed))
    }
}

/// The `(sequenceLength, batchSize)` mask of a padded batch: 1 where `t < lengths[b]`, else 0.
public func sequenceMask(lengths: [Int], sequenceLength: Int) -> Tensor {
    let batchSize = lengths.count
    return Tensor(shape: [sequenceLength, batchSize]) { out in
        for t in 0..<sequenceLength {
            for b in 0..<batchSize { out[t * batchSize + b] = t < lengths[b] ? 1 : 0 }
        }
    }
}

/// The mean of `values` over the positions where `mask` is 1: `Σ values ⊙ mask / Σ mask`.
///
/// `mask` has the shape of `values` or a leading part of it (e.g. a `(sequenceLength, batchSize)`
/// mask for per-element losses `(sequenceLength, batchSize, features)`, broadcast over the rest;
/// the count then includes the broadcast features). Use it with a loss computed with
/// `reduction: .none` to ignore the padding of a variable-length batch.
/// - Precondition: the mask selects at least one element.
public func maskedMean(_ values: Variable, mask: Tensor) -> Variable {
    let shape = values.shape
    precondition(Array(shape.prefix(mask.rank)) == mask.shape,
                 "maskedMean: mask shape \(mask.shape) is not a leading part of \(shape)")
    let inner = shape[mask.rank...].reduce(1, *)
    let full = Tensor(shape: shape) { out in
        for (k, m) in mask.scalars.enumerated() {
            for i in 0..<inner { out[k * inner + i] = m }
        }
    }
    let count = full.sum()
    precondition(count > 0, "maskedMean: the mask selects no element")
    return (values * Variable(full)).sum() / count
}

/// Runs `cell` over a padded batch of sequences of different lengths.
///
/// Shapes: `input` `(sequenceLength, batchSize, inputSize)` with sequence b in steps
/// `0..<lengths[b]`; the output `(sequenceLength, batchSize, outputSize)` is the cell's output on the
/// active steps and zero on padding. The returned state holds, for each row, the state after that
/// row's own last step (rows of length 0 keep their initial state).
///
/// With `reversed`, each sequence is read from its own last element back to its first (the reverse
/// direction of a bidirectional layer over packed sequences); the state returned is the one after
/// reading element 0, and the output for element t is stored at step t.
///
/// This is the generic, op-level path (any `RecurrentCell` whose state is `MaskableState`); the fused
/// `RNN`/`LSTM`/`GRU` layers take the same `lengths` in their call and run them in their kernels.
/// - Precondition: `lengths.count == batchSize` and every length is in `0...sequenceLength`.
public func runSequence<Cell: RecurrentCell>(
    _ cell: Cell, over input: Variable, lengths: [Int], initialState: Cell.State? = nil, reversed: Bool = false
) -> (output: Variable, state: Cell.State) where Cell.State: MaskableState {
    precondition(input.shape.count == 3,
                 "runSequence: input must be (sequenceLength, batchSize, inputSize), got \(input.shape)")
    let sequenceLength = input.shape[0], batchSize = input.shape[1]
    precondition(sequenceLength > 0, "runSequence: the sequence has no time steps (input shape \(input.shape))")
    precondition(lengths.count == batchSize, "runSequence: \(lengths.count) lengths for a batch of \(batchSize)")
    for (b, length) in lengths.enumerated() where length < 0 || length > sequenceLength {
        preconditionFailure("runSequence: length \(length) of row \(b) is outside 0...\(sequenceLength)")
    }
    let steps = input.unstacked(axis: 0)
    var state = initialState ?? cell.zeroState(batchSize: batchSize)
    var outputs = [Variable?](repeating: nil, count: sequenceLength)
    for k in 0..<sequenceLength {
        let t = reversed ? sequenceLength - 1 - k : k
        let active = lengths.map { t < $0 }
        let step = cell(steps[t], state: state)
        if active.allSatisfy({ $0 }) {
            outputs[t] = step.output
            state = step.state
        } else {
            outputs[t] = selectRows(active, step.output, otherwise: Variable(Tensor(zeros: step.output.shape)))
            state = step.state.selectingRows(active, otherwise: state)
        }
    }
    return (Variable.stacked(outputs.map { $0! }), state)
}

/// Runs `cell` over a batch with a `(sequenceLength, batchSize)` mask of 0/1: on steps where
/// `mask[t, b]` is 0 row b's state is carried through unchanged and its output is zero. A length
/// mask (`sequenceMask(lengths:sequenceLength:)`) gives the same result as `lengths:`; other masks
/// skip steps anywhere (e.g. gaps in an irregular stream).
public func runSequence<Cell: RecurrentCell>(
    _ cell: Cell, over input: Variable, mask: Tensor, initialState: Cell.State? = nil
) -> (output: Variable, state: Cell.State) where Cell.State: MaskableState {
    precondition(input.shape.count == 3 && mask.shape == [input.shape[0], input.shape[1]],
                 "runSequence: mask must be (sequenceLength, batchSize) = \(Array(input.shape.prefix(2))), got \(mask.shape)")
    let sequenceLength = input.shape[0], batchSize = input.shape[1]
    let steps = input.unstacked(axis: 0)
    var state = initialState ?? cell.zeroState(batchSize: batchSize)
    var outputs = [Variable]()
    for t in 0..<sequenceLength {
        let active = (0..<batchSize).map { mask.scalars[t * batchSize + $0] != 0 }
        let step = cell(steps[t], state: state)
        outputs.append(selectRows(active, step.output, otherwise: Variable(Tensor(zeros: step.output.shape))))
        state = step.state.selectingRows(active, otherwise: state)
    }
    return (Variable.stacked(outputs), state)
}
