import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentText
import XCTest

final class CorpusGeneratorTests: XCTestCase {
    // MARK: Arithmetic

    func testArithmeticIsDeterministicUnderTheSeed() {
        let text = GeneratedCorpus.arithmetic(lines: 200, seed: 42)
        XCTAssertEqual(text, GeneratedCorpus.arithmetic(lines: 200, seed: 42))
        XCTAssertNotEqual(text, GeneratedCorpus.arithmetic(lines: 200, seed: 43))
        // A longer run with the same seed starts with the same lines.
        XCTAssertTrue(GeneratedCorpus.arithmetic(lines: 300, seed: 42).hasPrefix(text))
        XCTAssertEqual(GeneratedCorpus.arithmetic(lines: 0, seed: 42), "")
        // Pinned: the built-in corpus must not change silently (documented runs depend on it).
        XCTAssertEqual(GeneratedCorpus.arithmetic(lines: 4, seed: 42), "18+34=52\n12*10=120\n11*9=99\n34-10=24\n")
    }

    func testArithmeticLinesAreCorrectWithSmallOperands() throws {
        let text = GeneratedCorpus.arithmetic(lines: 3000, seed: 7)
        XCTAssertTrue(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.count, 3000)
        var operatorCounts: [Character: Int] = [:]
        for line in lines {
            let op = try XCTUnwrap(line.first { "+-*".contains($0) }, String(line))
            operatorCounts[op, default: 0] += 1
            let parts = line.split(whereSeparator: { "+-*=".contains($0) }).map { Int($0)! }
            XCTAssertEqual(parts.count, 3, String(line))
            let (a, b, c) = (parts[0], parts[1], parts[2])
            switch op {
            case "+": XCTAssertTrue(a < 50 && b < 50 && c == a + b, String(line))
            case "-": XCTAssertTrue(a < 50 && b <= a && c == a - b, String(line))
            default: XCTAssertTrue(a <= 12 && b <= 12 && c == a * b, String(line))
            }
        }
        // Each operator about a third of the time (1000 ± 5 standard deviations ≈ 130).
        for op in "+-*" { XCTAssertEqual(Double(operatorCounts[op] ?? 0), 1000, accuracy: 130, "\(op)") }
        XCTAssertEqual(GeneratedCorpus.checkArithmetic(text).correct, 3000)
        XCTAssertEqual(GeneratedCorpus.checkArithmetic(text).total, 3000)
    }

    func testCheckArithmeticCountsCorrectWrongAndMalformedLines() {
        let sample = """
            12+7=19
            30-4=26
            6*7=41
            1+1=2=2
            +3=3
            07+1=8

            5*5=25
            3-5=-2
            0+0=0
            2 + 2=4
            1234567890+1=1234567891
            4*4=16x
            12+7=1
            """
        // Complete non-empty lines: 12 (the empty line is skipped, the unfinished "12+7=1" ignored).
        // Correct: 12+7=19, 30-4=26, 5*5=25, 0+0=0. Wrong: 6*7=41. Malformed: the other seven.
        let score = GeneratedCorpus.checkArithmetic(sample)
        XCTAssertEqual(score.correct, 4)
        XCTAssertEqual(score.total, 12)
        // Finishing the last line counts it.
        let finished = GeneratedCorpus.checkArithmetic(sample + "9\n")
        XCTAssertEqual(finished.correct, 5)
        XCTAssertEqual(finished.total, 13)
        XCTAssertEqual(GeneratedCorpus.checkArithmetic("").total, 0)
        XCTAssertEqual(GeneratedCorpus.checkArithmetic("\n\n1+1=2").total, 0)
    }

    // MARK: Sentences

    func testSentencesAreDeterministicAndGrammatical() {
        let text = GeneratedCorpus.sentences(lines: 500, seed: 3)
        XCTAssertEqual(text, GeneratedCorpus.sentences(lines: 500, seed: 3))
        XCTAssertNotEqual(text, GeneratedCorpus.sentences(lines: 500, seed: 4))
        let score = GeneratedCorpus.checkSentences(text)
        XCTAssertEqual(score.correct, 500)
        XCTAssertEqual(score.total, 500)
        // Pinned, as the arithmetic corpus.
        XCTAssertEqual(GeneratedCorpus.sentences(lines: 3, seed: 3),
                       "some children chase the quiet dog.\nsome happy foxes see the happy child.\nsome teachers follow many birds.\n")
    }

    func testCheckSentencesCountsAgreementAndFormErrors() {
        let sample = """
            the cat sees a dog.
            the cats sees a dog.
            a cats see the dog.
            two old foxes chase every small bird.
            the cat sees a dog
            the cat  sees a dog.
            the cat sees.
            the happy children follow many teachers.
            every dog likes the two.
            the children follow
            """
        // Complete lines 9 (the last one is unfinished). Grammatical: lines 1, 4 and 8.
        let score = GeneratedCorpus.checkSentences(sample)
        XCTAssertEqual(score.correct, 3)
        XCTAssertEqual(score.total, 9)
    }
}
