import RecurrentCore
import XCTest

/// `SizeLimits`, `ConfigurationError.requireSize`/`requireParameterCount` and `ErrorMessage`: checked
/// sizes and overflow-safe counts, and short one-line echoes of user values.
final class SizeLimitsTests: XCTestCase {
    func testElementCountsDetectOverflowAndNegativeDimensions() {
        XCTAssertEqual(SizeLimits.elementCount([]), 1)
        XCTAssertEqual(SizeLimits.elementCount([3, 4, 5]), 60)
        XCTAssertEqual(SizeLimits.elementCount([0, Int.max]), 0)
        XCTAssertNil(SizeLimits.elementCount([1 << 32, 1 << 32]))
        XCTAssertNil(SizeLimits.elementCount([Int.max, 2]))
        XCTAssertNil(SizeLimits.elementCount([2, -1]))
        XCTAssertEqual(SizeLimits.totalElementCount([[2, 3], [4]]), 10)
        XCTAssertNil(SizeLimits.totalElementCount([[Int.max], [1]]))
    }

    func testRequireSizeNamesTheFieldAndTheLimit() {
        XCTAssertNoThrow(try ConfigurationError.requireSize(1, "hiddenSize"))
        XCTAssertNoThrow(try ConfigurationError.requireSize(SizeLimits.maximumDimension, "hiddenSize"))
        func message(_ body: () throws -> Void) -> String {
            do { try body() } catch { return error.localizedDescription }
            return "no error"
        }
        XCTAssertEqual(message { try ConfigurationError.requireSize(0, "hiddenSize") }, "invalid hiddenSize: must be positive, got 0")
        XCTAssertEqual(message { try ConfigurationError.requireSize(1_000_000_000, "hiddenSize") },
                       "invalid hiddenSize: must be at most 16777216, got 1000000000")
        XCTAssertEqual(message { try ConfigurationError.requireSize(-1, "maxOutputLength", minimum: 0, maximum: 10) },
                       "invalid maxOutputLength: must be at least 0, got -1")
        XCTAssertEqual(message { try ConfigurationError.requireParameterCount([("a", [1 << 16, 1 << 16]), ("b", [1 << 31])]) },
                       "invalid parameters: the model would have 6442450944 parameters, more than the limit of 2147483648")
        XCTAssertEqual(message { try ConfigurationError.requireParameterCount([("a", [Int.max, 2])]) },
                       "invalid parameters: the model would have more than Int.max parameters, more than the limit of 2147483648")
        XCTAssertNoThrow(try ConfigurationError.requireParameterCount([("a", [1 << 15, 1 << 16])]))
    }

    func testErrorMessageExcerptsAreShortAndOnOneLine() {
        XCTAssertEqual(ErrorMessage.excerpt("0x10"), "0x10")
        XCTAssertEqual(ErrorMessage.excerpt(String(repeating: "a", count: 60)), String(repeating: "a", count: 60))
        XCTAssertEqual(ErrorMessage.excerpt(String(repeating: "a", count: 100_000)), String(repeating: "a", count: 60) + "…")
        XCTAssertEqual(ErrorMessage.excerpt("a\nb\tc\r\u{1B}"), "a\\nb\\tc\\r\\u{1B}")
        XCTAssertEqual(ErrorMessage.excerpt("x\u{2028}y"), "x\\u{2028}y")
        XCTAssertEqual(ErrorMessage.excerpt("abcdef", maximumLength: 3), "abc…")
        XCTAssertEqual(ErrorMessage.list(["a", "b"]), "'a', 'b'")
        XCTAssertEqual(ErrorMessage.list((0..<1_000_000).map(String.init)),
                       (0..<12).map { "'\($0)'" }.joined(separator: ", ") + ", … (1000000 in all)")
    }
}
