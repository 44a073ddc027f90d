import Foundation
import XCTest
import Recurrent

final class EmbeddingTests: XCTestCase {
    typealias S = CellTestSupport

    func testLookupShapesAndValues() throws {
        let table = try Embedding(count: 4, dimension: 2)
        try table.loadStateDict(["weight": Tensor(rows: [[0, 0.5], [1, 1.5], [2, 2.5], [3, 3.5]])])
        let y = table([3, 0, 1, 1, 2, 3], shape: [2, 3])
        XCTAssertEqual(y.shape, [2, 3, 2])
        XCTAssertEqual(y.value.scalars, [3, 3.5, 0, 0.5, 1, 1.5, 1, 1.5, 2, 2.5, 3, 3.5])
        XCTAssertEqual(table([2]).value, Tensor(rows: [[2, 2.5]]))
        XCTAssertEqual(table.namedParameters.map(\.name), ["weight"])
    }

    func testGradientScatterAddsIntoLookedUpRows() throws {
        var rng = RandomGenerator(seed: 61)
        let table = try Embedding(count: 6, dimension: 3, using: &rng)
        let indices = [5, 1, 5, 0, 1, 5]
        let probe = Variable(.uniform(shape: [3, 2, 3], low: -1, high: 1, using: &rng))
        let bad = S.gradientMismatches([("weight", table.weight)]) {
            (table(indices, shape: [3, 2]).sigmoid() * probe).sum()
        }
        XCTAssertTrue(bad.isEmpty, "\(bad)")
        // Rows never looked up get exactly zero gradient.
        (table(indices, shape: [3, 2]) * probe).sum().backward()
        let grad = table.weight.grad!
        for row in [2, 3, 4] { XCTAssertEqual(grad.row(row).scalars, [0, 0, 0]) }
    }

    func testInitialisationIsStandardNormal() throws {
        var rng = RandomGenerator(seed: 62)
        let table = try Embedding(count: 100, dimension: 50, using: &rng)
        let w = table.weight.value.scalars
        let mean = w.reduce(0, +) / Float(w.count)
        let variance = w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(w.count)
        // 5000 samples: the standard error of the mean is 0.014, of the variance about 0.02.
        XCTAssertEqual(mean, 0, accuracy: 0.05)
        XCTAssertEqual(variance, 1, accuracy: 0.08)
        XCTAssertGreaterThan(w.map(abs).max()!, 2.5, "a normal sample of 5000 has values beyond 2.5σ")
    }

    func testInvalidSizesThrow() {
        XCTAssertThrowsError(try Embedding(count: 0, dimension: 3)) { error in
            XCTAssertEqual(error.localizedDescription, "invalid count: must be positive, got 0")
        }
        XCTAssertThrowsError(try Embedding(count: 3, dimension: 0)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "dimension")
        }
    }
}
