import XCTest
import RecurrentCore
import RecurrentAutodiff

final class TapeTests: XCTestCase {
    func testLinearGradientsMatchFiniteDifferences() {
        var rng = RandomGenerator(seed: 1)
        let x = Variable(.uniform(shape: [3, 4], low: -1, high: 1, using: &rng), requiresGrad: true)
        let w = Variable.parameter(.uniform(shape: [5, 4], low: -1, high: 1, using: &rng))
        let b = Variable.parameter(.uniform(shape: [5], low: -1, high: 1, using: &rng))
        let probe = Variable(.uniform(shape: [3, 5], low: -1, high: 1, using: &rng))
        let bad = GradientCheck().mismatches(of: [("x", x), ("w", w), ("b", b)]) {
            (linear(x, weight: w, bias: b).tanh() * probe).sum()
        }
        XCTAssertTrue(bad.isEmpty, "\(bad)")
    }

    func testGradientAccumulatesOverSharedUse() {
        let x = Variable(Tensor([2, 3]), requiresGrad: true)
        let y = (x * x + x).sum()   // d/dx = 2x + 1
        y.backward()
        XCTAssertEqual(x.grad?.scalars, [5, 7])
    }

    func testNoGradientModeRecordsNothing() {
        let x = Variable(Tensor([1]), requiresGrad: true)
        let y = GradientMode.withoutGradients { x * x }
        XCTAssertTrue(y.isLeaf)
        XCTAssertFalse(y.requiresGrad)
    }
}
