import Foundation
import XCTest
import Recurrent

/// The GloVe / word2vec text format: parsing, errors with line numbers, cosine neighbours.
final class WordVectorsTests: XCTestCase {
    private func parse(_ text: String) throws -> WordVectors {
        try WordVectors.parse(Data(text.utf8), source: "v.txt")
    }

    private func assertError(_ text: String, line: Int?, mentioning fragment: String,
                             file: StaticString = #filePath, lineNumber: UInt = #line) {
        XCTAssertThrowsError(try parse(text), file: file, line: lineNumber) { error in
            let e = error as? WordVectorsError
            XCTAssertEqual(e?.line, line, "\(error)", file: file, line: lineNumber)
            let message = e?.errorDescription ?? ""
            XCTAssertTrue(message.contains(fragment), "'\(message)' should mention '\(fragment)'", file: file, line: lineNumber)
            XCTAssertTrue(message.hasPrefix("v.txt"), message, file: file, line: lineNumber)
            XCTAssertFalse(message.contains("\n"), file: file, line: lineNumber)
        }
    }

    func testGloVeFormat() throws {
        let v = try parse("the 0.5 -1 2e-1\ncat 1.25 0 -0.75\r\n\nsat 3 4 5")
        XCTAssertEqual(v.words, ["the", "cat", "sat"])
        XCTAssertEqual(v.dimension, 3)
        XCTAssertEqual(v.values, [0.5, -1, 0.2, 1.25, 0, -0.75, 3, 4, 5])
        XCTAssertEqual(v.index(of: "cat"), 1)
        XCTAssertNil(v.index(of: "Cat"))
        XCTAssertEqual(Array(v.vector(at: 2)), [3, 4, 5])
    }

    func testWord2VecHeaderBOMTabsAndDuplicates() throws {
        let v = try parse("\u{FEFF}3 2\nnaïve\t1 2\n</s> 0.5 0.25\nnaïve 9 9\n")
        XCTAssertEqual(v.words, ["naïve", "</s>"], "the first line of a word wins")
        XCTAssertEqual(v.dimension, 2)
        XCTAssertEqual(v.values, [1, 2, 0.5, 0.25])
    }

    func testMalformedFiles() {
        assertError("", line: nil, mentioning: "no vectors")
        assertError("\n\n", line: nil, mentioning: "no vectors")
        assertError("2 3\n", line: nil, mentioning: "header but no vectors")
        assertError("a 1 2 3\nb 1 2\n", line: 2, mentioning: "has 2 values, expected 3")
        assertError("a 1 2 3\nb 1 2 3 4\n", line: 2, mentioning: "has 4 values")
        assertError("2 3\na 1 2\n", line: 2, mentioning: "header's dimension")
        assertError("a 1 2\n\nb 1 x2\n", line: 3, mentioning: "'x2' is not a finite decimal number")
        assertError("a 1 2\nb 1 nan\n", line: 2, mentioning: "'nan'")
        assertError("a 1 2\nb 1e99 0\n", line: 2, mentioning: "'1e99'")
        assertError("3 2\na 1 2\nb 3 4\n", line: 1, mentioning: "announces 3 vectors, the file has 2")
        assertError("lonely\n", line: 1, mentioning: "without values")
    }

    func testLoadNamesAMissingFile() {
        XCTAssertThrowsError(try WordVectors.load(contentsOf: URL(fileURLWithPath: "/nonexistent/glove.txt"))) { error in
            XCTAssertTrue((error as? WordVectorsError)?.errorDescription?.contains("/nonexistent/glove.txt: cannot read it") == true)
        }
    }

    /// Cosine similarities against hand-computed values: "a" = (1, 0), "b" = (1, 1) → 1/√2,
    /// "c" = (0, 2) → 0, "d" = (-3, 0) → −1, "z" = (0, 0) → 0 (norm 0), "e" = (2, 0.0) → 1.
    func testNearestByCosineSimilarity() throws {
        let v = try parse("a 1 0\nb 1 1\nc 0 2\nd -3 0\nz 0 0\ne 2 0\n")
        let n = try XCTUnwrap(v.nearest(to: "a", count: 10))
        XCTAssertEqual(n.map(\.word), ["e", "b", "c", "z", "d"], "the word itself is left out; ties in file order")
        XCTAssertEqual(n[0].similarity, 1, accuracy: 1e-12)
        XCTAssertEqual(n[1].similarity, 1 / 2.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(n[4].similarity, -1, accuracy: 1e-12)
        XCTAssertEqual(v.nearest(to: "a", count: 2)?.map(\.word), ["e", "b"])
        XCTAssertNil(v.nearest(to: "missing", count: 3))
    }
}
