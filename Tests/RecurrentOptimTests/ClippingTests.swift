import XCTest
import RecurrentCore
import RecurrentAutodiff
import RecurrentOptim

/// Gradient clipping against `torch.nn.utils.clip_grad_norm_` / `clip_grad_value_`
/// (numbers from scripts/reference/optimizers.py).
final class ClippingTests: XCTestCase {
    /// The gradients of scripts/reference/optimizers.py (`CLIP_GRADS`): shapes (2, 3), (3), (2).
    static let gradients: [(shape: [Int], scalars: [Float])] = [
        ([2, 3], [0.5, -1.5, 2.0, -0.25, 3.0, -1.0]),
        ([3], [0.75, -2.5, 0.0]),
        ([2], [4.0, -0.5]),
    ]

    private func makeParameters() -> [Parameter] {
        Self.gradients.map { shape, scalars in
            let p = Variable.parameter(Tensor(zeros: shape))
            p.grad = Tensor(shape: shape, scalars: scalars)
            return p
        }
    }

    private func assertClose(_ actual: [Float], _ expected: [Float], rtol: Float = 1e-6,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for (j, (x, y)) in zip(actual, expected).enumerated() where !(abs(x - y) <= rtol * max(abs(y), 1e-3)) {
            XCTFail("element \(j): got \(x), PyTorch \(y)", file: file, line: line)
        }
    }

    private func assertNormClipping(maxNorm: Float, normType: Float, norm expectedNorm: Float, grads expected: [Float],
                                    file: StaticString = #filePath, line: UInt = #line) {
        let parameters = makeParameters()
        let norm = clipGradientNorm(parameters, maxNorm: maxNorm, normType: normType)
        XCTAssertEqual(norm, expectedNorm, accuracy: 1e-6 * expectedNorm, "norm before clipping", file: file, line: line)
        assertClose(parameters.flatMap { $0.grad!.scalars }, expected, file: file, line: line)
    }

    func testL2NormClipping() {
        assertNormClipping(maxNorm: 1, normType: 2, norm: TorchClipping.l2ClippedNorm, grads: TorchClipping.l2ClippedGrads)
        // Hand check: Σ g² = 0.25+2.25+4+0.0625+9+1+0.5625+6.25+0+16+0.25 = 39.625.
        XCTAssertEqual(TorchClipping.l2ClippedNorm, Float(39.625.squareRoot()), accuracy: 1e-6)
    }

    func testInfinityNormClipping() {
        assertNormClipping(maxNorm: 2, normType: .infinity, norm: TorchClipping.infClippedNorm, grads: TorchClipping.infClippedGrads)
        XCTAssertEqual(TorchClipping.infClippedNorm, 4)
    }

    func testL1AndL3NormClipping() {
        assertNormClipping(maxNorm: 3, normType: 1, norm: TorchClipping.l1ClippedNorm, grads: TorchClipping.l1ClippedGrads)
        assertNormClipping(maxNorm: 1.5, normType: 3, norm: TorchClipping.l3ClippedNorm, grads: TorchClipping.l3ClippedGrads)
    }

    func testGradientsWithinTheBoundAreUnchanged() {
        let parameters = makeParameters()
        let norm = clipGradientNorm(parameters, maxNorm: 100)
        XCTAssertEqual(norm, TorchClipping.l2UnclippedNorm, accuracy: 1e-6 * norm)
        XCTAssertEqual(parameters.flatMap { $0.grad!.scalars }, TorchClipping.l2UnclippedGrads)
        XCTAssertEqual(parameters.flatMap { $0.grad!.scalars }, Self.gradients.flatMap(\.scalars))
    }

    func testParametersWithoutGradientAreIgnored() {
        let parameters = makeParameters()
        let idle = Variable.parameter(Tensor([1, 2, 3]))
        let norm = clipGradientNorm(parameters + [idle], maxNorm: 1)
        XCTAssertEqual(norm, TorchClipping.l2ClippedNorm, accuracy: 1e-6 * norm)
        XCTAssertNil(idle.grad)
        XCTAssertEqual(clipGradientNorm([idle], maxNorm: 1), 0)
        XCTAssertEqual(clipGradientNorm([], maxNorm: 1), 0)
    }

    func testClippedGradientsHaveTheMaximumNorm() {
        let parameters = makeParameters()
        clipGradientNorm(parameters, maxNorm: 0.5)
        let after = clipGradientNorm(parameters, maxNorm: 1000)
        XCTAssertEqual(after, 0.5, accuracy: 1e-6)   // maxNorm · total / (total + 1e-6)
    }

    func testNaNGradientGivesNaNNormAndNaNGradients() {
        // PyTorch does not special-case a non-finite norm (unless error_if_nonfinite): the
        // coefficient is NaN and so are the gradients afterwards.
        let parameters = makeParameters()
        parameters[1].grad![1] = .nan
        XCTAssertTrue(clipGradientNorm(parameters, maxNorm: 1).isNaN)
        XCTAssertTrue(parameters.allSatisfy { $0.grad!.scalars.allSatisfy(\.isNaN) })
        let inf = makeParameters()
        inf[2].grad![0] = .nan
        XCTAssertTrue(clipGradientNorm(inf, maxNorm: 1, normType: .infinity).isNaN)
    }

    func testValueClipping() {
        let parameters = makeParameters()
        let idle = Variable.parameter(Tensor([1, 2, 3]))
        clipGradientValue(parameters + [idle], clipValue: 1.25)
        XCTAssertEqual(parameters.flatMap { $0.grad!.scalars }, TorchClipping.valueClippedGrads)
        XCTAssertEqual(TorchClipping.valueClippedGrads, [0.5, -1.25, 1.25, -0.25, 1.25, -1, 0.75, -1.25, 0, 1.25, -0.5])
        XCTAssertNil(idle.grad)

        let withNaN = Variable.parameter(Tensor([0, 0]))
        withNaN.grad = Tensor([.nan, -7])
        clipGradientValue([withNaN], clipValue: 2)
        XCTAssertTrue(withNaN.grad![0].isNaN)
        XCTAssertEqual(withNaN.grad![1], -2)
    }
}

// BEGIN GENERATED: output of scripts/reference/optimizers.py (torch.nn.utils.clip_grad_*)
// MARK: clipping (scripts/reference/optimizers.py, torch 2.15.0+cu132)
enum TorchClipping {
    static let l2ClippedNorm: Float = 6.29483938
    static let l2ClippedGrads: [Float] = [0.0794301331, -0.238290399, 0.317720532, -0.0397150666, 0.476580799, -0.158860266, 0.1191452, -0.397150666, 0, 0.635441065, -0.0794301331]
    static let l2UnclippedNorm: Float = 6.29483938
    static let l2UnclippedGrads: [Float] = [0.5, -1.5, 2, -0.25, 3, -1, 0.75, -2.5, 0, 4, -0.5]
    static let infClippedNorm: Float = 4
    static let infClippedGrads: [Float] = [0.24999994, -0.749999821, 0.999999762, -0.12499997, 1.49999964, -0.499999881, 0.374999911, -1.24999976, 0, 1.99999952, -0.24999994]
    static let l1ClippedNorm: Float = 16
    static let l1ClippedGrads: [Float] = [0.0937499851, -0.28124994, 0.37499994, -0.0468749925, 0.562499881, -0.18749997, 0.14062497, -0.46874994, 0, 0.749999881, -0.0937499851]
    static let l3ClippedNorm: Float = 4.92813921
    static let l3ClippedGrads: [Float] = [0.152187228, -0.456561685, 0.608748913, -0.0760936141, 0.913123369, -0.304374456, 0.228280842, -0.760936141, 0, 1.21749783, -0.152187228]
    static let valueClippedGrads: [Float] = [0.5, -1.25, 1.25, -0.25, 1.25, -1, 0.75, -1.25, 0, 1.25, -0.5]
}
// END GENERATED
