import RecurrentCore
import XCTest

/// `DecimalSyntax`: plain decimal notation only, where `Double(String)` and `strtod` also read
/// hexadecimal floats, infinities and NaN.
final class DecimalSyntaxTests: XCTestCase {
    func testAcceptsPlainDecimalNotation() {
        for text in ["0", "7", "-3", "+5", "12.5", ".5", "5.", "-0.25", "1e3", "1E-3", "+2.5e+10", "007"] {
            XCTAssertTrue(DecimalSyntax.matches(text.utf8), text)
            XCTAssertNotNil(Double(text), text)
        }
    }

    func testRefusesWhatDoubleWouldReadDifferently() {
        // Each of these but the last four is read by Double(String) as a number.
        for text in ["0x10", "0X1p3", "inf", "-Infinity", "nan", "NaN", "", "+", ".", "e5", "1e", "1e+", "1.2.3", " 1", "1 ", "--1", "1_0"] {
            XCTAssertFalse(DecimalSyntax.matches(text.utf8), text)
        }
        XCTAssertEqual(Double("0x10"), 16, "the reason for the check")
    }

    func testFirstDuplicateFindsTheSecondOccurrence() {
        XCTAssertNil(["a", "b", "c"].firstDuplicate)
        XCTAssertEqual(["text", "label", "x", "label", "text"].firstDuplicate, "label")
        XCTAssertNil([String]().firstDuplicate)
    }
}
