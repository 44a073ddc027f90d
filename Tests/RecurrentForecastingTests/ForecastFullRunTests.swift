import Foundation
import XCTest
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentForecasting
import RecurrentTestSupport

/// The runs behind the results table of docs/forecasting.md, with the same settings as the
/// commands there (`recurrent forecast train ...`). About ten seconds in release, minutes in debug,
/// so they run only when asked:
///
///     RECURRENT_FULL_RUNS=1 swift test -c release --filter ForecastFullRunTests
///
/// The assertions are the claims of the docs: the model beats persistence and seasonal naive on
/// RMSE and MASE on the test split, with the documented figures.
final class ForecastFullRunTests: XCTestCase {
    override func setUpWithError() throws {
        guard ProcessInfo.processInfo.environment["RECURRENT_FULL_RUNS"] == "1" else {
            throw XCTSkip("full runs: set RECURRENT_FULL_RUNS=1 (and build with -c release)")
        }
    }

    func run(file: String, target: String, transform: ValueTransform, window: Int, epochs: Int,
             cell: ForecastModelConfiguration.Cell) throws -> ForecastComparison {
        let columns = ForecastColumns(target: target)
        let series = try ForecastSeries(table: try CSVTable.load(from: RepositoryPaths.data.appendingPathComponent(file)), columns: columns)
        let configuration = ForecastConfiguration(
            columns: columns, model: ForecastModelConfiguration(cell: cell, window: window, horizon: 12, hiddenSize: 32),
            transform: transform, epochs: epochs, seed: 1)
        let test = try ForecastTrainer(configuration: configuration, series: series).train().test
        print(String(format: "%@ %@: model RMSE %.4f MASE %.4f | persistence %.4f %.4f | seasonal naive %.4f %.4f", file, cell.rawValue,
                     test.model.rmse, test.model.mase ?? -1, test.persistence.rmse, test.persistence.mase ?? -1,
                     test.seasonalNaive.rmse, test.seasonalNaive.mase ?? -1))
        for baseline in [test.persistence, test.seasonalNaive] {
            XCTAssertLessThan(test.model.rmse, baseline.rmse)
            XCTAssertLessThan(try XCTUnwrap(test.model.mase), try XCTUnwrap(baseline.mase))
        }
        return test
    }

    func testAirlinePassengers() throws {
        let lstm = try run(file: "airline-passengers.csv", target: "Passengers", transform: .log, window: 24, epochs: 300, cell: .lstm)
        XCTAssertEqual(lstm.model.rmse, 25.7398, accuracy: 0.01)
        XCTAssertEqual(lstm.seasonalNaive.rmse, 53.8804, accuracy: 1e-3)
        let narx = try run(file: "airline-passengers.csv", target: "Passengers", transform: .log, window: 24, epochs: 300, cell: .narx)
        XCTAssertEqual(narx.model.rmse, 12.6282, accuracy: 0.01)
    }

    func testMonthlySunspots() throws {
        let lstm = try run(file: "monthly-sunspots.csv", target: "Sunspots", transform: .none, window: 48, epochs: 40, cell: .lstm)
        XCTAssertEqual(lstm.model.rmse, 26.9464, accuracy: 0.01)
        XCTAssertEqual(lstm.persistence.rmse, 31.7660, accuracy: 1e-3)
        let narx = try run(file: "monthly-sunspots.csv", target: "Sunspots", transform: .none, window: 48, epochs: 40, cell: .narx)
        XCTAssertEqual(narx.model.rmse, 23.6532, accuracy: 0.01)
    }
}
