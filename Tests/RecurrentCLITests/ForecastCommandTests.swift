import Foundation
import XCTest
import RecurrentTestSupport

/// `recurrent forecast train` and `recurrent forecast predict` run as a user would: results,
/// files, and one error line for every kind of bad CSV.
final class ForecastCommandTests: BinaryTestCase {
    /// A monthly series of `count` rows: a trend plus a season of 6 months.
    func monthlyCSV(count: Int = 96, transform: (Int, String) -> String = { $1 }) -> String {
        var text = "\"Month\",\"Value\"\n"
        for t in 0..<count {
            let value = 50 + 0.5 * Double(t) + 8 * sin(2 * Double.pi * Double(t) / 6)
            text += transform(t, "\"\(2000 + t / 12)-\(String(format: "%02d", t % 12 + 1))\",\(String(format: "%.3f", value))") + "\n"
        }
        return text
    }

    func testTrainThenPredictWithDatesAndJSON() throws {
        let csv = try write(monthlyCSV(), to: "monthly.csv")
        let train = try run(["forecast", "train", "--csv", csv, "--target", "Value", "--window", "12", "--horizon", "6",
                             "--hidden", "16", "--epochs", "100", "--out", "run", "--json"])
        XCTAssertEqual(train.status, 0, train.stderr)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(train.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(summary["season"] as? Int, 6)
        XCTAssertEqual(summary["test"] as? Int, 14)
        XCTAssertEqual(summary["origins"] as? Int, 9)
        let model = try XCTUnwrap(summary["model"] as? [String: Any])
        let seasonal = try XCTUnwrap(summary["seasonalNaive"] as? [String: Any])
        // Seasonal naive misses the trend, 0.5 per month times 6 months, on every target.
        XCTAssertEqual(try XCTUnwrap(seasonal["mae"] as? Double), 3, accuracy: 0.002)
        XCTAssertLessThan(try XCTUnwrap(model["rmse"] as? Double), 0.5 * (try XCTUnwrap(seasonal["rmse"] as? Double)))
        for name in ["config.json", "model.safetensors", "forecast.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("run/\(name)").path), name)
        }

        let predict = try run(["forecast", "predict", "--checkpoint", "run", "--csv", csv, "--json", "--plot", "future.svg"])
        XCTAssertEqual(predict.status, 0, predict.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(predict.stdout.utf8)) as? [String: Any])
        let steps = try XCTUnwrap(object["forecast"] as? [[String: Any]])
        XCTAssertEqual(steps.map { $0["date"] as? String }, ["2008-01", "2008-02", "2008-03", "2008-04", "2008-05", "2008-06"])
        for step in steps {
            let value = try XCTUnwrap(step["value"] as? Double), lower = try XCTUnwrap(step["lower"] as? Double)
            let upper = try XCTUnwrap(step["upper"] as? Double)
            XCTAssertTrue(lower <= value && value <= upper && value > 60 && value < 140, "\(step)")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("future.svg").path))
        // The table form, and a direct model asked for more steps than it was trained for.
        let table = try run(["forecast", "predict", "--checkpoint", "run", "--csv", csv, "--horizon", "2"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("2008-02"), table.stdout)
        try assertFails(["forecast", "predict", "--checkpoint", "run", "--csv", csv, "--horizon", "7"], mentioning: "--horizon")
        try assertFails(["forecast", "predict", "--checkpoint", "nowhere", "--csv", csv], mentioning: "nowhere")
        try assertFails(["forecast", "predict", "--checkpoint", "run", "--csv", try write(monthlyCSV(count: 5), to: "five.csv")],
                        mentioning: "too short: 5 values, at least 12 needed (the model reads a window of 12 steps)")
        try assertFails(["forecast", "predict", "--checkpoint", "run", "--csv", try write("Month,Other\n2000-01,1\n", to: "other.csv")],
                        mentioning: "no column 'Value'")
    }

    func testHelpListsTheOptions() throws {
        let train = try run(["forecast", "train", "--help"]).stdout
        for option in ["--csv", "--target", "--features", "--date", "--fill", "--transform", "--target-mode", "--horizon",
                       "--window", "--cell", "--strategy", "--season", "--interval", "--seed", "--out", "--plot", "--json"] {
            XCTAssertTrue(train.contains(option), "forecast train --help lacks \(option)")
        }
        let predict = try run(["forecast", "predict", "--help"]).stdout
        for option in ["--checkpoint", "--csv", "--horizon", "--plot", "--json"] {
            XCTAssertTrue(predict.contains(option), "forecast predict --help lacks \(option)")
        }
    }

    func testFillOptionHandlesGaps() throws {
        let gappy = try write(monthlyCSV { t, row in t == 40 ? row.components(separatedBy: ",")[0] + "," : row }, to: "gap.csv")
        try assertFails(["forecast", "train", "--csv", gappy, "--target", "Value", "--window", "12", "--horizon", "6", "--out", "o"],
                        mentioning: "line 42: missing value (use --fill forward")
        let result = try run(["forecast", "train", "--csv", gappy, "--target", "Value", "--window", "12", "--horizon", "6",
                              "--fill", "linear", "--epochs", "2", "--hidden", "4", "--out", "filled"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("1 missing cells filled, --fill linear"), result.stdout)
        XCTAssertFalse(result.stdout.lowercased().contains("nan"), result.stdout)
    }

    func testBadCSVFilesGiveOneErrorLineAndWriteNothing() throws {
        let base = ["forecast", "train", "--target", "Value", "--window", "12", "--horizon", "6", "--out", "out", "--csv"]
        try assertFails(base + ["missing.csv"], mentioning: "missing.csv")
        try assertFails(base + [try write(monthlyCSV { t, row in t == 10 ? row + ",7" : row }, to: "ragged.csv")],
                        mentioning: "line 12: the row has 3 cells, the header has 2")
        try assertFails(base + [try write(monthlyCSV { t, row in t == 5 ? "\"2000-06\",abc" : row }, to: "text.csv")],
                        mentioning: "line 7: 'abc' is not a finite decimal number")
        try assertFails(base + [try write(monthlyCSV(count: 30), to: "short.csv")], mentioning: "too short: 30 values")
        try assertFails(base + [try write(monthlyCSV { t, _ in "\"\(2000 + t / 12)-\(String(format: "%02d", t % 12 + 1))\",4" }, to: "flat.csv")],
                        mentioning: "is constant (4.0)")
        try assertFails(base + [try write("", to: "empty.csv")], mentioning: "no data rows")
        try assertFails(["forecast", "train", "--target", "Other", "--out", "out", "--csv", try write(monthlyCSV(), to: "ok.csv")],
                        mentioning: "no column 'Other' in the CSV; its columns are 'Month', 'Value'")
        try assertFails(base + [try write(monthlyCSV { t, row in t == 3 ? "\"2000-06\",1" : row }, to: "order.csv")],
                        mentioning: "is not later than the date before it")
        try assertFails(base + [try write(monthlyCSV(), to: "ok2.csv"), "--window", "0"], mentioning: "--window")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("out").path),
                       "a failed run must not create the output directory")
    }

    /// --resume continues a run to the same files as the uninterrupted run, byte for byte; a new run
    /// into a directory holding a run is refused.
    func testResumeIsByteIdenticalToTheUninterruptedRun() throws {
        let csv = try write(monthlyCSV(), to: "monthly.csv")
        let base = ["forecast", "train", "--csv", csv, "--target", "Value", "--window", "12", "--horizon", "6", "--hidden", "8"]
        XCTAssertEqual(try run(base + ["--epochs", "30", "--out", "whole"]).status, 0)
        let part = try run(base + ["--epochs", "11", "--checkpoint-every", "4", "--out", "part"])
        XCTAssertEqual(part.status, 0, part.stderr)
        let resumed = try run(["forecast", "train", "--resume", "part", "--epochs", "30"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        for name in ["model.safetensors", "config.json"] {
            XCTAssertEqual(try Data(contentsOf: scratch.appendingPathComponent("part/\(name)")),
                           try Data(contentsOf: scratch.appendingPathComponent("whole/\(name)")), name)
        }
        try assertFails(base + ["--epochs", "30", "--out", "part"], mentioning: "already holds a training run; resume it")
        try assertFails(["forecast", "train", "--resume", "nowhere"], mentioning: "checkpoint")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("nowhere").path))
    }

    /// --lr 1e6 stops with one line naming the step and a non-zero exit; nothing was saved, so the
    /// output directory does not exist.
    func testDivergenceFailsWithOneLineAndSavesNothing() throws {
        let csv = try write(monthlyCSV(), to: "monthly.csv")
        try assertFails(["forecast", "train", "--csv", csv, "--target", "Value", "--window", "12", "--horizon", "6",
                         "--lr", "1e6", "--out", "wrecked"], mentioning: "training diverged at step 2: the smoothed loss")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("wrecked").path))
    }
}
