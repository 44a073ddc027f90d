import Foundation
import RecurrentForecasting
import RecurrentTestSupport
import XCTest

/// The config.json inputs on which the forecast-config fuzz target crashed (Fuzz/Regressions/forecast-config),
/// written beside the fixture's weights as the target writes them: each is now refused with one line.
final class ForecastCheckpointFuzzRegressionTests: XCTestCase {
    /// An interval with fewer upper offsets than the horizon loaded, then `forecast predict` trapped
    /// with an index out of range in `Forecaster.intervals(for:)`.
    func testAnIntervalShorterThanTheHorizonIsRefused() throws {
        let message = try FuzzRegression.checkpointError(
            fixture: "forecast", replacing: ForecastCheckpoint.configurationFile, with: "forecast-config", "interval-shorter-than-horizon.json",
            load: { _ = try ForecastCheckpoint.load(from: $0) })
        XCTAssertEqual(message, "checkpoint file '<dir>/config.json' is malformed: invalid interval: needs 2 lower and upper offsets "
                           + "(one per horizon step), got 2 and 1")
    }
}
