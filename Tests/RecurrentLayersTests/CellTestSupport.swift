import Foundation
import XCTest
import Recurrent

/// Helpers for the cell, linear and embedding tests (kept in one namespace so that other test files
/// of this target cannot collide with them).
enum CellTestSupport {
    /// Element `k` (row-major) is `(((k·a + b) mod m) − m/2) · scale`, computed in Double and rounded
    /// to Float — the same formula as `pattern` in scripts/reference/cells.py.
    static func pattern(_ shape: [Int], a: Int, b: Int, m: Int, scale: Double) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, scalars: (0..<n).map { k in Float(Double((k * a + b) % m - m / 2) * scale) })
    }

    /// Parameter number `j` in state-dict order, as `parameter` in cells.py.
    static func parameter(_ shape: [Int], _ j: Int) -> Tensor { pattern(shape, a: 13, b: 7 * j + 1, m: 17, scale: 0.06) }

    /// Loads every parameter of `module` from `parameter(_:_:)`, numbering them from `offset`.
    static func loadPattern(_ module: some Module, offset: Int = 0) throws {
        var dict: [String: Tensor] = [:]
        for (j, (name, p)) in module.namedParameters.enumerated() { dict[name] = parameter(p.value.shape, j + offset) }
        try module.loadStateDict(dict)
    }

    /// Finite-difference gradient check of `loss` with respect to every named variable.
    static func gradientMismatches(_ variables: [(String, Variable)], _ loss: () -> Variable) -> [GradientCheck.Mismatch] {
        GradientCheck().mismatches(of: variables.map { (name: $0.0, variable: $0.1) }, loss: loss)
    }

    /// A leaf requiring gradients with elements uniform in `[low, high)`.
    static func leaf(_ shape: [Int], _ rng: inout RandomGenerator, _ low: Float = -1, _ high: Float = 1) -> Variable {
        Variable(.uniform(shape: shape, low: low, high: high, using: &rng), requiresGrad: true)
    }

    /// Asserts element-wise `|actual − expected| ≤ atol + rtol·|expected|`, reporting the first failure.
    static func assertClose(_ actual: Tensor, _ expected: [Float], rtol: Float = 1e-5, atol: Float = 1e-5,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "element counts differ", file: file, line: line)
        for (i, (a, e)) in zip(actual.scalars, expected).enumerated() where !(abs(a - e) <= atol + rtol * abs(e)) {
            XCTFail("element \(i): \(a) vs expected \(e)\nactual   \(actual.scalars)\nexpected \(expected)", file: file, line: line)
            return
        }
    }
}
