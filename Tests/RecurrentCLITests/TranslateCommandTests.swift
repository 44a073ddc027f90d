import Foundation
import XCTest

/// `recurrent translate generate|train|predict` run as a user would: files, scores, standard input,
/// and one error line (nothing written) for every kind of bad input.
final class TranslateCommandTests: BinaryTestCase {
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
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: scratch.appendingPathComponent(name).path) }

    func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    /// A small trained word-level model in `run` (attention on unless told otherwise).
    func trainSmall(_ extra: [String] = [], runDir: String = "run") throws -> Result {
        let generate = try run(["translate", "generate", "--task", "mirror", "--count", "200", "--min-length", "2", "--max-length", "4",
                                "--out", "mirror.tsv"])
        XCTAssertEqual(generate.status, 0, generate.stderr)
        let train = try run(["translate", "train", "--pairs", "mirror.tsv", "--level", "word", "--steps", "20", "--hidden", "16",
                             "--embedding", "8", "--batch", "16", "--run-dir", runDir, "--threads", "1"] + extra)
        XCTAssertEqual(train.status, 0, train.stderr)
        return train
    }

    func testGenerateTrainPredict() throws {
        let train = try trainSmall(["--json"])
        let events = try jsonLines(train.stdout)
        XCTAssertEqual(events.first?["event"] as? String, "start")
        XCTAssertEqual(events.first?["heldOut"] as? Int, 20)
        XCTAssertEqual(events.filter { $0["event"] as? String == "progress" }.count, 20)
        let result = try XCTUnwrap(events.last)
        XCTAssertEqual(result["event"] as? String, "result")
        let heldOut = try XCTUnwrap(result["heldOut"] as? [String: Any])
        XCTAssertEqual(heldOut["count"] as? Int, 20)
        let bleu = try XCTUnwrap(heldOut["bleu"] as? Double)
        XCTAssertTrue((0...1).contains(bleu))
        for name in ["run/config.json", "run/model.safetensors", "run/attention.svg"] { XCTAssertTrue(exists(name), name) }

        // A pairs file is translated and scored; plain sources are just translated.
        let scored = try run(["translate", "predict", "--checkpoint", "run", "--input", "mirror.tsv"])
        XCTAssertEqual(scored.status, 0, scored.stderr)
        // (An undertrained model may translate to the empty string: an empty line.)
        let lines = scored.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.count, 201)
        XCTAssertTrue(lines.last!.hasPrefix("# 200 with references: exact match "), String(lines.last!))
        let piped = try run(["translate", "predict", "--checkpoint", "run", "--beam", "3", "--heatmap", "one.svg"],
                            input: "ka lo tun\n\nhemu ris\n")
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertEqual(piped.stdout.split(separator: "\n", omittingEmptySubsequences: false).count, 3, piped.stdout)
        XCTAssertTrue(try String(contentsOf: scratch.appendingPathComponent("one.svg"), encoding: .utf8).contains("ka"))
        let json = try jsonLines(try run(["translate", "predict", "--checkpoint", "run", "--json"], input: "ka lo\tdog cat\n").stdout)
        XCTAssertEqual(json.count, 2)
        XCTAssertEqual(json[0]["source"] as? String, "ka lo")
        XCTAssertNotNil(json[0]["exact"] as? Bool)
        XCTAssertEqual((json[1]["scores"] as? [String: Any])?["count"] as? Int, 1)

        // The same command line gives the same model.
        let again = try trainSmall(["--json"], runDir: "again")
        XCTAssertEqual(try jsonLines(again.stdout).last?["heldOut"] as? NSDictionary, heldOut as NSDictionary)
    }

    func testTextOutputAndLSTMWithoutAttention() throws {
        let train = try trainSmall(["--no-attention", "--cell", "lstm"])
        XCTAssertTrue(train.stdout.contains("training a lstm encoder–decoder with a fixed context for 20 steps"), train.stdout)
        XCTAssertTrue(train.stdout.contains("held out (20 pairs, greedy): exact match"), train.stdout)
        XCTAssertFalse(exists("run/attention.svg"))
        // No heatmap without attention: one error line, nothing written.
        try assertFails(["translate", "predict", "--checkpoint", "run", "--heatmap", "h.svg", "--input", "mirror.tsv"],
                        mentioning: "no attention")
        XCTAssertFalse(exists("h.svg"))
        let epochs = try run(["translate", "train", "--pairs", "mirror.tsv", "--level", "word", "--epochs", "2", "--batch", "60",
                              "--hidden", "8", "--embedding", "4", "--threads", "1"])
        XCTAssertEqual(epochs.status, 0, epochs.stderr)
        XCTAssertTrue(epochs.stdout.contains("for 6 steps"), "180 training pairs in batches of 60, twice: \(epochs.stdout)")
    }

    func testBadInputFailsWithOneLineAndWritesNothing() throws {
        let good = try write("a b\tx\nc\ty\nd\tz\ne\tw\n", to: "good.tsv")
        let cases: [(text: String, fragment: String)] = [
            ("a\tb\nno tab\n", "line 2: no tab"),
            ("a\tb\nc\t\n", "line 2: empty target"),
            ("\tb\n", "line 1: empty source"),
            ("a\tb\tc\n", "line 1: 2 tabs"),
            ("", "no pairs"),
        ]
        for (index, bad) in cases.enumerated() {
            let file = try write(bad.text, to: "bad\(index).tsv")
            try assertFails(["translate", "train", "--pairs", file, "--run-dir", "out\(index)"], mentioning: "bad\(index).tsv")
            try assertFails(["translate", "train", "--pairs", file, "--run-dir", "out\(index)"], mentioning: bad.fragment)
            XCTAssertFalse(exists("out\(index)"), bad.fragment)
        }
        try assertFails(["translate", "train", "--pairs", "missing.tsv"], mentioning: "missing.tsv: no such file")
        try assertFails(["translate", "train", "--pairs", good, "--cell", "rnn"], mentioning: "--cell")
        try assertFails(["translate", "train", "--pairs", good, "--level", "byte"], mentioning: "--level")
        try assertFails(["translate", "train", "--pairs", good, "--steps", "0"], mentioning: "--steps")
        try assertFails(["translate", "train", "--pairs", good, "--steps", "5", "--epochs", "1"], mentioning: "not both")
        try assertFails(["translate", "train", "--pairs", good, "--val-fraction", "1"], mentioning: "--val-fraction")
        try assertFails(["translate", "train", "--pairs", good, "--hidden", "0"], mentioning: "--hidden")
        try assertFails(["translate", "generate", "--task", "poems"], mentioning: "--task")
        try assertFails(["translate", "generate", "--task", "mirror", "--count", "100", "--min-length", "1", "--max-length", "1"],
                        mentioning: "at most 12 pairs")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { !$0.hasSuffix(".tsv") }, [])

        // Checkpoints: missing, corrupt, from another command; bad predict input.
        _ = try trainSmall()
        try assertFails(["translate", "predict", "--checkpoint", "nowhere"], mentioning: "nowhere")
        try assertFails(["translate", "predict", "--checkpoint", "run", "--input", "absent.txt"], mentioning: "absent.txt: no such file")
        try assertFails(["translate", "predict", "--checkpoint", "run", "--input", try write("\n\n", to: "blank.txt")],
                        mentioning: "blank.txt: no sources")
        try assertFails(["translate", "predict", "--checkpoint", "run", "--input", try write("a\tb\tc\n", to: "tabs.txt")],
                        mentioning: "tabs.txt, line 1")
        try assertFails(["translate", "predict", "--checkpoint", "run", "--input", "mirror.tsv", "--beam", "0"], mentioning: "--beam")
        let config = scratch.appendingPathComponent("run/config.json")
        let saved = try Data(contentsOf: config)
        try Data("{\"format\": 3".utf8).write(to: config)
        try assertFails(["translate", "predict", "--checkpoint", "run", "--input", "mirror.tsv"], mentioning: "config.json")
        try saved.write(to: config)
        try Data([1, 2, 3]).write(to: scratch.appendingPathComponent("run/model.safetensors"))
        try assertFails(["translate", "predict", "--checkpoint", "run", "--input", "mirror.tsv"], mentioning: "model.safetensors")
    }

    func testHelpListsTheOptions() throws {
        let train = try run(["translate", "train", "--help"]).stdout
        for option in ["--pairs", "--level", "--attention", "--no-attention", "--cell", "--hidden", "--embedding", "--steps", "--epochs",
                       "--batch", "--lr", "--clip", "--val-fraction", "--beam", "--seed", "--run-dir", "--json"] {
            XCTAssertTrue(train.contains(option), "translate train --help lacks \(option)")
        }
        let predict = try run(["translate", "predict", "--help"]).stdout
        for option in ["--checkpoint", "--input", "--beam", "--heatmap", "--max-length", "--json"] {
            XCTAssertTrue(predict.contains(option), "translate predict --help lacks \(option)")
        }
        XCTAssertTrue(try run(["--help"]).stdout.contains("translate"))
    }

    /// --resume continues a run to the same files as the uninterrupted run, byte for byte; --lr 1e6
    /// stops with one line and leaves no directory.
    func testResumeIsByteIdenticalAndDivergenceFailsWithOneLine() throws {
        _ = try trainSmall(runDir: "whole")
        let part = try run(["translate", "train", "--pairs", "mirror.tsv", "--level", "word", "--steps", "9", "--hidden", "16",
                            "--embedding", "8", "--batch", "16", "--run-dir", "part", "--threads", "1", "--checkpoint-every", "4"])
        XCTAssertEqual(part.status, 0, part.stderr)
        let resumed = try run(["translate", "train", "--resume", "part", "--steps", "20", "--threads", "1"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        for name in ["model.safetensors", "config.json", "attention.svg"] {
            XCTAssertEqual(try Data(contentsOf: scratch.appendingPathComponent("part/\(name)")),
                           try Data(contentsOf: scratch.appendingPathComponent("whole/\(name)")), name)
        }
        try assertFails(["translate", "train", "--pairs", "mirror.tsv", "--level", "word", "--lr", "1e6", "--run-dir", "wrecked"],
                        mentioning: "training diverged at step 2")
        XCTAssertFalse(exists("wrecked"))
    }
}
