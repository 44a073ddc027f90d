import Foundation
import RecurrentTestSupport
import XCTest

/// Every input under Fuzz/Regressions (a crash, hang or leak a fuzz target found, docs/fuzzing.md) is
/// reproduced by a unit test next to the code it concerns; this table names that test, so an input
/// added without one fails here.
final class FuzzRegressionTests: XCTestCase {
    static let reproducedBy: [String: String] = [
        "csv/date-digit-run.csv": "ForecastDataTests.testADigitRunTooLongForAnIntIsNoDate",
        // The empty input leaked in every target that reads a file; one copy stands for all.
        "csv/empty.csv": "EmptyInputFileLeakTests.testReadingAnEmptyFileLeaksNothing",
        "forecast-config/interval-shorter-than-horizon.json":
            "ForecastCheckpointFuzzRegressionTests.testAnIntervalShorterThanTheHorizonIsRefused",
        "lm-config/hidden-size-1e18.json": "CheckpointFuzzRegressionTests.testAHiddenSizeOf1e18IsRefused",
    ]

    func testEveryRegressionInputHasItsTest() throws {
        XCTAssertEqual(try FuzzRegression.all(), Self.reproducedBy.keys.sorted())
    }
}
