import Foundation
import XCTest
import Recurrent

final class LinearTests: XCTestCase {
    typealias S = CellTestSupport

    func testForwardHandComputed() throws {
        let layer = try Linear(inputSize: 3, outputSize: 2)
        try layer.loadStateDict(["weight": Tensor(rows: [[1, 2, 3], [0, -1, 0.5]]), "bias": Tensor([0.5, -1])])
        // [1, 1, 2] · Wᵀ + b = [1 + 2 + 6 + 0.5, 0 − 1 + 1 − 1] = [9.5, −1]
        let y = layer(Variable(Tensor(rows: [[1, 1, 2], [0, 0, 0]])))
        XCTAssertEqual(y.value, Tensor(rows: [[9.5, -1], [0.5, -1]]))
        // Leading axes pass through: (2, 1, 3) → (2, 1, 2).
        XCTAssertEqual(layer(Variable(Tensor(shape: [2, 1, 3], scalars: [1, 1, 2, 0, 0, 0]))).value,
                       Tensor(shape: [2, 1, 2], scalars: [9.5, -1, 0.5, -1]))

        let noBias = try Linear(inputSize: 3, outputSize: 2, bias: false)
        XCTAssertNil(noBias.bias)
        XCTAssertEqual(noBias.namedParameters.map(\.name), ["weight"])
        try noBias.loadStateDict(["weight": Tensor(rows: [[1, 2, 3], [0, -1, 0.5]])])
        XCTAssertEqual(noBias(Variable(Tensor(rows: [[1, 1, 2]]))).value, Tensor(rows: [[9, 0]]))
    }

    func testGradients() throws {
        var rng = RandomGenerator(seed: 51)
        let layer = try Linear(inputSize: 4, outputSize: 3, using: &rng)
        let x = S.leaf([2, 5, 4], &rng)
        let probe = Variable(.uniform(shape: [2, 5, 3], low: -1, high: 1, using: &rng))
        let bad = S.gradientMismatches([("x", x), ("weight", layer.weight), ("bias", layer.bias!)]) {
            (layer(x) * probe).sum()
        }
        XCTAssertTrue(bad.isEmpty, "\(bad)")
    }

    func testParametersAndInitialisation() throws {
        var rng = RandomGenerator(seed: 52)
        let layer = try Linear(inputSize: 25, outputSize: 40, using: &rng)
        XCTAssertEqual(layer.namedParameters.map(\.name), ["weight", "bias"])
        XCTAssertEqual(layer.namedParameters.map(\.parameter.shape), [[40, 25], [40]])
        XCTAssertEqual(layer.parameterCount, 40 * 25 + 40)
        // PyTorch's default: weight and bias uniform in ±1/√inputSize = ±0.2.
        for p in layer.parameters { XCTAssertTrue(p.value.scalars.allSatisfy { abs($0) <= 0.2 }) }
        XCTAssertGreaterThan(layer.weight.value.scalars.map(abs).max()!, 0.19, "the full range ±0.2 is used")
        let variance = layer.weight.value.scalars.map { $0 * $0 }.reduce(0, +) / 1000
        XCTAssertEqual(variance, 0.04 / 3, accuracy: 0.0015)

        GlobalRandom.seed(7)
        let a = try Linear(inputSize: 3, outputSize: 2)
        var explicit = RandomGenerator(seed: 7)
        let b = try Linear(inputSize: 3, outputSize: 2, using: &explicit)
        XCTAssertEqual(a.weight.value, b.weight.value)
        XCTAssertEqual(a.bias?.value, b.bias?.value)
    }

    func testInvalidSizesThrow() {
        XCTAssertThrowsError(try Linear(inputSize: 0, outputSize: 3)) { error in
            XCTAssertEqual(error.localizedDescription, "invalid inputSize: must be positive, got 0")
        }
        XCTAssertThrowsError(try Linear(inputSize: 3, outputSize: -1)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "outputSize")
        }
    }
}
