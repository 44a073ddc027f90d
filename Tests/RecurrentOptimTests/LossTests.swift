import Foundation
import XCTest
import RecurrentCore
import RecurrentAutodiff
import RecurrentOptim

/// Losses against PyTorch (numbers printed by scripts/reference/losses.py), hand-checked cases and
/// finite-difference gradient checks.
final class LossTests: XCTestCase {
    /// value[r][c] = (((7r + 3c + offset) mod 11) − 5) · scale, rounded to Float as the script does.
    private func grid(_ rows: Int, _ cols: Int, _ scale: Double, offset: Int = 0) -> Tensor {
        var values: [Float] = []
        for r in 0..<rows {
            for c in 0..<cols { values.append(Float(Double((r * 7 + c * 3 + offset) % 11 - 5) * scale)) }
        }
        return Tensor(shape: [rows, cols], scalars: values)
    }

    private func assertClose(_ actual: [Float], _ expected: [Float], rtol: Float = 1e-5, atol: Float = 1e-6,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "lengths differ", file: file, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() where !(abs(a - e) <= atol + rtol * abs(e)) {
            XCTFail("element \(i): \(a) vs expected \(e)\nactual   \(actual)\nexpected \(expected)", file: file, line: line)
            return
        }
    }

    private func gradientMismatches(_ variables: [(String, Variable)], _ loss: () -> Variable) -> [GradientCheck.Mismatch] {
        GradientCheck().mismatches(of: variables.map { (name: $0.0, variable: $0.1) }, loss: loss)
    }

    // MARK: Cross-entropy

    private let targets = [3, 1, 0, 4]

    func testCrossEntropyMatchesPyTorch() {
        let logits = Variable(grid(4, 5, 0.37), requiresGrad: true)
        assertClose(crossEntropy(logits: logits, targets: targets).value.scalars, [2.0198985])
        assertClose(crossEntropy(logits: logits, targets: targets, reduction: .sum).value.scalars, [8.0795941])
        let none = crossEntropy(logits: logits, targets: targets, reduction: .none)
        XCTAssertEqual(none.shape, [4])
        assertClose(none.value.scalars, [0.42250581, 0.70098089, 2.7190916, 4.2370158])

        crossEntropy(logits: logits, targets: targets).backward()
        assertClose(logits.grad!.scalars, [
            0.0058647219, 0.017795668, 0.053998437, -0.086149388, 0.008490561, 0.040873422, -0.12597539,
            0.0064268208, 0.019501278, 0.059173868, -0.23351634, 0.050017321, 0.15177048, 0.0078645817,
            0.02386396, 0.14612248, 0.0075719083, 0.022975884, 0.069717067, -0.24638734,
        ], atol: 1e-6)
    }

    func testCrossEntropyIgnoreIndexMatchesPyTorch() {
        let logits = Variable(grid(4, 5, 0.37), requiresGrad: true)
        let loss = crossEntropy(logits: logits, targets: targets, ignoreIndex: 1)
        assertClose(loss.value.scalars, [2.4595377])
        loss.backward()
        assertClose(logits.grad!.scalars, [
            0.0078196292, 0.023727558, 0.071997916, -0.11486585, 0.011320748, 0, 0, 0, 0, 0,
            -0.31135513, 0.066689762, 0.20236064, 0.010486109, 0.031818613, 0.19482997, 0.010095878,
            0.030634512, 0.092956089, -0.32851645,
        ])
        assertClose(crossEntropy(logits: logits, targets: targets, ignoreIndex: 1, reduction: .none).value.scalars,
                    [0.42250581, 0, 2.7190916, 4.2370158])
        // An ignore index outside the class range (PyTorch's default −100) is allowed as a target.
        let loss2 = crossEntropy(logits: logits, targets: [3, -100, 0, 4], ignoreIndex: -100)
        assertClose(loss2.value.scalars, [2.4595377])
        // Everything ignored: the mean is 0/0 = nan, as in PyTorch.
        XCTAssertTrue(crossEntropy(logits: logits, targets: [1, 1, 1, 1], ignoreIndex: 1).value.scalar.isNaN)
    }

    func testCrossEntropyLeadingShapeMatchesPyTorch() {
        let logits = Variable(grid(6, 4, 0.5, offset: 2).reshaped([2, 3, 4]), requiresGrad: true)
        let loss = crossEntropy(logits: logits, targets: [0, 3, 2, 1, 1, 0], reduction: .sum)
        assertClose(loss.value.scalars, [19.809682])
        XCTAssertEqual(crossEntropy(logits: logits, targets: [0, 3, 2, 1, 1, 0], reduction: .none).shape, [2, 3])
        loss.backward()
        assertClose(logits.grad!.scalars, [
            -0.96144222, 0.17280397, 0.77445364, 0.014184613, 0.68106897, 0.012474213, 0.055905545,
            -0.74944873, 0.16858706, 0.75555476, -0.98616153, 0.062019712, 0.0086516898, -0.96122582,
            0.17377383, 0.77880029, 0.68106897, -0.98752579, 0.055905545, 0.25055127, -0.96144222,
            0.17280397, 0.77445364, 0.014184613,
        ])
    }

    func testCrossEntropyOfUniformLogitsIsLogC() {
        // Equal logits give probability 1/C to every class, so the loss is log C whatever the target.
        for classes in [2, 7, 1000] {
            let logits = Variable(Tensor(repeating: 3.5, shape: [3, classes]))
            let loss = crossEntropy(logits: logits, targets: [0, classes - 1, classes / 2])
            XCTAssertEqual(loss.value.scalar, Float(Foundation.log(Double(classes))), accuracy: 1e-5)
        }
    }

    func testCrossEntropyWithLargeLogitsDoesNotOverflow() {
        // Hand-checked: with logits [1e4, 0, −1e4] the log-sum-exp is 1e4 (the other terms are
        // below float precision), so the losses are 1e4 − logit[target] = [0, 1e4, 2e4].
        let logits = Variable(Tensor(rows: [[1e4, 0, -1e4], [1e4, 0, -1e4], [1e4, 0, -1e4]]), requiresGrad: true)
        let loss = crossEntropy(logits: logits, targets: [0, 1, 2], reduction: .none)
        XCTAssertEqual(loss.value.scalars, [0, 1e4, 2e4])
        let mean = crossEntropy(logits: logits, targets: [0, 1, 2])
        XCTAssertEqual(mean.value.scalar, 1e4)
        mean.backward()
        // softmax = [1, 0, 0]; gradient (softmax − onehot) / 3.
        let third: Float = 1.0 / 3
        XCTAssertEqual(logits.grad!.scalars, [0, 0, 0, third, -third, 0, third, 0, -third])
        XCTAssertTrue(logits.grad!.scalars.allSatisfy(\.isFinite))
    }

    func testCrossEntropyGradientCheck() {
        var rng = RandomGenerator(seed: 3)
        let logits = Variable(.uniform(shape: [2, 3, 4], low: -2, high: 2, using: &rng), requiresGrad: true)
        let t = [1, 0, 3, 3, 2, 0]
        for reduction in [Reduction.mean, .sum] {
            let bad = gradientMismatches([("logits", logits)]) {
                crossEntropy(logits: logits, targets: t, ignoreIndex: 2, reduction: reduction)
            }
            XCTAssertTrue(bad.isEmpty, "\(reduction): \(bad)")
        }
        let probe = Variable(.uniform(shape: [2, 3], low: -1, high: 1, using: &rng))
        let bad = gradientMismatches([("logits", logits)]) {
            (crossEntropy(logits: logits, targets: t, reduction: .none) * probe).sum()
        }
        XCTAssertTrue(bad.isEmpty, "none: \(bad)")
    }

    // MARK: Mean squared error

    func testMSEMatchesPyTorch() {
        let prediction = Variable(grid(3, 4, 0.25), requiresGrad: true)
        let target = Variable(grid(3, 4, 0.2, offset: 5), requiresGrad: true)
        assertClose(mseLoss(prediction, target).value.scalars, [1.5485417])
        assertClose(mseLoss(prediction, target, reduction: .sum).value.scalars, [18.5825])
        assertClose(mseLoss(prediction, target.value, reduction: .none).value.scalars,
                    [1.5625, 1.2100001, 1.5625, 1.96, 1.69, 2.1025, 1.3225, 1, 1.2100001, 1.5625, 1.96, 1.44])
        mseLoss(prediction, target).backward()
        let expected: [Float] = [-0.20833333, -0.18333334, 0.20833333, 0.23333333, 0.21666667, 0.24166667,
                                 -0.19166667, -0.16666667, -0.18333334, 0.20833333, 0.23333333, -0.2]
        assertClose(prediction.grad!.scalars, expected)
        assertClose(target.grad!.scalars, expected.map { -$0 })
    }

    func testMSEGradientCheck() {
        var rng = RandomGenerator(seed: 4)
        let p = Variable(.uniform(shape: [3, 5], low: -1, high: 1, using: &rng), requiresGrad: true)
        let t = Variable(.uniform(shape: [3, 5], low: -1, high: 1, using: &rng), requiresGrad: true)
        let probe = Variable(.uniform(shape: [3, 5], low: -1, high: 1, using: &rng))
        XCTAssertTrue(gradientMismatches([("p", p), ("t", t)]) { mseLoss(p, t) }.isEmpty)
        XCTAssertTrue(gradientMismatches([("p", p), ("t", t)]) { mseLoss(p, t, reduction: .sum) }.isEmpty)
        XCTAssertTrue(gradientMismatches([("p", p), ("t", t)]) { (mseLoss(p, t, reduction: .none) * probe).sum() }.isEmpty)
    }

    // MARK: Binary cross-entropy with logits

    private let bceLogits: [Float] = [-100, -30, -2.5, -0.5, 0, 0.75, 3, 30, 100]
    private let bceTargets: [Float] = [0, 1, 0.3, 1, 0.5, 0, 1, 0, 1]

    func testBinaryCrossEntropyWithLogitsMatchesPyTorch() {
        let x = Variable(Tensor(bceLogits), requiresGrad: true)
        let y = Tensor(bceTargets)
        assertClose(binaryCrossEntropyWithLogits(logits: x, targets: y).value.scalars, [7.0757303])
        assertClose(binaryCrossEntropyWithLogits(logits: x, targets: y, reduction: .sum).value.scalars, [63.681572])
        // PyTorch's float64 values 3.720076e-44 (last loss) and 4.1334178e-45 (first gradient) are
        // below Float's normal range; they are written as 0 and compared with the absolute tolerance.
        assertClose(binaryCrossEntropyWithLogits(logits: x, targets: y, reduction: .none).value.scalars,
                    [0, 30, 0.82888976, 0.97407698, 0.69314718, 1.136871, 0.048587352, 30, 0])
        binaryCrossEntropyWithLogits(logits: x, targets: y).backward()
        assertClose(x.grad!.scalars,
                    [0, -0.11111111, -0.024904648, -0.069162148, 0, 0.0754643, -0.0052695415, 0.11111111, 0])
    }

    func testBinaryCrossEntropyHandChecked() {
        // x = 0: σ = 1/2, so the loss is log 2 for any target; x = ±1e4 with the matching label costs 0.
        let loss = binaryCrossEntropyWithLogits(logits: Variable(Tensor([0, 0, 1e4, -1e4])),
                                                targets: Tensor([0, 1, 1, 0]), reduction: .none)
        XCTAssertEqual(loss.value.scalars, [Float(Foundation.log(2.0)), Float(Foundation.log(2.0)), 0, 0])
    }

    func testBinaryCrossEntropyGradientCheck() {
        var rng = RandomGenerator(seed: 5)
        let x = Variable(.uniform(shape: [4, 3], low: -3, high: 3, using: &rng), requiresGrad: true)
        let y = Tensor.uniform(shape: [4, 3], low: 0, high: 1, using: &rng)
        let probe = Variable(.uniform(shape: [4, 3], low: -1, high: 1, using: &rng))
        XCTAssertTrue(gradientMismatches([("x", x)]) { binaryCrossEntropyWithLogits(logits: x, targets: y) }.isEmpty)
        XCTAssertTrue(gradientMismatches([("x", x)]) { binaryCrossEntropyWithLogits(logits: x, targets: y, reduction: .sum) }.isEmpty)
        XCTAssertTrue(gradientMismatches([("x", x)]) {
            (binaryCrossEntropyWithLogits(logits: x, targets: y, reduction: .none) * probe).sum()
        }.isEmpty)
    }
}
