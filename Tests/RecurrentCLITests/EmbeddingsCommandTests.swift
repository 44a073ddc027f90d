import Foundation
import XCTest
import RecurrentTestSupport
import Recurrent

/// `recurrent train --embeddings/--freeze-embeddings/--init/--forget-bias` and `recurrent embeddings neighbours`.
final class EmbeddingsCommandTests: BinaryTestCase {
    /// A word-level run on the built-in sentences corpus with a small vector file.
    private func trainWords(_ name: String, extra: [String]) throws -> Result {
        try run(["train", "--corpus", "sentences", "--corpus-lines", "300", "--level", "word", "--cell", "lstm",
                 "--hidden", "8", "--layers", "1", "--embedding", "3", "--batch", "4", "--seq", "8", "--max-steps", "4",
                 "--eval-every", "2", "--sample-length", "0", "--out", name] + extra)
    }

    /// Vectors for a few words of the sentences corpus (and one it lacks).
    private func vectorFile() throws -> String {
        try write("the 1 0 0\ncat 0.5 0.5 0\ndog 0.4 0.6 0.1\nzebra 9 9 9\n", to: "vectors.txt")
    }

    func testTrainWithFrozenPretrainedEmbeddings() throws {
        let vectors = try vectorFile()
        let result = try trainWords("frozen", extra: ["--embeddings", vectors, "--freeze-embeddings"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try XCTUnwrap(result.stdout.split(separator: "\n").first { $0.hasPrefix("embeddings:") })
        XCTAssertTrue(report.contains("found in \(vectors)"), String(report))
        XCTAssertTrue(report.contains("the embedding is frozen"), String(report))

        let checkpoint = try TrainingCheckpoint.load(from: scratch.appendingPathComponent("frozen"))
        XCTAssertEqual(checkpoint.configuration.freezeEmbeddings, true)
        XCTAssertEqual(checkpoint.configuration.pretrainedEmbeddings, vectors)
        let tokens = checkpoint.vocabulary.tokens
        let weight = checkpoint.model.embedding.weight.value.scalars
        var found = 0
        for (word, vector) in [("the", [Float(1), 0, 0]), ("cat", [0.5, 0.5, 0]), ("dog", [0.4, 0.6, 0.1])] {
            guard let id = tokens.firstIndex(of: word) else { continue }
            found += 1
            XCTAssertEqual(Array(weight[(3 * id)..<(3 * id + 3)]), vector, "\(word): loaded and frozen through 4 steps")
        }
        XCTAssertGreaterThan(found, 0, "the corpus has some of the words")
        XCTAssertTrue(report.contains("\(found) of \(tokens.count) vocabulary tokens"), String(report))

        // --json: one embeddings object first.
        let json = try trainWords("json", extra: ["--embeddings", vectors, "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let first = try XCTUnwrap(json.stdout.split(separator: "\n").first)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        XCTAssertEqual(object["event"] as? String, "embeddings")
        XCTAssertEqual(object["found"] as? Int, found)
        XCTAssertEqual(object["frozen"] as? Bool, false)
    }

    func testBadEmbeddingFilesGiveOneErrorLineAndWriteNothing() throws {
        try assertFails(["train", "--corpus", "sentences", "--level", "word", "--embedding", "4",
                         "--embeddings", try vectorFile(), "--out", "out"], mentioning: "invalid --embedding: is 4, but")
        for (text, fragment) in [("", "holds no vectors"), ("the 1 2 3\ncat 1 2\n", "line 2: 'cat' has 2 values, expected 3"),
                                 ("the 1 2 3\n\ncat 1 two 3\n", "line 3: 'two' is not a finite decimal number"),
                                 ("5 3\nthe 1 2 3\n", "announces 5 vectors")] {
            let file = try write(text, to: "bad.txt")
            try assertFails(["train", "--corpus", "sentences", "--level", "word", "--embedding", "3",
                             "--embeddings", file, "--out", "out"], mentioning: fragment)
        }
        try assertFails(["train", "--corpus", "sentences", "--embedding", "3", "--embeddings", try vectorFile(), "--out", "out"],
                        mentioning: "--embeddings needs --level word")
        try assertFails(["train", "--corpus", "sentences", "--level", "word", "--freeze-embeddings", "--out", "out"],
                        mentioning: "--freeze-embeddings needs --embeddings")
        try assertFails(["train", "--corpus", "sentences", "--level", "word", "--embeddings", "missing.txt", "--out", "out"],
                        mentioning: "missing.txt")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("out").path), "nothing written")
    }

    func testInitOptionsAreRecordedAndChecked() throws {
        let result = try trainWords("init", extra: ["--init", "orthogonal", "--forget-bias", "1"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let run = scratch.appendingPathComponent("init")
        let config = try String(contentsOf: run.appendingPathComponent("checkpoints").appendingPathComponent("step-00000004")
            .appendingPathComponent("config.json"), encoding: .utf8)
        XCTAssertTrue(config.contains("\"initialization\" : \"orthogonal\""), config)
        XCTAssertTrue(config.contains("\"forgetBias\" : 1"), config)
        let resumed = try self.run(["train", "--resume", run.path, "--max-steps", "6", "--sample-length", "0"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        try assertFails(["train", "--resume", run.path, "--init", "identity"], mentioning: "cannot be combined with --resume")
        try assertFails(["train", "--corpus", "sentences", "--cell", "gru", "--forget-bias", "1", "--out", "gru"],
                        mentioning: "invalid --forget-bias: applies to an LSTM only")
        try assertFails(["train", "--corpus", "sentences", "--init", "xavier", "--out", "x"], mentioning: "xavier")
    }

    /// export writes the checkpoint's rows exactly (Float round trip) in a file that --vectors and
    /// --embeddings read back; an unwritable path writes nothing.
    func testExportRoundTrips() throws {
        XCTAssertEqual(try trainWords("words", extra: []).status, 0)
        let exported = try run(["embeddings", "export", "--checkpoint", "words", "--out", "words.txt"])
        XCTAssertEqual(exported.status, 0, exported.stderr)
        XCTAssertTrue(exported.stdout.contains("tokens holding whitespace left out"), exported.stdout)
        let checkpoint = try TrainingCheckpoint.load(from: scratch.appendingPathComponent("words"))
        let vectors = try WordVectors.load(contentsOf: scratch.appendingPathComponent("words.txt"))
        let weight = checkpoint.model.embedding.weight.value.scalars
        for (row, word) in vectors.words.enumerated() {
            let id = try XCTUnwrap(checkpoint.vocabulary.tokens.firstIndex(of: word))
            XCTAssertEqual(Array(vectors.vector(at: row)), Array(weight[(3 * id)..<(3 * id + 3)]), word)
        }
        XCTAssertEqual(vectors.count, checkpoint.vocabulary.tokens.filter { !$0.contains(where: \.isWhitespace) }.count)
        let again = try trainWords("again", extra: ["--embeddings", "words.txt"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("embeddings: \(vectors.count) of \(checkpoint.vocabulary.count) vocabulary tokens"),
                      again.stdout)
        try assertFails(["embeddings", "export", "--checkpoint", "words", "--out", "no/such/dir/v.txt"], mentioning: "cannot write")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("no").path))
    }

    func testNeighboursFromAVectorFileAndACheckpoint() throws {
        let file = try write("a 1 0\nb 1 1\nc 0 2\nd -3 0\ne 2 0.1\n", to: "v.txt")
        let table = try run(["embeddings", "neighbours", "--vectors", file, "--word", "a", "--count", "3"])
        XCTAssertEqual(table.status, 0, table.stderr)
        let lines = table.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 4, table.stdout)
        XCTAssertTrue(lines[1].hasPrefix("  1  e"), String(lines[1]))
        XCTAssertTrue(lines[2].hasPrefix("  2  b") && lines[2].hasSuffix("0.7071"), String(lines[2]))
        XCTAssertTrue(lines[3].hasPrefix("  3  c") && lines[3].hasSuffix("0.0000"), String(lines[3]))

        let json = try run(["embeddings", "neighbors", "--vectors", file, "--word", "d", "--count", "1", "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let neighbours = try XCTUnwrap(object["neighbours"] as? [[String: Any]])
        XCTAssertEqual(neighbours.first?["word"] as? String, "c")
        XCTAssertEqual(try XCTUnwrap(neighbours.first?["similarity"] as? Double), 0, accuracy: 1e-12)

        XCTAssertEqual(try trainWords("words", extra: []).status, 0)
        let fromCheckpoint = try run(["embeddings", "neighbours", "--checkpoint", "words", "--word", "the", "--count", "5", "--json"])
        XCTAssertEqual(fromCheckpoint.status, 0, fromCheckpoint.stderr)
        let result = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(fromCheckpoint.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((result["neighbours"] as? [Any])?.count, 5)
        XCTAssertEqual(result["dimension"] as? Int, 3)

        try assertFails(["embeddings", "neighbours", "--vectors", file, "--word", "zzz"], mentioning: "'zzz' is not in")
        try assertFails(["embeddings", "neighbours", "--word", "a"], mentioning: "exactly one of --checkpoint")
        try assertFails(["embeddings", "neighbours", "--vectors", file, "--checkpoint", "words", "--word", "a"],
                        mentioning: "exactly one of --checkpoint")
        try assertFails(["embeddings", "neighbours", "--vectors", file, "--word", "a", "--count", "0"], mentioning: "--count")
        try assertFails(["embeddings", "neighbours", "--vectors", try write("x 1\ny\n", to: "bad.txt"), "--word", "x"],
                        mentioning: "line 2")
        try assertFails(["embeddings", "neighbours", "--checkpoint", "nowhere", "--word", "a"], mentioning: "nowhere")
    }
}
