import Foundation
import XCTest
import RecurrentTestSupport
import Recurrent

/// The main commands run through the binary.
final class CommandLineTests: BinaryTestCase {
    /// A small training run on generated text; returns the run directory.
    func trainSmallModel(_ name: String = "run", extra: [String] = []) throws -> String {
        let result = try run(["train", "--corpus", "arithmetic", "--corpus-lines", "400", "--hidden", "16", "--layers", "1",
                              "--embedding", "8", "--batch", "4", "--seq", "16", "--max-steps", "6", "--eval-every", "3",
                              "--sample-length", "0", "--out", name] + extra)
        XCTAssertEqual(result.status, 0, result.stderr)
        return scratch.appendingPathComponent(name).path
    }

    func testVersionAndHelp() throws {
        XCTAssertEqual(try run(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines), "0.1.0")
        let help = try run(["train", "--help"]).stdout
        for option in ["--text", "--cell", "--hidden", "--layers", "--dropout", "--embedding", "--batch", "--seq",
                       "--optimizer", "--lr", "--lr-decay", "--clip", "--clip-value", "--epochs", "--time-budget",
                       "--val-fraction", "--eval-every", "--seed", "--threads", "--out", "--resume", "--json", "--level"] {
            XCTAssertTrue(help.contains(option), "train --help lacks \(option)")
        }
    }

    /// RECURRENT_KERNELS forces a kernel family; a family that does not exist or that this CPU cannot
    /// run stops the command with one error line; every supported family trains the same small model
    /// to nearly the same loss (the families differ only in the order of Float additions).
    func testTheKernelFamilyIsChosenByTheEnvironment() throws {
        try assertFails(["--version"], environment: ["RECURRENT_KERNELS": "sse9"], mentioning: "invalid RECURRENT_KERNELS")
        #if arch(x86_64)
        try assertFails(["--version"], environment: ["RECURRENT_KERNELS": "neon"], mentioning: "does not support 'neon'")
        #else
        try assertFails(["--version"], environment: ["RECURRENT_KERNELS": "avx2"], mentioning: "does not support 'avx2'")
        #endif
        var losses: [String: Double] = [:]
        for family in KernelFamily.supported {
            let result = try run(["train", "--corpus", "arithmetic", "--corpus-lines", "400", "--hidden", "32", "--layers", "2",
                                  "--embedding", "8", "--batch", "8", "--seq", "16", "--max-steps", "20", "--eval-every", "20",
                                  "--sample-length", "0", "--json", "--out", "run-\(family.rawValue)"],
                                 environment: ["RECURRENT_KERNELS": family.rawValue])
            XCTAssertEqual(result.status, 0, "\(family): \(result.stderr)")
            let last = try XCTUnwrap(result.stdout.split(separator: "\n").last, "\(family) printed nothing")
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
            losses[family.rawValue] = try XCTUnwrap(object["val_loss"] as? Double, "\(family): no validation loss in \(last)")
        }
        let reference = try XCTUnwrap(losses["reference"])
        // The corpus has 16 symbols (digits, + - * =, space, newline): uniform guessing is ln 16 = 2.77.
        // Over 20 seeds 2.56–2.63, and the families differ by at most 4.9e-8 after the 20 steps
        // (testMarginsOverSeeds, docs/learning-margins.md).
        XCTAssertLessThan(reference, 2.7, "20 steps learn something")
        for (family, loss) in losses { XCTAssertEqual(loss, reference, accuracy: 1e-3, "\(family) against reference") }
    }

    /// Over seeds 1…N (`--seed`): the validation loss after the 20 training steps of
    /// `testTheKernelFamilyIsChosenByTheEnvironment` on the reference family, its largest difference on
    /// another family, and the modular-sum accuracy at length 10 that `classify demo --steps 300`
    /// reports (docs/learning-margins.md).
    func testMarginsOverSeeds() throws {
        _ = try LearningMargins.seeds()   // skips unless RECURRENT_SEEDS is set
        try LearningMargins.sweep("command line") { seed in
            var losses: [Double] = []
            for family in KernelFamily.supported.reversed() {
                let result = try run(["train", "--corpus", "arithmetic", "--corpus-lines", "400", "--hidden", "32", "--layers", "2",
                                      "--embedding", "8", "--batch", "8", "--seq", "16", "--max-steps", "20", "--eval-every", "20",
                                      "--sample-length", "0", "--json", "--seed", "\(seed)", "--out", "run-\(seed)-\(family.rawValue)"],
                                     environment: ["RECURRENT_KERNELS": family.rawValue])
                XCTAssertEqual(result.status, 0, result.stderr)
                let last = try XCTUnwrap(result.stdout.split(separator: "\n").last)
                let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
                losses.append(try XCTUnwrap(object["val_loss"] as? Double))
            }
            let classify = try run(["classify", "demo", "--steps", "300", "--seed", "\(seed)"])
            let accuracies = classify.stdout.split(separator: "\n").filter { $0.contains("accuracy") }
                .compactMap { Double($0.split(separator: " ").last ?? "") }
            return [("reference loss after 20 steps", losses[0]),
                    ("largest family difference", losses.map { abs($0 - losses[0]) }.max()!),
                    ("classify demo accuracy at 10", accuracies.count == 4 ? accuracies[1] : -1)]
        }
    }

    func testAThreadCountFromTheEnvironmentMustBeAPositiveNumber() throws {
        for bad in ["0", "-2", "two", "1.5", "100000"] {
            try assertFails(["--version"], environment: ["RECURRENT_THREADS": bad],
                            mentioning: "invalid RECURRENT_THREADS: expected a whole number of threads from 1 to 4096, got '\(bad)'")
        }
        let result = try run(["--version"], environment: ["RECURRENT_THREADS": "1"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "")
    }

    func testBadTextFilesGiveOneErrorLineAndWriteNothing() throws {
        try assertFails(["train", "--text", "missing.txt", "--out", "out"], mentioning: "missing.txt")
        try assertFails(["train", "--text", try write("", to: "empty.txt"), "--out", "out"], mentioning: "empty")
        let latin1 = scratch.appendingPathComponent("latin1.txt")
        try Data([0x63, 0x61, 0x66, 0xE9, 0x0A]).write(to: latin1)   // "café" in Latin-1
        try assertFails(["train", "--text", latin1.path, "--out", "out"], mentioning: "--level byte")
        try assertFails(["train", "--text", try write("too short\n", to: "short.txt"), "--out", "out"], mentioning: "short")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("out").path),
                       "a failed start must not create the output directory")
    }

    func testOutOfRangeNumbersNameTheOption() throws {
        try assertFails(["train", "--hidden", "x"], mentioning: "--hidden")   // a usage error is one line too
        let text = try write(String(repeating: "abcdefgh\n", count: 400), to: "t.txt")
        try assertFails(["train", "--text", text, "--hidden", "0"], mentioning: "--hidden")
        try assertFails(["train", "--text", text, "--dropout", "1.5"], mentioning: "--dropout")
        try assertFails(["train", "--text", text, "--val-fraction", "1"], mentioning: "--val-fraction")
        try assertFails(["train", "--text", text, "--lr=-1"], mentioning: "--lr")
        try assertFails(["sample", "--checkpoint", "x", "--temperature=-1"], mentioning: "--temperature")
    }

    /// Truncated BPTT(k1, k2) from the command line: saved in the run's configuration, resumable, and
    /// bad combinations name the option.
    func testTruncationLengthsAndContinuousState() throws {
        let run = try trainSmallModel("k", extra: ["--k1", "16", "--k2", "24", "--continuous"])
        let checkpoints = URL(fileURLWithPath: run).appendingPathComponent("checkpoints")
        let latest = try String(contentsOf: checkpoints.appendingPathComponent("latest"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let data = try Data(contentsOf: checkpoints.appendingPathComponent(latest).appendingPathComponent("config.json"))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let training = try XCTUnwrap(object["training"] as? [String: Any])
        XCTAssertEqual(training["sequenceLength"] as? Int, 16)
        XCTAssertEqual(training["backpropagationLength"] as? Int, 24)
        XCTAssertEqual(training["continuousState"] as? Bool, true)
        let resumed = try self.run(["train", "--resume", run, "--max-steps", "9", "--sample-length", "0"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        try assertFails(["train", "--corpus", "arithmetic", "--k1", "8", "--seq", "16"], mentioning: "--k1")
        try assertFails(["train", "--corpus", "arithmetic", "--k2", "0"], mentioning: "--k2")
    }

    func testMissingAndMismatchedCheckpoints() throws {
        try assertFails(["sample", "--checkpoint", "nowhere"], mentioning: "nowhere")
        try assertFails(["evaluate", "--checkpoint", "nowhere", "--text", try write("1+1=2\n", to: "a.txt")], mentioning: "nowhere")
        let run = try trainSmallModel()
        // A text with characters the model's vocabulary lacks.
        try assertFails(["evaluate", "--checkpoint", run, "--text", try write("hello\n", to: "words.txt")], mentioning: "h")
        // Resuming on another text.
        let other = try write(String(repeating: "1+2=3\n4*5=20\n", count: 200), to: "other.txt")
        try assertFails(["train", "--resume", run, "--text", other, "--max-steps", "8"], mentioning: "not the text")
        // A checkpoint whose weights do not fit its configuration (another architecture).
        let configPath = try XCTUnwrap(FileManager.default.enumerator(atPath: run)?.compactMap { $0 as? String }
            .first { $0.hasSuffix("config.json") })
        let configURL = URL(fileURLWithPath: run).appendingPathComponent(configPath)
        let config = try String(contentsOf: configURL, encoding: .utf8)
        try config.replacingOccurrences(of: "\"hiddenSize\" : 16", with: "\"hiddenSize\" : 24")
            .replacingOccurrences(of: "\"hiddenSize\":16", with: "\"hiddenSize\":24")
            .write(to: configURL, atomically: true, encoding: .utf8)
        XCTAssertNotEqual(try String(contentsOf: configURL, encoding: .utf8), config, "the test must change the architecture")
        try assertFails(["sample", "--checkpoint", run], mentioning: "shape")
    }

    func testSamplingIsDeterministicUnderASeed() throws {
        let run = try trainSmallModel()
        let a = try self.run(["sample", "--checkpoint", run, "--length", "60", "--seed", "7"])
        let b = try self.run(["sample", "--checkpoint", run, "--length", "60", "--seed", "7"])
        let c = try self.run(["sample", "--checkpoint", run, "--length", "60", "--seed", "8"])
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(a.stdout, b.stdout)
        XCTAssertNotEqual(a.stdout, c.stdout)
        XCTAssertEqual(a.stdout.unicodeScalars.count, 61)   // 60 characters and a final newline
        let greedy1 = try self.run(["sample", "--checkpoint", run, "--length", "30", "--temperature", "0", "--seed", "1"])
        let greedy2 = try self.run(["sample", "--checkpoint", run, "--length", "30", "--temperature", "0", "--seed", "2"])
        XCTAssertEqual(greedy1.stdout, greedy2.stdout, "greedy decoding does not depend on the seed")
    }

    /// `sample --next K`: the K most probable next tokens, most probable first, with probabilities
    /// that are a part of one.
    func testNextTokenQuery() throws {
        let run = try trainSmallModel("next")
        let result = try self.run(["sample", "--checkpoint", run, "--prime", "12+", "--next", "4"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 4, result.stdout)
        let rows = try lines.map { line -> (Double, String) in
            let fields = line.split(separator: "\t", maxSplits: 1)
            let token = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(fields[1].utf8), options: .fragmentsAllowed) as? String)
            return (try XCTUnwrap(Double(fields[0])), token)
        }
        XCTAssertEqual(rows.map(\.0), rows.map(\.0).sorted(by: >))
        XCTAssertLessThanOrEqual(rows.map(\.0).reduce(0, +), 1.0001)
        XCTAssertEqual(Set(rows.map(\.1)).count, 4, "four different tokens")
        try assertFails(["sample", "--checkpoint", run, "--next", "0"], mentioning: "--next")
    }

    func testTrainWritesCheckpointsMetricsAndJSON() throws {
        let result = try run(["train", "--corpus", "arithmetic", "--corpus-lines", "400", "--hidden", "16", "--layers", "1",
                              "--embedding", "8", "--batch", "4", "--seq", "16", "--max-steps", "6", "--eval-every", "3",
                              "--sample-length", "0", "--out", "jrun", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let objects = try result.stdout.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        XCTAssertEqual(objects.map { $0["event"] as? String }, ["evaluation", "evaluation", "summary"])
        let summary = try XCTUnwrap(objects.last)
        for key in ["val_loss", "val_bpc", "tokens_per_s", "steps", "seconds"] { XCTAssertNotNil(summary[key], key) }
        XCTAssertEqual(summary["steps"] as? Int, 6)
        let loss = try XCTUnwrap(summary["val_loss"] as? Double), bits = try XCTUnwrap(summary["val_bpc"] as? Double)
        XCTAssertEqual(bits, loss / log(2), accuracy: 1e-9)
        let directory = scratch.appendingPathComponent("jrun")
        let csv = try String(contentsOf: directory.appendingPathComponent("metrics.csv"), encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 3)   // header and two evaluations
        XCTAssertTrue(try String(contentsOf: directory.appendingPathComponent("loss.svg"), encoding: .utf8).contains("<svg"))
        // Resume for two more steps.
        let resumed = try run(["train", "--resume", directory.path, "--max-steps", "8", "--json", "--sample-length", "0"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("\"steps\":8"), resumed.stdout)
    }

    func testTopologyDemosRunAndReportTheirScores() throws {
        let classify = try run(["classify", "demo", "--steps", "300"])
        XCTAssertEqual(classify.status, 0, classify.stderr)
        // The library test asserts ≥ 0.98 at length 10 with these settings; the command must report it.
        let accuracies = classify.stdout.split(separator: "\n").filter { $0.contains("accuracy") }
            .compactMap { Double($0.split(separator: " ").last ?? "") }
        XCTAssertEqual(accuracies.count, 4, classify.stdout)
        XCTAssertGreaterThanOrEqual(accuracies[1], 0.98, classify.stdout)

        let detect = try run(["detect", "--evaluation-length", "3000"])
        XCTAssertEqual(detect.status, 0, detect.stderr)
        XCTAssertTrue(detect.stdout.contains("precision") && detect.stdout.contains("recall"), detect.stdout)

        let heatmap = scratch.appendingPathComponent("attention.svg").path
        let seq2seq = try run(["seq2seq", "--steps", "30", "--max-length", "4", "--heatmap", heatmap])
        XCTAssertEqual(seq2seq.status, 0, seq2seq.stderr)
        XCTAssertTrue(seq2seq.stdout.contains("with attention"), seq2seq.stdout)
        XCTAssertTrue(try String(contentsOfFile: heatmap, encoding: .utf8).hasPrefix("<svg"))
    }

    func testBenchRunsACustomWorkloadAndRejectsBadSpecifications() throws {
        let result = try run(["bench", "--custom", "kind=train,cell=gru,hidden=16,embedding=8,layers=1,batch=3,sequence=5",
                              "--iterations", "3", "--threads", "1", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["workload"] as? String, "custom")
        XCTAssertEqual(object["iterations"] as? Int, 3)
        // 15 tokens per iteration: the rate and the per-token time describe the same median.
        let rate = try XCTUnwrap(object["tokens_per_s"] as? Double), perToken = try XCTUnwrap(object["us_per_token"] as? Double)
        XCTAssertEqual(rate * perToken, 1e6, accuracy: 1e6 * 1e-3)
        XCTAssertEqual(try XCTUnwrap(object["median_iteration_ms"] as? Double) * rate, 15e3, accuracy: 15e3 * 2e-3)
        // GFLOP/s counts the products executed. GRU (3 gates), hidden 16, embedding 8, vocabulary 65: forward
        // 2·48·(8 + 16) + 2·16·65 = 4384 FLOPs per token, training 3× that. With 15 tokens per batch every
        // product runs on the tokens' rows.
        try assertGFLOPS(object, flopsPerToken: 3 * 4384)
        // With 200 tokens (more than twice the vocabulary) layer 0's three products with the embedding
        // (2·48·8 = 768 FLOPs per row) run on the 65 vocabulary rows instead: 3·(4384 − 768 + 768·65/200).
        let table = try run(["bench", "--custom", "kind=train,cell=gru,hidden=16,embedding=8,layers=1,batch=10,sequence=20",
                             "--iterations", "3", "--threads", "1", "--json"])
        XCTAssertEqual(table.status, 0, table.stderr)
        try assertGFLOPS(try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(table.stdout.utf8)) as? [String: Any]),
                         flopsPerToken: 3 * (4384 - 768 + 768 * 65 / 200))

        try assertFails(["bench", "--custom", "hidden=0"], mentioning: "hidden must be a positive integer")
        try assertFails(["bench", "--custom", "width=3"], mentioning: "unknown key 'width'")
        try assertFails(["bench", "--custom", "cell=tree"], mentioning: "cell must be")
        try assertFails(["bench", "--custom", "kind"], mentioning: "key=value")
    }

    /// The JSON's GFLOP/s against tokens/s × the expected FLOPs per token (the JSON rounds to 0.01).
    private func assertGFLOPS(_ object: [String: Any], flopsPerToken: Double, file: StaticString = #filePath, line: UInt = #line) throws {
        let rate = try XCTUnwrap(object["tokens_per_s"] as? Double), gflops = try XCTUnwrap(object["gflops"] as? Double)
        let expected = rate * flopsPerToken / 1e9
        XCTAssertGreaterThan(expected, 0.05, "too slow to check the FLOP count at 0.01 resolution", file: file, line: line)
        XCTAssertEqual(gflops, expected, accuracy: 0.006 + 1e-3 * expected, file: file, line: line)
    }
}
