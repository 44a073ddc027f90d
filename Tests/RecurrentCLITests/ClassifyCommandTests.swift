import Foundation
import XCTest

/// `recurrent classify generate|train|predict|evaluate` run as a user would: results, files, and one
/// error line (and nothing written) for every kind of bad input.
final class ClassifyCommandTests: BinaryTestCase {
    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: scratch.appendingPathComponent(name).path) }

    /// Runs the binary with `input` on standard input.
    func run(_ arguments: [String], input: String) throws -> Result {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.currentDirectoryURL = scratch
        let stdin = Pipe(), out = Pipe(), err = Pipe()
        process.standardInput = stdin
        process.standardOutput = out
        process.standardError = err
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], String($0)) }
    }

    func testGenerateTrainPredictEvaluate() throws {
        XCTAssertEqual(try run(["classify", "generate", "--count", "1200", "--seed", "1", "--output", "train.csv"]).status, 0)
        XCTAssertEqual(try run(["classify", "generate", "--count", "300", "--seed", "2", "--output", "test.tsv"]).status, 0)
        let tsv = try String(contentsOf: scratch.appendingPathComponent("test.tsv"), encoding: .utf8)
        XCTAssertTrue(tsv.hasPrefix("text\tlabel\n"), tsv)

        let train = try run(["classify", "train", "--data", "train.csv", "--test", "test.tsv", "--cell", "gru", "--embedding", "16",
                             "--hidden", "32", "--epochs", "4", "--lr", "0.01", "--out", "run", "--json"])
        XCTAssertEqual(train.status, 0, train.stderr)
        let lines = try jsonLines(train.stdout)
        XCTAssertEqual(lines.map { $0["event"] as? String }, ["start", "epoch", "epoch", "epoch", "epoch", "done"])
        let done = try XCTUnwrap(lines.last)
        XCTAssertEqual(done["scoredOn"] as? String, "test")
        let model = try XCTUnwrap(done["model"] as? [String: Any]), baseline = try XCTUnwrap(done["baseline"] as? [String: Any])
        let accuracy = try XCTUnwrap(model["accuracy"] as? Double), baselineAccuracy = try XCTUnwrap(baseline["accuracy"] as? Double)
        XCTAssertGreaterThan(accuracy, 0.9, train.stdout)
        XCTAssertGreaterThan(accuracy, baselineAccuracy + 0.15, train.stdout)
        XCTAssertEqual((model["confusion"] as? [[Int]])?.joined().reduce(0, +), 300)
        XCTAssertTrue(exists("run/config.json") && exists("run/model.safetensors"))

        // predict: arguments, a file, standard input; text and JSON.
        let predict = try run(["classify", "predict", "--checkpoint", "run", "the plot was not good", "the plot was never boring"])
        XCTAssertEqual(predict.status, 0, predict.stderr)
        let rows = predict.stdout.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(rows.map { $0[0] }, ["negative", "positive"], predict.stdout)
        XCTAssertEqual(rows.map { $0[2] }, ["the plot was not good", "the plot was never boring"])
        for row in rows { XCTAssertGreaterThan(Double(row[1]) ?? 0, 0.5) }
        let file = try write("the music is weak\n\nalthough the cast was bland, the ending was superb\n", to: "texts.txt")
        let fromFile = try jsonLines(try run(["classify", "predict", "--checkpoint", "run", "--input", file, "--json"]).stdout)
        XCTAssertEqual(fromFile.map { $0["label"] as? String }, ["negative", "positive"])   // the blank line is skipped
        let probabilities = try XCTUnwrap(fromFile[0]["probabilities"] as? [String: Double])
        XCTAssertEqual(probabilities.values.reduce(0, +), 1, accuracy: 1e-5)
        let fromStdin = try run(["classify", "predict", "--checkpoint", "run"], input: "the story was hardly gripping\n")
        XCTAssertEqual(fromStdin.status, 0, fromStdin.stderr)
        XCTAssertTrue(fromStdin.stdout.hasPrefix("negative\t"), fromStdin.stdout)

        // evaluate: the same test scores as train reported.
        let evaluate = try run(["classify", "evaluate", "--checkpoint", "run", "--data", "test.tsv", "--json"])
        XCTAssertEqual(evaluate.status, 0, evaluate.stderr)
        let scores = try XCTUnwrap(try jsonLines(evaluate.stdout).first)
        XCTAssertEqual(try XCTUnwrap(scores["accuracy"] as? Double), accuracy, accuracy: 1e-12)
        let table = try run(["classify", "evaluate", "--checkpoint", "run", "--data", "test.tsv"])
        XCTAssertTrue(table.stdout.contains("macro-F1") && table.stdout.contains("confusion matrix"), table.stdout)

        // Bad input at evaluate and predict.
        try assertFails(["classify", "evaluate", "--checkpoint", "run", "--data", try write("text,label\ngood,positive\nmeh,neutral\n", to: "u.csv")],
                        mentioning: "u.csv', line 3: label 'neutral' is not one the model was trained on ('negative', 'positive')")
        try assertFails(["classify", "evaluate", "--checkpoint", "run", "--data", try write("review,label\nx,positive\n", to: "c.csv")],
                        mentioning: "has no column 'text' (--text-column)")
        try assertFails(["classify", "predict", "--checkpoint", "nowhere", "x"], mentioning: "nowhere' does not exist")
        let weights = scratch.appendingPathComponent("run/model.safetensors")
        let original = try Data(contentsOf: weights)
        try original.prefix(100).write(to: weights)
        try assertFails(["classify", "predict", "--checkpoint", "run", "x"], mentioning: "model.safetensors' is malformed")
        try original.write(to: weights)
        let configURL = scratch.appendingPathComponent("run/config.json")
        let config = try String(contentsOf: configURL, encoding: .utf8)
        try config.replacingOccurrences(of: "\"hiddenSize\" : 32", with: "\"hiddenSize\" : 31").write(to: configURL, atomically: true, encoding: .utf8)
        try assertFails(["classify", "predict", "--checkpoint", "run", "x"], mentioning: "do not match its config.json")
    }

    func testFolderOfClassesAtCharacterLevelWithBidirectionalMeanPooling() throws {
        for (label, texts) in [("pos", ["lovely film", "great fun", "a joy", "superb acting"]), ("neg", ["awful", "a bore", "dull plot", "weak cast"])] {
            let folder = scratch.appendingPathComponent("reviews/\(label)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (i, text) in texts.enumerated() { try Data(text.utf8).write(to: folder.appendingPathComponent("\(i).txt")) }
        }
        let result = try run(["classify", "train", "--data", "reviews", "--level", "char", "--cell", "lstm", "--bidirectional",
                              "--pooling", "mean", "--hidden", "8", "--embedding", "8", "--epochs", "2", "--val-fraction", "0.25",
                              "--out", "chars"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("8 examples from reviews: 2 classes (neg 4, pos 4)"), result.stdout)
        XCTAssertTrue(result.stdout.contains("bag-of-words logistic regression"), result.stdout)
        let config = try String(contentsOf: scratch.appendingPathComponent("chars/config.json"), encoding: .utf8)
        XCTAssertTrue(config.contains("\"level\" : \"char\"") && config.contains("\"pooling\" : \"mean\""), config)
        let predict = try run(["classify", "predict", "--checkpoint", "chars", "--json", "what a joy"])
        XCTAssertEqual(predict.status, 0, predict.stderr)
    }

    func testBadTrainingDataFailsWithOneLineAndWritesNothing() throws {
        let cases: [(String, String)] = [
            ("text,label\ngood,pos\nbad,neg,extra\n", "bad.csv', line 3: the row has 3 cells, the header has 2"),
            ("text,label\ngood,pos\nbad,\n", "bad.csv', line 3: empty label"),
            ("text,label\ngood,pos\n\" \",neg\n", "bad.csv', line 3: empty text"),
            ("text,label\ngood,pos\nfine,pos\n", "every example has the label 'pos'; at least two classes are needed"),
            ("review,stars\ngood,5\n", "bad.csv' has no column 'text' (--text-column); its columns are 'review', 'stars'"),
            ("text,label\n\"good,pos\n", "bad.csv', line 2: a quoted cell is never closed"),
            ("text,label\n", "bad.csv' has no examples"),
        ]
        for (table, message) in cases {
            let path = try write(table, to: "bad.csv")
            try assertFails(["classify", "train", "--data", path, "--out", "never"], mentioning: message)
            XCTAssertFalse(exists("never"), message)
        }
        let good = try write("text,label\ngood,pos\nbad,neg\nfine,pos\nawful,neg\n", to: "good.csv")
        try assertFails(["classify", "train", "--data", good, "--test", try write("text,label\nok,meh\n", to: "t.csv"), "--out", "never"],
                        mentioning: "t.csv', line 2: label 'meh' is not one the model was trained on")
        try assertFails(["classify", "train", "--data", "missing.csv", "--out", "never"], mentioning: "cannot read")
        try assertFails(["classify", "train", "--data", good, "--text-column", "body", "--out", "never"], mentioning: "no column 'body'")
        try Data([0x74, 0x65, 0x78, 0x74, 0x2C, 0x6C, 0x61, 0x62, 0x65, 0x6C, 0x0A, 0xFF, 0x2C, 0x61, 0x0A]).write(to: scratch.appendingPathComponent("latin1.csv"))
        try assertFails(["classify", "train", "--data", "latin1.csv", "--out", "never"], mentioning: "line 2: not valid UTF-8")
        try assertFails(["classify", "train", "--out", "never"], mentioning: "--data")
        XCTAssertFalse(exists("never"))
        // A directory holding another kind of run is not overwritten.
        try FileManager.default.createDirectory(at: scratch.appendingPathComponent("other"), withIntermediateDirectories: true)
        _ = try write(#"{"format": "recurrent.forecast-checkpoint"}"#, to: "other/config.json")
        try assertFails(["classify", "train", "--data", good, "--val-fraction", "0.5", "--out", "other"], mentioning: "already holds a training run")
    }

    func testHelpListsTheOptions() throws {
        let train = try run(["classify", "train", "--help"]).stdout
        for option in ["--data", "--corpus", "--test", "--text-column", "--label-column", "--level", "--vocabulary-size", "--max-length",
                       "--cell", "--bidirectional", "--pooling", "--val-fraction", "--no-baseline", "--out", "--json", "--clip"] {
            XCTAssertTrue(train.contains(option), "classify train --help lacks \(option)")
        }
        let group = try run(["classify", "--help"]).stdout
        for subcommand in ["train", "predict", "evaluate", "generate", "demo"] { XCTAssertTrue(group.contains(subcommand), subcommand) }
    }

    /// --resume continues a run to the same files as the uninterrupted run, byte for byte (the data,
    /// split and settings come from the checkpoint); --lr 1e6 stops with one line.
    func testResumeIsByteIdenticalAndDivergenceFailsWithOneLine() throws {
        let base = ["classify", "train", "--corpus", "sentiment", "--corpus-count", "200", "--embedding", "8", "--hidden", "8",
                    "--no-baseline", "--json"]
        XCTAssertEqual(try run(base + ["--epochs", "4", "--out", "whole"]).status, 0)
        XCTAssertEqual(try run(base + ["--epochs", "2", "--out", "part"]).status, 0)
        let resumed = try run(["classify", "train", "--resume", "part", "--epochs", "4", "--no-baseline", "--json"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try jsonLines(resumed.stdout).map { $0["event"] as? String }, ["start", "epoch", "epoch", "done"])
        for name in ["model.safetensors", "config.json"] {
            XCTAssertEqual(try Data(contentsOf: scratch.appendingPathComponent("part/\(name)")),
                           try Data(contentsOf: scratch.appendingPathComponent("whole/\(name)")), name)
        }
        try assertFails(["classify", "train", "--resume", "part", "--corpus", "sentiment"], mentioning: "cannot be combined with --resume")
        try assertFails(base + ["--lr", "1e6", "--out", "wrecked"], mentioning: "training diverged at step 2")
        XCTAssertFalse(exists("wrecked"))
    }
}
