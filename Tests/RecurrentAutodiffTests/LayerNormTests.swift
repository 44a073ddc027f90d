import XCTest
import RecurrentCore
import RecurrentAutodiff

/// `layerNorm`: values against `torch.nn.functional.layer_norm` (scripts/reference/cell_variants.py)
/// and finite-difference gradients with respect to the input, the gain and the shift.
final class LayerNormTests: XCTestCase {
    /// Element k is `(((k·a + b) mod m) − m/2) · scale` rounded to Float, as `pattern` in the script.
    private func pattern(_ shape: [Int], a: Int, b: Int, m: Int, scale: Double) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, scalars: (0..<n).map { k in Float(Double((k * a + b) % m - m / 2) * scale) })
    }

    private func assertClose(_ actual: Tensor, _ expected: [Float], tolerance: Float = 2e-6,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for (i, (a, e)) in zip(actual.scalars, expected).enumerated() where !(abs(a - e) <= tolerance * (1 + abs(e))) {
            XCTFail("element \(i): \(a) vs expected \(e)", file: file, line: line)
            return
        }
    }

    func testValuesMatchPyTorch() {
        let x = Variable(pattern([3, 5], a: 7, b: 2, m: 11, scale: 0.3))
        let w = Variable(pattern([5], a: 3, b: 1, m: 7, scale: 0.25)), b = Variable(pattern([5], a: 5, b: 2, m: 9, scale: 0.1))
        assertClose(layerNorm(x, weight: w, bias: b).value, [
            0.27433899, 0.61622603, -0.1, 0.40000001, 0.71150849, -0.083358181, -0.049925438, -0.58114752,
            0.40000001, 1.1372577, -0.44385491, 0.07356332, -1.2496017, 0.40000001, -0.94058325,
        ])
        assertClose(layerNorm(x).value, [
            -0.94867799, 1.2649041, 1.755407e-17, -1.2649041, 0.94867799, -0.23328364, -1.3997018, 0.64153002,
            -0.5248882, 1.5163436, 0.48770981, -0.90574677, 1.5328023, 0.13934565, -1.254111,
        ])
        // Rank 3, rows with a large mean, a gain without a shift and a large epsilon.
        let x3 = Variable(pattern([2, 2, 4], a: 5, b: 1, m: 13, scale: 0.7).map { $0 + 3 })
        assertClose(layerNorm(x3, weight: Variable(pattern([4], a: 3, b: 2, m: 5, scale: 0.5)), epsilon: 0.1).value, [
            0, -0.19770014, 0.75785058, 0.29655021, 0, 1.5157011, -0.098850105, -0.56015044,
            0, -0.19770018, 0.75785057, 0.29655023, 0, 1.5157012, -0.098850071, -0.56015043,
        ])
    }

    func testEachRowHasMeanZeroAndVarianceOneWithoutAffine() {
        var rng = RandomGenerator(seed: 1)
        let y = layerNorm(Variable(.uniform(shape: [4, 7], low: -3, high: 5, using: &rng)), epsilon: 0).value
        for r in 0..<4 {
            let row = Array(y.scalars[(r * 7)..<(r * 7 + 7)])
            let mean = row.reduce(0, +) / 7
            XCTAssertEqual(mean, 0, accuracy: 1e-6)
            XCTAssertEqual(row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 7, 1, accuracy: 1e-5)
        }
    }

    func testGradients() {
        var rng = RandomGenerator(seed: 2)
        let x = Variable(.uniform(shape: [3, 2, 5], low: -1, high: 1, using: &rng), requiresGrad: true)
        let w = Variable(.uniform(shape: [5], low: 0.5, high: 1.5, using: &rng), requiresGrad: true)
        let b = Variable(.uniform(shape: [5], low: -0.5, high: 0.5, using: &rng), requiresGrad: true)
        let probe = Variable(.uniform(shape: [3, 2, 5], low: -1, high: 1, using: &rng))
        let check = GradientCheck()
        var bad = check.mismatches(of: [("x", x), ("weight", w), ("bias", b)]) {
            (layerNorm(x, weight: w, bias: b) * probe).sum()
        }
        XCTAssertTrue(bad.isEmpty, "affine: \(bad)")
        bad = check.mismatches(of: [("x", x)]) { (layerNorm(x) * probe).sum() }
        XCTAssertTrue(bad.isEmpty, "plain: \(bad)")
        // The gradient with respect to the input is orthogonal to the constant and to x̂ per row:
        // shifting a row or scaling it about its mean does not change a layer norm without ε.
        x.zeroGrad()
        (layerNorm(x, epsilon: 0) * probe).sum().backward()
        let g = x.grad!
        for r in 0..<6 {
            let row = Array(g.scalars[(r * 5)..<(r * 5 + 5)])
            XCTAssertEqual(row.reduce(0, +), 0, accuracy: 1e-5)
        }
    }

    func testWeightAndBiasOnlyPaths() {
        // Gradients reach only the operands that require them.
        var rng = RandomGenerator(seed: 3)
        let x = Variable(.uniform(shape: [2, 4], low: -1, high: 1, using: &rng))
        let w = Variable(Tensor(repeating: 1, shape: [4]), requiresGrad: true)
        let b = Variable(Tensor(zeros: [4]), requiresGrad: true)
        let y = layerNorm(x, weight: w, bias: b)
        y.sum().backward()
        XCTAssertEqual(b.grad, Tensor(repeating: 2, shape: [4]))
        XCTAssertEqual(w.grad!.scalars.count, 4)
        XCTAssertNil(x.grad)
        let xhat = layerNorm(x).value
        for j in 0..<4 { XCTAssertEqual(w.grad!.scalars[j], xhat.scalars[j] + xhat.scalars[4 + j], accuracy: 1e-6) }
    }
}
