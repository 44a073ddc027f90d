import Foundation
import XCTest

/// A write that fails at a run's first checkpoint (a full disk, provoked by a file-size limit,
/// `ulimit -f 8`: 4 KB in dash's 512-byte blocks, 8 KB in bash's; every model file here is larger)
/// gives one error line, and the output directory the run created is gone again: nothing
/// half-written stays.
final class FullDiskTests: BinaryTestCase {
    func testAFailedFirstWriteLeavesNoDirectory() throws {
        let csv = try write("y\n" + (0..<60).map { "\(Double($0 % 7) + 0.1 * Double($0))" }.joined(separator: "\n") + "\n", to: "series.csv")
        let pairs = try write((0..<40).map { "a b \($0 % 5)\t\($0 % 5) b a" }.joined(separator: "\n") + "\n", to: "pairs.tsv")
        for arguments in [
            ["train", "--corpus", "arithmetic", "--corpus-lines", "200", "--hidden", "16", "--batch", "4", "--seq", "16", "--max-steps", "2",
             "--out", "full/run"],
            ["forecast", "train", "--csv", csv, "--target", "y", "--window", "6", "--horizon", "2", "--hidden", "32", "--epochs", "2",
             "--out", "full/run"],
            ["classify", "train", "--corpus", "sentiment", "--corpus-count", "100", "--epochs", "1", "--no-baseline", "--out", "full/run"],
            ["translate", "train", "--pairs", pairs, "--level", "word", "--steps", "2", "--run-dir", "full/run"],
        ] {
            let result = try run(arguments, fileSizeLimitBlocks: 8)
            XCTAssertEqual(result.status, 1, "\(arguments[0]): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertTrue(result.stderr.hasPrefix("error: cannot write '\(scratch.path)/full/run/checkpoints/"), result.stderr)
            XCTAssertTrue(result.stderr.contains("model.safetensors': writing temporary file: File too large"), result.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("full").path),
                           "\(arguments[0]): the directories the run created must be gone")
        }
    }
}
