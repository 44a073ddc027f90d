import Foundation
import XCTest
import RecurrentTestSupport

/// `--precision float32|bf16|int8` on sample, evaluate and bench, through the binary.
final class PrecisionCommandTests: BinaryTestCase {
    private func trainSmallModel() throws -> String {
        let result = try run(["train", "--corpus", "arithmetic", "--corpus-lines", "400", "--hidden", "40", "--layers", "2",
                              "--embedding", "8", "--batch", "4", "--seq", "16", "--max-steps", "10", "--eval-every", "5",
                              "--sample-length", "0", "--out", "run"])
        XCTAssertEqual(result.status, 0, result.stderr)
        return scratch.appendingPathComponent("run").path
    }

    func testBadPrecisionsAreUsageErrors() throws {
        try assertFails(["sample", "--checkpoint", "x", "--precision", "fp16"], mentioning: "--precision")
        try assertFails(["evaluate", "--checkpoint", "x", "--text", "t.txt", "--precision", "int4"], mentioning: "--precision")
        try assertFails(["bench", "--workloads", "w7a", "--precision", "double"], mentioning: "'float32', 'bf16' or 'int8'")
        try assertFails(["sample", "--checkpoint", "x", "--beam", "2", "--precision", "int8"], mentioning: "--beam")
        try assertFails(["evaluate", "--checkpoint", "x", "--text", "t.txt", "--precision", "bf16", "--batch", "4"],
                        mentioning: "batch 1")
    }

    func testSampleEvaluateAndBenchRunInEveryPrecision() throws {
        let run = try trainSmallModel()
        let text = try write(String(repeating: "12+7=19\n3*4=12\n40-8=32\n", count: 30), to: "eval.txt")
        func loss(_ extra: [String]) throws -> Double {
            let result = try self.run(["evaluate", "--checkpoint", run, "--text", text, "--json"] + extra)
            XCTAssertEqual(result.status, 0, result.stderr)
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            XCTAssertEqual(object["precision"] as? String, extra.last == "int8" ? "int8" : extra.last == "bf16" ? "bf16" : "float32")
            return try XCTUnwrap(object["loss"] as? Double)
        }
        // The stepper path reads the text as one stream: compare with float32 at batch 1.
        let float32 = try loss(["--batch", "1"])
        XCTAssertGreaterThan(float32, 0.1)
        for precision in ["bf16", "int8"] {
            let reduced = try loss(["--precision", precision])
            XCTAssertEqual(reduced, float32, accuracy: 0.01 * float32, precision)
        }

        for precision in ["float32", "bf16", "int8"] {
            let sample = try self.run(["sample", "--checkpoint", run, "--length", "40", "--seed", "5", "--precision", precision])
            XCTAssertEqual(sample.status, 0, sample.stderr)
            XCTAssertEqual(sample.stdout.unicodeScalars.count, 41, precision)   // 40 characters and a newline
        }
        let a = try self.run(["sample", "--checkpoint", run, "--length", "40", "--seed", "5", "--precision", "int8"])
        let b = try self.run(["sample", "--checkpoint", run, "--length", "40", "--seed", "5", "--precision", "int8"])
        XCTAssertEqual(a.stdout, b.stdout, "the same seed gives the same text in int8 too")

        let bench = try self.run(["bench", "--custom", "kind=sample,cell=gru,hidden=40,embedding=8,layers=2",
                                  "--iterations", "5", "--threads", "1", "--json", "--precision", "bf16"])
        XCTAssertEqual(bench.status, 0, bench.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bench.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["precision"] as? String, "bf16")
        XCTAssertEqual(object["iterations"] as? Int, 5)
    }
}
