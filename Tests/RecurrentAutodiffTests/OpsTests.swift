import Foundation
import XCTest
import RecurrentCore
import RecurrentAutodiff

/// Forward values (hand-computed) and finite-difference gradients for the ops added beyond the
/// skeleton: exp, log, division, scalar offsets, broadcast multiply, softmax, logSoftmax, slicing,
/// selecting, splitting, (un)stacking, concatenating, permuting, reductions along an axis, embedding.
///
/// Each gradient check reduces the op's output to a scalar through `sum(output ⊙ probe)` with a
/// random probe, so every output element carries a distinct weight.
final class OpsTests: XCTestCase {
    private var rng = RandomGenerator(seed: 7)

    private func leaf(_ shape: [Int], _ low: Float = -1, _ high: Float = 1) -> Variable {
        Variable(.uniform(shape: shape, low: low, high: high, using: &rng), requiresGrad: true)
    }

    /// `sum(y ⊙ probe)` for a random probe fixed per call of this function.
    private func probed(_ shape: [Int]) -> (Variable) -> Variable {
        let probe = Variable(.uniform(shape: shape, low: -1, high: 1, using: &rng))
        return { y in (y * probe).sum() }
    }

    private func assertGradients(
        _ variables: [(String, Variable)], file: StaticString = #filePath, line: UInt = #line,
        _ loss: () -> Variable
    ) {
        let bad = GradientCheck().mismatches(of: variables.map { (name: $0.0, variable: $0.1) }, loss: loss)
        XCTAssertTrue(bad.isEmpty, "gradient mismatches: \(bad)", file: file, line: line)
    }

    private func assertClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, "lengths differ: \(a) vs \(b)", file: file, line: line)
        for (x, y) in zip(a, b) where !(abs(x - y) <= tolerance) {
            XCTFail("\(a) differs from \(b) (tolerance \(tolerance))", file: file, line: line)
            return
        }
    }

    // MARK: Elementwise

    func testExpAndLogValues() {
        let x = Variable(Tensor([0, 1, -2]))
        assertClose(x.exp().value.scalars, [1, Float(M_E), Float(Foundation.exp(-2.0))])
        assertClose(Variable(Tensor([1, Float(M_E), 0.25])).log().value.scalars, [0, 1, Float(Foundation.log(0.25))])
        XCTAssertEqual(Variable(Tensor([0])).log().value.scalars, [-.infinity])
    }

    func testExpGradient() {
        let x = leaf([3, 4]), loss = probed([3, 4])
        assertGradients([("x", x)]) { loss(x.exp()) }
    }

    func testLogGradient() {
        let x = leaf([3, 4], 0.5, 2), loss = probed([3, 4])
        assertGradients([("x", x)]) { loss(x.log()) }
    }

    func testDivisionValues() {
        let a = Variable(Tensor([1, 6, -3])), b = Variable(Tensor([2, 3, 4]))
        XCTAssertEqual((a / b).value.scalars, [0.5, 2, -0.75])
        XCTAssertEqual((a / 4).value.scalars, [0.25, 1.5, -0.75])
        XCTAssertEqual((6 / b).value.scalars, [3, 2, 1.5])
    }

    func testDivisionGradients() {
        let a = leaf([2, 3]), b = leaf([2, 3], 1, 2), loss = probed([2, 3])
        assertGradients([("a", a), ("b", b)]) { loss(a / b) }
        assertGradients([("a", a)]) { loss(a / 0.7) }
        assertGradients([("b", b)]) { loss(1.5 / b) }
    }

    func testDivisionByConstantNumeratorGradientOnly() {
        // Only the denominator requires a gradient: the numerator's slot must be skipped.
        let a = Variable(Tensor([1, 2])), b = Variable(Tensor([2, 4]), requiresGrad: true)
        (a / b).sum().backward()
        // d(a/b)/db = −a/b² = [−1/4, −2/16]
        XCTAssertEqual(b.grad?.scalars, [-0.25, -0.125])
    }

    func testScalarOffsets() {
        let x = leaf([5]), loss = probed([5])
        XCTAssertEqual((1 - Variable(Tensor([0.25, 2]))).value.scalars, [0.75, -1])
        XCTAssertEqual((Variable(Tensor([0.25, 2])) + 1).value.scalars, [1.25, 3])
        XCTAssertEqual((Variable(Tensor([0.25, 2])) - 1).value.scalars, [-0.75, 1])
        assertGradients([("x", x)]) { loss(1 - x) }
        assertGradients([("x", x)]) { loss(x + 2) }
        assertGradients([("x", x)]) { loss(2 + x) }
        assertGradients([("x", x)]) { loss(x - 3) }
    }

    func testMultiplyingBroadcast() {
        let c = Variable(Tensor(rows: [[1, 2, 3], [4, 5, 6]]))
        let w = Variable(Tensor([10, 0, -1]))
        XCTAssertEqual(c.multiplyingBroadcast(w).value, Tensor(rows: [[10, 0, -3], [40, 0, -6]]))
        let x = leaf([2, 3, 4]), f = leaf([3, 4]), loss = probed([2, 3, 4])
        assertGradients([("x", x), ("f", f)]) { loss(x.multiplyingBroadcast(f)) }
    }

    // MARK: Softmax

    func testSoftmaxValuesAndStability() {
        // softmax([0, ln 2, ln 3]) = [1, 2, 3] / 6; adding a constant changes nothing.
        let l2 = Float(Foundation.log(2.0)), l3 = Float(Foundation.log(3.0))
        let x = Variable(Tensor(rows: [[0, l2, l3], [1000, 1000 + l2, 1000 + l3]]))
        let s = x.softmax().value.scalars
        assertClose(s, [1.0 / 6, 2.0 / 6, 3.0 / 6, 1.0 / 6, 2.0 / 6, 3.0 / 6])
        let ls = x.logSoftmax().value.scalars
        let expected = [1.0, 2.0, 3.0].map { Float(Foundation.log($0 / 6)) }
        assertClose(ls, expected + expected, tolerance: 1e-4)
        // Huge logits: the winner gets probability 1, the loser log-probability −2e4 (no inf/nan).
        let huge = Variable(Tensor([1e4, -1e4])).logSoftmax().value.scalars
        XCTAssertEqual(huge, [0, -2e4])
        XCTAssertEqual(Variable(Tensor([1e4, -1e4])).softmax().value.scalars, [1, 0])
    }

    func testSoftmaxGradient() {
        let x = leaf([2, 3, 5], -2, 2), loss = probed([2, 3, 5])
        assertGradients([("x", x)]) { loss(x.softmax()) }
    }

    func testLogSoftmaxGradient() {
        let x = leaf([4, 5], -2, 2), loss = probed([4, 5])
        assertGradients([("x", x)]) { loss(x.logSoftmax()) }
    }

    // MARK: Shape

    private let grid = Tensor(shape: [2, 3, 2], scalars: (0..<12).map(Float.init))

    func testSliceAndSelectValues() {
        let x = Variable(grid)
        XCTAssertEqual(x.slice(1..<3, axis: 1).value, Tensor(shape: [2, 2, 2], scalars: [2, 3, 4, 5, 8, 9, 10, 11]))
        XCTAssertEqual(x.slice(0..<1, axis: 0).value, Tensor(shape: [1, 3, 2], scalars: [0, 1, 2, 3, 4, 5]))
        XCTAssertEqual(x.slice(1..<2, axis: -1).value, Tensor(shape: [2, 3, 1], scalars: [1, 3, 5, 7, 9, 11]))
        XCTAssertEqual(x.select(1, axis: 0).value, Tensor(rows: [[6, 7], [8, 9], [10, 11]]))
        XCTAssertEqual(x.select(2, axis: 1).value, Tensor(rows: [[4, 5], [10, 11]]))
        XCTAssertEqual(x.select(0, axis: 2).value, Tensor(rows: [[0, 2, 4], [6, 8, 10]]))
    }

    func testSliceAndSelectGradients() {
        let x = leaf([3, 4, 2])
        let l1 = probed([3, 2, 2]), l2 = probed([3, 2]), l3 = probed([4, 2])
        assertGradients([("x", x)]) { l1(x.slice(1..<3, axis: 1)) }
        assertGradients([("x", x)]) { l2(x.select(3, axis: 1)) }
        assertGradients([("x", x)]) { l3(x.select(2, axis: 0)) }
        // Overlapping uses accumulate.
        let l4 = probed([3, 4, 1])
        assertGradients([("x", x)]) { l4(x.slice(0..<1, axis: 2) + x.slice(1..<2, axis: 2) * x.slice(0..<1, axis: 2)) }
    }

    func testSplitChunkAndConcatenate() {
        let x = Variable(grid)
        let parts = x.split(sizes: [1, 2], axis: 1)
        XCTAssertEqual(parts.map(\.shape), [[2, 1, 2], [2, 2, 2]])
        XCTAssertEqual(parts[0].value.scalars, [0, 1, 6, 7])
        XCTAssertEqual(Variable.concatenated(parts, axis: 1).value, grid)
        let halves = x.chunked(2, axis: -1)
        XCTAssertEqual(halves[1].value.scalars, [1, 3, 5, 7, 9, 11])

        let y = leaf([2, 6]), z = leaf([2, 3])
        let loss = probed([2, 2]), loss2 = probed([2, 9])
        // Only one of the three pieces is used: the other two receive zero gradients.
        assertGradients([("y", y)]) { loss(y.chunked(3, axis: 1)[1]) }
        assertGradients([("y", y)]) {
            let p = y.split(sizes: [1, 5], axis: 1)
            return loss(Variable.concatenated([p[0], p[1].slice(0..<1, axis: 1)], axis: 1) * y.slice(4..<6, axis: 1))
        }
        assertGradients([("y", y), ("z", z)]) { loss2(Variable.concatenated([y, z], axis: 1)) }
    }

    func testStackAndUnstack() {
        let a = Variable(Tensor([1, 2])), b = Variable(Tensor([3, 4]))
        XCTAssertEqual(Variable.stacked([a, b]).value, Tensor(rows: [[1, 2], [3, 4]]))
        let pieces = Variable(grid).unstacked(axis: 1)
        XCTAssertEqual(pieces.count, 3)
        XCTAssertEqual(pieces[2].value, Tensor(rows: [[4, 5], [10, 11]]))

        let x = leaf([3, 2, 4]), y = leaf([2, 4])
        let loss = probed([2, 2, 4]), loss2 = probed([2, 4])
        assertGradients([("x", x), ("y", y)]) { loss(Variable.stacked([x.select(1), y])) }
        assertGradients([("x", x)]) {
            let steps = x.unstacked(axis: 0)
            return loss2(steps[0] * steps[2] + steps[2])
        }
        let loss3 = probed([3, 2, 4])
        assertGradients([("x", x)]) { loss3(Variable.stacked(x.unstacked(axis: 2)).permuted([1, 2, 0])) }
    }

    func testPermuteSwapTranspose() {
        let x = Variable(grid)
        XCTAssertEqual(x.swappingAxes(0, 1).value, grid.permuted([1, 0, 2]))
        XCTAssertEqual(x.permuted([2, 0, 1]).shape, [2, 2, 3])
        XCTAssertEqual(x.permuted([2, 0, 1]).value[1, 0, 2], grid[0, 2, 1])
        XCTAssertEqual(Variable(Tensor(rows: [[1, 2, 3]])).transposed().value, Tensor(rows: [[1], [2], [3]]))

        let y = leaf([2, 3, 4]), m = leaf([3, 5])
        let l1 = probed([4, 2, 3]), l2 = probed([2, 4, 3]), l3 = probed([5, 3])
        assertGradients([("y", y)]) { l1(y.permuted([2, 0, 1])) }
        assertGradients([("y", y)]) { l2(y.swappingAxes(-1, 1)) }
        assertGradients([("m", m)]) { l3(m.transposed()) }
    }

    // MARK: Reductions

    func testSumAndMeanAlongAxis() {
        let x = Variable(grid)
        XCTAssertEqual(x.sum(alongAxis: 0).value, Tensor(rows: [[6, 8], [10, 12], [14, 16]]))
        XCTAssertEqual(x.sum(alongAxis: 1).value, Tensor(rows: [[6, 9], [24, 27]]))
        XCTAssertEqual(x.sum(alongAxis: -1, keepingAxis: true).value, Tensor(shape: [2, 3, 1], scalars: [1, 5, 9, 13, 17, 21]))
        XCTAssertEqual(x.mean(alongAxis: 1).value, Tensor(rows: [[2, 3], [8, 9]]))

        let y = leaf([3, 4, 2])
        let l1 = probed([3, 2]), l2 = probed([4, 2]), l3 = probed([3, 4, 1])
        assertGradients([("y", y)]) { l1(y.sum(alongAxis: 1)) }
        assertGradients([("y", y)]) { l2(y.mean(alongAxis: 0)) }
        assertGradients([("y", y)]) { l3(y.mean(alongAxis: 2, keepingAxis: true)) }
    }

    // MARK: Embedding

    func testEmbeddingLookupAndScatterAdd() {
        let weight = Variable(Tensor(rows: [[0, 1], [10, 11], [20, 21]]), requiresGrad: true)
        let y = embedding([2, 0, 2, 1], shape: [2, 2], weight: weight)
        XCTAssertEqual(y.value, Tensor(shape: [2, 2, 2], scalars: [20, 21, 0, 1, 20, 21, 10, 11]))
        // Row 2 is read twice: its gradient is the sum of both positions' seeds.
        y.backward(seed: Tensor(shape: [2, 2, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8]))
        XCTAssertEqual(weight.grad, Tensor(rows: [[3, 4], [7, 8], [6, 8]]))
        // The default shape is one axis of indices.
        XCTAssertEqual(embedding([1], weight: weight).value, Tensor(rows: [[10, 11]]))
    }

    func testEmbeddingGradient() {
        let weight = leaf([5, 3])
        let indices = [4, 0, 4, 2, 2, 2]
        let loss = probed([3, 2, 3])
        assertGradients([("weight", weight)]) { loss(embedding(indices, shape: [3, 2], weight: weight).tanh()) }
    }
}
