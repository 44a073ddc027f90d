import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import XCTest
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentForecasting
import RecurrentTestSupport

/// Reading series from CSV: parsing, column selection, dates, missing values, and every bad-input
/// case with its one-line error.
final class ForecastDataTests: XCTestCase {
    func series(_ text: String, target: String = "y", features: [String] = [], date: String? = nil,
                fill: MissingValuePolicy = .error) throws -> ForecastSeries {
        try ForecastSeries(table: try CSVTable(text: text, source: "t.csv"),
                           columns: ForecastColumns(target: target, features: features, date: date), fill: fill)
    }

    func assertError(_ expected: ForecastDataError, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual(error as? ForecastDataError, expected, file: file, line: line)
            let message = (error as? LocalizedError)?.errorDescription ?? ""
            XCTAssertFalse(message.contains("\n"), "one line: \(message)", file: file, line: line)
        }
    }

    // MARK: Parsing

    func testQuotedHeaderAndValuesAsInTheSharedFiles() throws {
        let s = try series("\"Month\",\"y\"\n\"1949-01\",112\n\"1949-02\",118\n\"1949-03\",132\n")
        XCTAssertEqual(s.names, ["y"])
        XCTAssertEqual(s.target, [112, 118, 132])
        XCTAssertEqual(s.lines, [2, 3, 4])
        XCTAssertEqual(s.dateAxis?.column, "Month")
        XCTAssertEqual(s.dateAxis?.step, .months(1))
        XCTAssertEqual(s.dateAxis?.continuation(count: 3), ["1949-04", "1949-05", "1949-06"])
    }

    func testDelimitersQuotesWhitespaceAndLineEndings() throws {
        let semicolons = try series("date;y;x\r\n2020-01-01; 1.5 ;\"2\"\r\n2020-01-02;2.5;3\r\n", features: ["x"])
        XCTAssertEqual(semicolons.channels, [[1.5, 2.5], [2, 3]])
        XCTAssertEqual(semicolons.dateAxis?.step, .seconds(86_400))
        // A quoted cell with the delimiter and an escaped quote inside; no final newline.
        let table = try CSVTable(text: "name,y\n\"a, \"\"b\"\"\",1\nc,2", source: "q.csv")
        XCTAssertEqual(table.rows, [["a, \"b\"", "1"], ["c", "2"]])
        // Blank lines are skipped, line numbers still count them.
        let blank = try CSVTable(text: "t,y\n1,2\n\n3,4\n\n", source: "b.csv")
        XCTAssertEqual(blank.rows, [["1", "2"], ["3", "4"]])
        XCTAssertEqual(blank.lines, [2, 4])
    }

    func testTheCommittedExampleSeriesParse() throws {
        let airline = try ForecastSeries(table: try CSVTable.load(from: RepositoryPaths.data.appendingPathComponent("airline-passengers.csv")),
                                         columns: ForecastColumns(target: "Passengers"))
        XCTAssertEqual(airline.count, 144)
        XCTAssertEqual(airline.target.first, 112)
        XCTAssertEqual(airline.target.last, 432)
        XCTAssertEqual(airline.dateAxis?.labels.last, "1960-12")
        XCTAssertEqual(airline.dateAxis?.continuation(count: 2), ["1961-01", "1961-02"])
        let sunspots = try ForecastSeries(table: try CSVTable.load(from: RepositoryPaths.data.appendingPathComponent("monthly-sunspots.csv")),
                                          columns: ForecastColumns(target: "Sunspots", date: "Month"))
        XCTAssertEqual(sunspots.count, 2820)
        XCTAssertEqual(sunspots.target.prefix(2), [58.0, 62.6])
        XCTAssertEqual(sunspots.target.last, 33.4)
    }

    func testDatesParseAndContinue() throws {
        XCTAssertNil(CalendarDate(parsing: "12"))
        XCTAssertNil(CalendarDate(parsing: "1949-13"))
        XCTAssertNil(CalendarDate(parsing: "2023-02-29"))
        XCTAssertEqual(CalendarDate(parsing: "2024-02-29")?.precision, .day)
        XCTAssertEqual(CalendarDate(parsing: "2024-02-29T23:30")?.precision, .minute)
        // Daily dates across a month and a year end; quarterly months; hourly steps over midnight.
        let daily = try DateAxis(column: "d", labels: ["2023-12-30", "2023-12-31"], lines: [2, 3])
        XCTAssertEqual(daily.continuation(count: 2), ["2024-01-01", "2024-01-02"])
        let quarterly = try DateAxis(column: "d", labels: ["2023-07", "2023-10"], lines: [2, 3])
        XCTAssertEqual(quarterly.continuation(count: 2), ["2024-01", "2024-04"])
        let hourly = try DateAxis(column: "d", labels: ["2024-02-28 22:00", "2024-02-28 23:00"], lines: [2, 3])
        XCTAssertEqual(hourly.continuation(count: 2), ["2024-02-29 00:00", "2024-02-29 01:00"])
        let irregular = try DateAxis(column: "d", labels: ["2024-01-01", "2024-01-02", "2024-01-05"], lines: [2, 3, 4])
        XCTAssertNil(irregular.step)
        XCTAssertNil(irregular.continuation(count: 1))
        // Not chronological.
        assertError(.badDate(column: "d", line: 3, value: "2024-01-01",
                             reason: "is not later than the date before it (rows must be in chronological order)")) {
            _ = try series("d,y\n2024-01-02,1\n2024-01-01,2\n")
        }
        // A numeric first column is not taken for dates unless named so.
        XCTAssertNil(try series("id,y\n1990,1\n1991,2\n").dateAxis)
        XCTAssertEqual(try series("year,y\n1990,1\n1991,2\n").dateAxis?.continuation(count: 1), ["1992"])
    }

    /// Found by the csv fuzz target (Fuzz/Regressions/csv/date-digit-run.csv): a run of digits too long
    /// for an Int before a date separator trapped the date detection. Such a cell is no date.
    func testADigitRunTooLongForAnIntIsNoDate() throws {
        XCTAssertNil(CalendarDate(parsing: "15555555555590556590-"))
        XCTAssertNil(CalendarDate(parsing: "1990-99999999999999999999-01"))
        XCTAssertNil(CalendarDate(parsing: "1990-01-01T99999999999999999999:00"))
        XCTAssertEqual(CalendarDate(parsing: "1990-01-01T23:59"), CalendarDate(year: 1990, hour: 23, minute: 59, precision: .minute))
        // The fuzzer's input: header "0," and one row; column "0" is tested for dates and is none.
        let table = try CSVTable.load(from: FuzzRegression.url("csv", "date-digit-run.csv"))
        XCTAssertEqual(table.header, ["0", ""])
        let series = try ForecastSeries(table: table, columns: ForecastColumns(target: ""))
        XCTAssertNil(series.dateAxis)
        XCTAssertEqual(series.target, [6])
        assertError(.nonNumeric(column: "0", line: 2, value: "15555555555590556590-")) {
            _ = try ForecastSeries(table: table, columns: ForecastColumns(target: "0"))
        }
        XCTAssertNil(try self.series("d,y\n1990-99999999999999999999,1\n1991-01,2\n").dateAxis)
    }

    // MARK: Missing values

    func testFillForwardAndLinear() throws {
        let text = "t,y\n1,1\n2,\n3,NA\n4,7\n5,nan\n"
        let forward = try series(text, fill: .forward)
        XCTAssertEqual(forward.target, [1, 1, 1, 7, 7])
        XCTAssertEqual(forward.filledCount, 3)
        let linear = try series(text, fill: .linear)
        for (value, expected) in zip(linear.target, [1.0, 3, 5, 7, 7]) { XCTAssertEqual(value, expected, accuracy: 1e-12) }
        XCTAssertEqual(try series("t,y\n1,\n2,4\n3,6\n", fill: .linear).target, [4, 4, 6])
        assertError(.cannotFill(column: "y", line: 2, reason: "forward fill needs a value before the gap (try --fill linear)")) {
            _ = try series("t,y\n1,\n2,4\n", fill: .forward)
        }
        assertError(.cannotFill(column: "y", line: 2, reason: "the column has no values at all")) {
            _ = try series("t,y\n1,\n2,?\n", fill: .linear)
        }
    }

    // MARK: Bad input, one error each

    func testMissingValueIsAnErrorByDefault() {
        assertError(.missingValue(column: "y", line: 3)) { _ = try series("t,y\n1,1\n2,\n3,3\n") }
        assertError(.missingValue(column: "x", line: 2)) { _ = try series("t,y,x\n1,1,NaN\n", features: ["x"]) }
    }

    func testNonNumericCells() {
        assertError(.nonNumeric(column: "y", line: 3, value: "12a")) { _ = try series("t,y\n1,1\n2,12a\n") }
        assertError(.nonNumeric(column: "y", line: 2, value: "inf")) { _ = try series("t,y\n1,inf\n") }
        // A non-numeric cell stays an error whatever the fill.
        assertError(.nonNumeric(column: "y", line: 2, value: "abc")) { _ = try series("t,y\n1,abc\n", fill: .linear) }
    }

    func testRaggedRows() {
        assertError(.raggedRow(path: "t.csv", line: 3, found: 3, expected: 2)) { _ = try series("t,y\n1,1\n2,2,9\n3,3\n") }
        assertError(.raggedRow(path: "t.csv", line: 4, found: 1, expected: 2)) { _ = try series("t,y\n1,1\n2,2\n3\n") }
    }

    func testBrokenEmptyAndMisnamedFiles() {
        XCTAssertThrowsError(try CSVTable(text: "t,y\n1,\"2\"x\n", source: "q.csv")) { error in
            guard case .malformedCSV(path: "q.csv", _)? = error as? ForecastDataError else { return XCTFail("\(error)") }
        }
        assertError(.empty(path: "t.csv")) { _ = try series("") }
        assertError(.empty(path: "t.csv")) { _ = try series("t,y\n") }
        assertError(.duplicateColumn(path: "t.csv", name: "y")) { _ = try series("y,y\n1,2\n") }
        assertError(.unknownColumn(name: "z", available: ["t", "y"])) { _ = try series("t,y\n1,2\n", target: "z") }
        assertError(.columnUsedTwice(name: "y")) { _ = try series("t,y\n1,2\n", features: ["y"]) }
        assertError(.unreadable(path: "/nonexistent/x.csv", reason: "no such file")) {
            _ = try CSVTable.load(from: URL(fileURLWithPath: "/nonexistent/x.csv"))
        }
    }

    /// Swift's Double(String) reads "0x10" as 16 and "inf" as infinity: cells are plain decimal numbers
    /// only (missing-value markers such as NaN are recognised first).
    func testCellsArePlainDecimalNumbers() throws {
        XCTAssertEqual(try series("y\n1e3\n+5\n.5\n5.\n-2.5E-1\n 7 \n").target, [1000, 5, 0.5, 5, -0.25, 7])
        for cell in ["0x10", "0X1p3", "inf", "-Infinity", "1e", "1.2.3", "--1", "1_000", "١٢"] {
            assertError(.nonNumeric(column: "y", line: 3, value: cell)) { _ = try series("y\n1\n\(cell)\n") }
        }
        XCTAssertThrowsError(try series("y\n1\n0x10\n")) {
            XCTAssertEqual($0.localizedDescription, "column 'y', line 3: '0x10' is not a finite decimal number")
        }
        assertError(.missingValue(column: "y", line: 3)) { _ = try series("y\n1\nNaN\n") }
    }

    /// A bad value, column name or header is echoed in at most 60 characters, whatever its length.
    func testErrorsEchoShortExcerptsOfLongValues() throws {
        let long = String(repeating: "x", count: 100_000)
        let cases: [(String, String)] = [
            ("y\n1\n\(long)\n", "column 'y', line 3: '\(String(repeating: "x", count: 60))…' is not a finite decimal number"),
            ("\(long),\(long)\n1,2\n", "CSV file 't.csv': the header names column '\(String(repeating: "x", count: 60))…' twice"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try series(text)) { XCTAssertEqual($0.localizedDescription, message) }
        }
        let wide = (0..<1_000).map { "c\($0)" }.joined(separator: ",")
        XCTAssertThrowsError(try series(wide + "\n" + Array(repeating: "1", count: 1_000).joined(separator: ",") + "\n")) {
            XCTAssertEqual($0.localizedDescription, "no column 'y' in the CSV; its columns are "
                           + (0..<12).map { "'c\($0)'" }.joined(separator: ", ") + ", … (1000 in all)")
        }
    }

    func testReadsOnlyRegularFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("forecast-fifo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let fifo = directory.appendingPathComponent("series.csv")
        XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
        assertError(.unreadable(path: fifo.path, reason: "it is a FIFO (named pipe), not a regular file")) {
            _ = try CSVTable.load(from: fifo)
        }
        assertError(.unreadable(path: directory.path, reason: "it is a directory, not a regular file")) {
            _ = try CSVTable.load(from: directory)
        }
    }

    func testSeriesTooShortForWindowPlusHorizon() {
        // 20 steps at 70/15/15: training 14 < window 12 + horizon 3.
        assertError(.tooShort(count: 20, needed: 22, reason: "the training split has 14 steps, window 12 + horizon 3 = 15 are needed")) {
            _ = try SeriesSplit(count: 20, validationFraction: 0.15, testFraction: 0.15, window: 12, horizon: 3)
        }
        assertError(.tooShort(count: 26, needed: 34, reason: "the validation and test splits have 4 and 4 steps; each needs at least horizon 5")) {
            _ = try SeriesSplit(count: 26, validationFraction: 0.15, testFraction: 0.15, window: 2, horizon: 5)
        }
        XCTAssertNoThrow(try SeriesSplit(count: 22, validationFraction: 0.15, testFraction: 0.15, window: 12, horizon: 3))
    }

    func testConstantTargetAndLogOfNonPositiveValues() {
        let constant = ForecastSeries(names: ["y"], channels: [[5, 5, 5, 5, 5, 5, 7]])
        assertError(.constantTarget(column: "y", value: 5)) {
            _ = try SeriesNormalizer.fit(constant, trainCount: 6, transform: .none)
        }
        let withZero = ForecastSeries(names: ["y"], channels: [[3, 2, 0, 4]])
        assertError(.nonPositiveForLog(column: "y", line: 4, value: 0)) {
            _ = try SeriesNormalizer.fit(withZero, trainCount: 2, transform: .log)
        }
    }

    // MARK: Normalisation

    func testNormaliserUsesTheTrainingSplitOnly() throws {
        // Training values 1...4, then values far outside that range.
        let s = ForecastSeries(names: ["y", "x"], channels: [[1, 2, 3, 4, 100, 200, 300], [0, 0, 2, 2, -50, 80, 9]])
        let normalizer = try SeriesNormalizer.fit(s, trainCount: 4, transform: .none)
        XCTAssertEqual(normalizer.means, [2.5, 1])
        XCTAssertEqual(normalizer.scales[0], 1.25.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(normalizer.scales[1], 1)
        XCTAssertEqual(normalizer.normalize(s)[0][4], Float((100 - 2.5) / 1.25.squareRoot()), accuracy: 1e-4)
        XCTAssertEqual(normalizer.denormalizeTarget(Double(normalizer.normalize(s)[0][5])), 200, accuracy: 1e-3)
        let log = try SeriesNormalizer.fit(s, trainCount: 2, transform: .log)
        XCTAssertEqual(log.means[0], (0 + Foundation.log(2.0)) / 2, accuracy: 1e-12)
        // A constant feature is kept with scale 1.
        let flat = ForecastSeries(names: ["y", "x"], channels: [[1, 2, 3], [4, 4, 4]])
        XCTAssertEqual(try SeriesNormalizer.fit(flat, trainCount: 3, transform: .none).scales[1], 1)
    }

    func testChangingTheTestSplitChangesNothingInTraining() throws {
        // Same seed, same training and validation values, different test values: identical
        // normaliser, season, training curve and weights.
        var base = (0..<60).map { (t: Int) -> Double in
            let x = Double(t)
            return 10 + 3 * sin(x * Double.pi / 6) + 0.1 * x
        }
        let configuration = ForecastConfiguration(
            columns: ForecastColumns(target: "y"),
            model: ForecastModelConfiguration(cell: .gru, window: 12, horizon: 3, hiddenSize: 6),
            epochs: 3, batchSize: 8)
        func run(_ values: [Double]) throws -> (ForecastTrainer, [Double], [String: Tensor]) {
            let trainer = try ForecastTrainer(configuration: configuration, series: ForecastSeries(names: ["y"], channels: [values]))
            var losses: [Double] = []
            let result = try trainer.train { losses.append($0.trainingLoss); losses.append($0.validationLoss) }
            return (trainer, losses, Dictionary(uniqueKeysWithValues: result.forecaster.model.stateDict().map { ($0.name, $0.tensor) }))
        }
        let (a, lossesA, weightsA) = try run(base)
        XCTAssertEqual(a.split, SeriesSplit(trainCount: 42, validationCount: 9, testCount: 9))
        for t in a.split.testStart..<base.count { base[t] *= 50 }
        let (b, lossesB, weightsB) = try run(base)
        XCTAssertEqual(a.normalizer, b.normalizer)
        XCTAssertEqual(a.season, b.season)
        XCTAssertEqual(lossesA, lossesB)
        XCTAssertEqual(weightsA, weightsB)
    }
}
