import XCTest
import RecurrentCore
import RecurrentAutodiff

/// Finite-difference checks for the basic arithmetic, activation and matrix ops.
final class CoreOpsGradientTests: XCTestCase {
    private var rng = RandomGenerator(seed: 99)

    private func leaf(_ shape: [Int], low: Float = -1, high: Float = 1) -> Variable {
        Variable(.uniform(shape: shape, low: low, high: high, using: &rng), requiresGrad: true)
    }

    private func assertGradients(_ variables: [(name: String, variable: Variable)], _ loss: () -> Variable,
                                 file: StaticString = #filePath, line: UInt = #line) {
        let bad = GradientCheck().mismatches(of: variables, loss: loss)
        XCTAssertTrue(bad.isEmpty, "\(bad)", file: file, line: line)
    }

    func testArithmetic() {
        let a = leaf([2, 3]), b = leaf([2, 3]), probe = Variable(.uniform(shape: [2, 3], low: -1, high: 1, using: &rng))
        assertGradients([("a", a), ("b", b)]) { ((a + b) * probe).sum() }
        assertGradients([("a", a), ("b", b)]) { ((a - b) * probe).sum() }
        assertGradients([("a", a), ("b", b)]) { (a * b * probe).sum() }
        assertGradients([("a", a)]) { ((2.5 * a) * probe + (-a) * 0.5).sum() }
    }

    func testActivations() {
        let x = leaf([3, 4], low: -2, high: 2)
        // Keep ReLU's inputs away from its kink at 0, where finite differences are meaningless.
        x.value = x.value.map { abs($0) < 0.05 ? $0 + 0.2 : $0 }
        let probe = Variable(.uniform(shape: [3, 4], low: -1, high: 1, using: &rng))
        assertGradients([("x", x)]) { (x.tanh() * probe).sum() }
        assertGradients([("x", x)]) { (x.sigmoid() * probe).sum() }
        assertGradients([("x", x)]) { (x.relu() * probe).sum() }
    }

    func testReductionsReshapeAndBias() {
        let x = leaf([2, 3, 4]), bias = leaf([4]), probe = Variable(.uniform(shape: [6, 4], low: -1, high: 1, using: &rng))
        assertGradients([("x", x), ("bias", bias)]) { (x.addingBias(bias).reshaped([6, 4]) * probe).mean() }
        assertGradients([("x", x)]) { (x * x).sum() }
    }

    func testMatmulAndLinearWithoutBias() {
        let a = leaf([3, 5]), b = leaf([5, 2]), w = leaf([4, 5])
        let probe = Variable(.uniform(shape: [3, 2], low: -1, high: 1, using: &rng))
        assertGradients([("a", a), ("b", b)]) { (matmul(a, b) * probe).sum() }
        let probe2 = Variable(.uniform(shape: [3, 4], low: -1, high: 1, using: &rng))
        assertGradients([("a", a), ("w", w)]) { (linear(a, weight: w, bias: nil) * probe2).sum() }
    }

    func testValuesOfBasicOps() {
        let a = Variable(Tensor(rows: [[1, 2], [3, 4]])), b = Variable(Tensor(rows: [[5, 6], [7, 8]]))
        XCTAssertEqual(matmul(a, b).value, Tensor(rows: [[19, 22], [43, 50]]))
        XCTAssertEqual((a - b).value.scalars, [-4, -4, -4, -4])
        XCTAssertEqual(a.addingBias(Variable(Tensor([10, 20]))).value.scalars, [11, 22, 13, 24])
        XCTAssertEqual(a.mean().value.scalar, 2.5)
        XCTAssertEqual(Variable(Tensor([-1, 0, 2])).relu().value.scalars, [0, 0, 2])
        XCTAssertEqual(Variable(Tensor([0])).sigmoid().value.scalar, 0.5)
    }
}
