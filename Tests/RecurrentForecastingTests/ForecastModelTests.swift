import Foundation
import XCTest
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentFormats
import RecurrentForecasting
import RecurrentTestSupport

/// Metrics, baselines and season detection against hand-computed values; short training runs with
/// asserted test errors; the checkpoint round trip.
final class ForecastModelTests: XCTestCase {
    func airline() throws -> ForecastSeries {
        try ForecastSeries(table: try CSVTable.load(from: RepositoryPaths.data.appendingPathComponent("airline-passengers.csv")),
                           columns: ForecastColumns(target: "Passengers"))
    }

    func testMetricsByHand() throws {
        // Errors 0, 1, 1, 2; sMAPE terms 0, 200/5, 200/5, 400/10; Q = mean(|3−1|, |2−3|, |5−2|) = 2.
        let q = try XCTUnwrap(ForecastMetrics.maseScale(training: [1, 3, 2, 5], season: 1))
        XCTAssertEqual(q, 2, accuracy: 1e-12)
        let m = ForecastMetrics(actual: [1, 2, 3, 4], predicted: [1, 3, 2, 6], scale: q)
        XCTAssertEqual(m.mae, 1, accuracy: 1e-12)
        XCTAssertEqual(m.rmse, 1.5.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(m.mase), 0.5, accuracy: 1e-12)
        XCTAssertEqual(m.smape, 30, accuracy: 1e-12)
        // 0/0 counts as 0 in sMAPE; a zero scale gives no MASE instead of infinity.
        let zero = ForecastMetrics(actual: [0, 2], predicted: [0, 2], scale: ForecastMetrics.maseScale(training: [4, 4, 4], season: 1))
        XCTAssertEqual(zero.smape, 0)
        XCTAssertNil(zero.mase)
        // Seasonal scale: |y(t) − y(t−2)| over t = 2, 3: |5−1|, |6−2|.
        XCTAssertEqual(ForecastMetrics.maseScale(training: [1, 2, 5, 6], season: 2), 4)
    }

    func testBaselinesByHand() {
        let y = (1...10).map(Double.init)       // y(t) = t + 1
        XCTAssertEqual(ForecastBaseline.persistence.forecast(y, origin: 5, horizon: 3, season: 2), [6, 6, 6])
        // h = 1: y(5+1−2) = 5; h = 2: y(5+2−2) = 6; h = 3: y(5+3−4) = 5.
        XCTAssertEqual(ForecastBaseline.seasonalNaive.forecast(y, origin: 5, horizon: 3, season: 2), [5, 6, 5])
        XCTAssertEqual(ForecastBaseline.seasonalNaive.forecast(y, origin: 5, horizon: 2, season: 1), [6, 6])
    }

    func testSplitOrigins() throws {
        let split = SeriesSplit(trainCount: 20, validationCount: 6, testCount: 6)
        XCTAssertEqual(split.trainingOrigins(window: 5, horizon: 3), Array(4...16))      // targets ≤ 19
        XCTAssertEqual(split.validationOrigins(window: 5, horizon: 3), Array(19...22))  // targets 20 ... 25
        XCTAssertEqual(split.testOrigins(window: 5, horizon: 3), Array(25...28))        // targets 26 ... 31
    }

    func testSeasonDetection() throws {
        var rng = RandomGenerator(seed: 3)
        let seasonal = (0..<120).map { (t: Int) -> Double in
            let x = Double(t)
            return 0.05 * x + sin(2 * Double.pi * x / 7) + 0.3 * Double(rng.nextNormal())
        }
        XCTAssertEqual(SeasonEstimate.detect(seasonal).period, 7)
        let noise = (0..<200).map { _ in Double(rng.nextNormal()) }
        XCTAssertEqual(SeasonEstimate.detect(noise).period, 1)
        let line = (0..<50).map(Double.init)
        XCTAssertEqual(SeasonEstimate.detect(line).period, 1)
        // The airline training split (first 100 months, log): 12.
        let log = try airline().target.prefix(100).map { Foundation.log($0) }
        let estimate = SeasonEstimate.detect(Array(log))
        XCTAssertEqual(estimate.period, 12)
        XCTAssertGreaterThan(estimate.autocorrelation, 0.5)
    }

    func testIntervalRadius() {
        // n = 9 residuals, level 0.8: rank ⌈10·0.8⌉ = 8.
        XCTAssertEqual(PredictionInterval.conformalRadius([9, 1, 8, 2, 7, 3, 6, 4, 5], level: 0.8), 8)
        XCTAssertEqual(PredictionInterval.conformalRadius([1, 2], level: 0.9), 2)
    }

    /// A short run on the airline series: LSTM, log transform, change mode, direct H = 12 from a
    /// window of 24; it must beat both baselines on the test split by a clear margin.
    func testShortAirlineRunBeatsTheBaselines() throws {
        let configuration = ForecastConfiguration(
            columns: ForecastColumns(target: "Passengers"),
            model: ForecastModelConfiguration(cell: .lstm, strategy: .direct, targetMode: .change, window: 24, horizon: 12, hiddenSize: 16),
            transform: .log, epochs: 100, batchSize: 32, learningRate: 0.005, seed: 1)
        let result = try ForecastTrainer(configuration: configuration, series: try airline()).train()
        let test = result.test
        XCTAssertEqual(result.forecaster.season.period, 12)
        XCTAssertEqual(test.origins, 11)
        XCTAssertEqual(test.model.count, 132)
        // Baselines on the same 132 targets (deterministic).
        XCTAssertEqual(test.persistence.rmse, 98.0604, accuracy: 1e-3)
        XCTAssertEqual(test.seasonalNaive.rmse, 53.8804, accuracy: 1e-3)
        XCTAssertLessThan(test.model.rmse, 0.8 * test.seasonalNaive.rmse, "model \(test.model)")
        XCTAssertLessThan(try XCTUnwrap(test.model.mase), 0.8 * (try XCTUnwrap(test.seasonalNaive.mase)))
        XCTAssertTrue(result.testForecasts.allSatisfy { $0.allSatisfy(\.isFinite) })
    }

    /// NARX closed loop and the recursive strategy train and forecast on a noiseless seasonal
    /// series whose future is a function of its past, and beat seasonal-naive there.
    func testNARXAndRecursiveStrategiesLearnASeasonalSeries() throws {
        let values = (0..<160).map { (t: Int) -> Double in
            let x = Double(t)
            return 20 + 0.05 * x + 4 * sin(2 * Double.pi * x / 8)
        }
        for (cell, strategy) in [(ForecastModelConfiguration.Cell.narx, ForecastModelConfiguration.Strategy.direct),
                                 (.gru, .recursive)] {
            let configuration = ForecastConfiguration(
                columns: ForecastColumns(target: "y"),
                model: ForecastModelConfiguration(cell: cell, strategy: strategy, window: 8, horizon: 4, hiddenSize: 12),
                epochs: 40, batchSize: 16, learningRate: 0.01, seed: 2)
            let result = try ForecastTrainer(configuration: configuration, series: ForecastSeries(names: ["y"], channels: [values])).train()
            XCTAssertEqual(result.forecaster.season.period, 8, "\(cell)")
            // Seasonal naive misses exactly the trend: 0.05 per step times m = 8.
            XCTAssertEqual(result.test.seasonalNaive.mae, 0.4, accuracy: 1e-9)
            XCTAssertLessThan(result.test.model.mae, 0.5 * result.test.seasonalNaive.mae, "\(cell) \(strategy): \(result.test.model)")
        }
    }

    func testMultivariateDirectModelUsesAFeature() throws {
        // The target is the feature one step later: y(t) = x(t−1) + 0.3·y(t−1), x white noise.
        var rng = RandomGenerator(seed: 5)
        let x = (0..<200).map { _ in Double(rng.nextNormal()) }
        var y = [0.0]
        for t in 1..<200 { y.append(x[t - 1] + 0.3 * y[t - 1]) }
        let configuration = ForecastConfiguration(
            columns: ForecastColumns(target: "y", features: ["x"]),
            model: ForecastModelConfiguration(cell: .lstm, targetMode: .level, channelCount: 2, window: 4, horizon: 1, hiddenSize: 12),
            epochs: 40, batchSize: 16, learningRate: 0.01, seed: 1)
        let result = try ForecastTrainer(configuration: configuration,
                                         series: ForecastSeries(names: ["y", "x"], channels: [y, x])).train()
        // Persistence cannot know the step of the walk; the model reads it from x.
        XCTAssertLessThan(result.test.model.rmse, 0.5 * result.test.persistence.rmse, "\(result.test)")
    }

    func testCheckpointRoundTripAndErrors() throws {
        let series = ForecastSeries(names: ["y"], channels: [(0..<80).map { 10 + sin(Double($0) / 2) }])
        let configuration = ForecastConfiguration(
            columns: ForecastColumns(target: "y"),
            model: ForecastModelConfiguration(cell: .rnn, strategy: .recursive, window: 6, horizon: 3, hiddenSize: 5),
            epochs: 2)
        let result = try ForecastTrainer(configuration: configuration, series: series).train()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("forecast-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try ForecastCheckpoint.save(result.forecaster, to: directory, split: result.split, test: result.test)
        let (loaded, contents) = try ForecastCheckpoint.load(from: directory)
        XCTAssertEqual(contents.configuration, configuration)
        XCTAssertEqual(contents.test, result.test)
        let before = try result.forecaster.forecastAfterEnd(series, horizon: 5)
        XCTAssertEqual(try loaded.forecastAfterEnd(series, horizon: 5), before)
        XCTAssertEqual(before.count, 5)
        XCTAssertNotNil(before[2].lower)
        XCTAssertNil(before[3].lower, "no interval past the trained horizon")
        XCTAssertLessThan(try XCTUnwrap(before[0].lower), before[0].value)
        // Missing weights, foreign config.
        try FileManager.default.removeItem(at: directory.appendingPathComponent("model.safetensors"))
        XCTAssertThrowsError(try ForecastCheckpoint.load(from: directory)) {
            XCTAssertEqual($0 as? CheckpointError, .missingFile(path: directory.appendingPathComponent("model.safetensors").standardizedFileURL.path))
        }
        try Data("{\"format\":\"other\"}".utf8).write(to: directory.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try ForecastCheckpoint.load(from: directory)) {
            guard case .unsupportedVersion? = $0 as? CheckpointError else { return XCTFail("\($0)") }
        }
    }

    func testPlotBandWidensTheAxisAndSkipsNonFinitePoints() {
        var plot = SVGLinePlot(title: "t", xLabel: "x", yLabel: "y", series: [.init(name: "line", points: [(0, 1), (1, 2)])])
        let plain = plot.render()
        XCTAssertFalse(plain.contains("<polygon"))
        XCTAssertFalse(plain.contains(">100<"))
        plot.bands = [.init(name: "band & more", points: [(0, 0, 50), (1, 1, 100), (2, .nan, 3)])]
        let banded = plot.render()
        XCTAssertEqual(banded.components(separatedBy: "<polygon").count, 2)
        XCTAssertTrue(banded.contains(">100<"), "the y axis reaches the band's top")
        XCTAssertTrue(banded.contains("band &amp; more"))
        XCTAssertFalse(banded.lowercased().contains("nan"))
    }

    func testDirectModelRefusesALongerHorizon() throws {
        let series = ForecastSeries(names: ["y"], channels: [(0..<60).map { Double($0 % 5) }])
        let configuration = ForecastConfiguration(columns: ForecastColumns(target: "y"),
                                                  model: ForecastModelConfiguration(window: 5, horizon: 2, hiddenSize: 4), epochs: 1)
        let result = try ForecastTrainer(configuration: configuration, series: series).train()
        XCTAssertThrowsError(try result.forecaster.forecastAfterEnd(series, horizon: 3)) {
            XCTAssertEqual(($0 as? ConfigurationError)?.argument, "horizon")
        }
        let plot = ForecastPlot.test(series, result: result, title: "t").render()
        XCTAssertTrue(plot.contains("<polygon"), "the interval band is drawn")
        XCTAssertFalse(plot.lowercased().contains("nan"))
    }

    func testNARXWithFeaturesUsesKnownFutureFeaturesButCannotForecastPastTheData() throws {
        let x = (0..<80).map { Double($0 % 7) }
        let y = (0..<80).map { t in t == 0 ? 0 : 2 * x[t - 1] + 1 }
        let series = ForecastSeries(names: ["y", "x"], channels: [y, x])
        let configuration = ForecastConfiguration(
            columns: ForecastColumns(target: "y", features: ["x"]),
            model: ForecastModelConfiguration(cell: .narx, channelCount: 2, window: 3, horizon: 2, hiddenSize: 4), epochs: 1)
        let result = try ForecastTrainer(configuration: configuration, series: series).train()
        XCTAssertEqual(result.testForecasts.count, result.test.origins)
        XCTAssertThrowsError(try result.forecaster.forecastAfterEnd(series)) {
            XCTAssertTrue(($0 as? LocalizedError)?.errorDescription?.contains("future values of its features") ?? false, "\($0)")
        }
        // Shorter than the window.
        let short = ForecastSeries(names: ["y", "x"], channels: [[1, 2], [3, 4]])
        let recursive = try ForecastTrainer(configuration: ForecastConfiguration(
            columns: ForecastColumns(target: "y", features: ["x"]),
            model: ForecastModelConfiguration(strategy: .recursive, channelCount: 2, window: 3, horizon: 2, hiddenSize: 4), epochs: 1),
            series: series).train()
        XCTAssertThrowsError(try recursive.forecaster.forecastAfterEnd(short)) {
            XCTAssertEqual($0 as? ForecastDataError, .tooShort(count: 2, needed: 3, reason: "the model reads a window of 3 steps"))
        }
        XCTAssertEqual(try recursive.forecaster.forecastAfterEnd(series, horizon: 4).count, 4)
    }
}
