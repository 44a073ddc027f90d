import XCTest
import Recurrent
import RecurrentTestSupport

/// Bidirectional runs of any two cells with the four merge modes, over padded batches.
final class TopologyBidirectionalTests: XCTestCase {
    func testMergeModesValuesAndGradients() throws {
        var rng = RandomGenerator(seed: 6)
        let forward = try GRUCell(inputSize: 2, hiddenSize: 3, using: &rng)
        let backward = try GRUCell(inputSize: 2, hiddenSize: 3, using: &rng)
        let input = Variable(.uniform(shape: [4, 2, 2], low: -1, high: 1, using: &rng), requiresGrad: true)
        let lengths = [4, 2]
        let f = runSequence(forward, over: input, lengths: lengths).output.value
        let b = runSequence(backward, over: input, lengths: lengths, reversed: true).output.value
        // Row 1 alone, reversed: its backward output at step 0 has read elements 1 then 0.
        let row1 = Variable(input.value.rows(0..<2).split(sizes: [1, 1], axis: 1)[1])
        let alone = runSequence(backward, over: row1, reversed: true).output.value
        assertClose(b.row(0).row(1), alone.row(0).row(0), within: .recurrentLayer(.init(cell: .gru, inputSize: 2, hiddenSize: 3), sequenceLength: 2))
        for merge in BidirectionalMerge.allCases {
            let run = runBidirectional(forward: forward, backward: backward, over: input, lengths: lengths, merge: merge)
            let expected: Tensor
            switch merge {
            case .concatenate: expected = Tensor.concatenated([f, b], axis: 2)
            case .sum: expected = f + b
            case .mean: expected = (f + b) * 0.5
            case .multiply: expected = f * b
            }
            XCTAssertEqual(run.output.value.shape, expected.shape)
            // The same runs, then one elementwise merge of two values within ±1.
            assertClose(run.output.value, expected, within: Float32Tolerance(reductionLength: 2, magnitude: 2), "\(merge)")
            let probe = Variable(.uniform(shape: expected.shape, low: -1, high: 1, using: &rng))
            let mismatches = GradientCheck().mismatches(
                of: [("input", input)] + prefixed("fwd", forward.namedParameters).map { ($0.name, $0.parameter) }
                    + prefixed("bwd", backward.namedParameters).map { ($0.name, $0.parameter) }
            ) {
                let r = runBidirectional(forward: forward, backward: backward, over: input, lengths: lengths, merge: merge)
                return (r.output * probe).sum() + r.backwardState.sum()
            }
            XCTAssertEqual(mismatches.map(\.description), [], "\(merge)")
        }
        // Padding steps of row 1 are zero in every mode.
        let run = runBidirectional(forward: forward, backward: backward, over: input, lengths: lengths, merge: .sum)
        XCTAssertEqual(run.output.value.row(3).row(1).scalars, [0, 0, 0])
    }
}
