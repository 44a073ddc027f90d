import RecurrentCore
import RecurrentAutodiff

/// How the outputs of the two directions of a bidirectional run are combined at each step.
public enum BidirectionalMerge: String, Codable, CaseIterable, Sendable {
    /// `[y_fwd; y_bwd]`, `(T, B, O_fwd + O_bwd)` (PyTorch's bidirectional layers).
    case concatenate
    /// `y_fwd + y_bwd`.
    case sum
    /// `(y_fwd + y_bwd) / 2`.
    case mean
    /// `y_fwd ⊙ y_bwd`.
    case multiply
}

/// Runs `forward` over the sequence and `backward` over it in reverse, and merges their outputs step
/// by step: the output at step t combines the forward cell's output after reading `input[0...t]` and
/// the backward cell's after reading `input[t...]` (each row's own last element with `lengths`).
///
/// Shapes: `input` `(sequenceLength, batchSize, inputSize)`; the output is `(sequenceLength, batchSize,
/// O_fwd + O_bwd)` for `.concatenate` and `(sequenceLength, batchSize, O)` otherwise (the two output
/// sizes must then agree). With `lengths` the padding steps are zero in the output, and each final
/// state is taken at its row's own end (`runSequence(_:over:lengths:)`).
public func runBidirectional<Forward: RecurrentCell, Backward: RecurrentCell>(
    forward: Forward, backward: Backward, over input: Variable, lengths: [Int]? = nil,
    merge: BidirectionalMerge = .concatenate
) -> (output: Variable, forwardState: Forward.State, backwardState: Backward.State)
where Forward.State: MaskableState, Backward.State: MaskableState {
    precondition(input.shape.count == 3, "runBidirectional: input must be (sequenceLength, batchSize, inputSize), got \(input.shape)")
    let lengths = lengths ?? Array(repeating: input.shape[0], count: input.shape[1])
    let f = runSequence(forward, over: input, lengths: lengths)
    let b = runSequence(backward, over: input, lengths: lengths, reversed: true)
    if merge != .concatenate {
        precondition(f.output.shape == b.output.shape,
                     "runBidirectional: .\(merge) needs equal output sizes, got \(f.output.shape) and \(b.output.shape)")
    }
    let output: Variable
    switch merge {
    case .concatenate: output = Variable.concatenated([f.output, b.output], axis: 2)
    case .sum: output = f.output + b.output
    case .mean: output = (f.output + b.output) * 0.5
    case .multiply: output = f.output * b.output
    }
    return (output, f.state, b.state)
}
