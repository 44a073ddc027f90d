import Foundation
import XCTest
import Recurrent

/// The Tomita grammar generator: each automaton against an independent definition of its
/// language, exact class counts, and the balanced uniform sampler.
final class ArchitectureTomitaTaskTests: XCTestCase {
    /// Each language written directly from its definition, without an automaton.
    private func definition(_ grammar: TomitaGrammar, _ s: [Int]) -> Bool {
        let text = s.map(String.init).joined()
        let zeros = s.filter { $0 == 0 }.count, ones = s.count - zeros
        switch grammar {
        case .tomita1: return !s.contains(0)
        case .tomita2: return text == String(repeating: "10", count: s.count / 2) && s.count % 2 == 0
        case .tomita3:
            // Maximal runs; reject an odd run of 1s directly followed by an odd run of 0s.
            var runs: [(symbol: Int, length: Int)] = []
            for c in s {
                if let last = runs.last, last.symbol == c { runs[runs.count - 1].length += 1 } else { runs.append((c, 1)) }
            }
            for (a, b) in zip(runs, runs.dropFirst()) where a.symbol == 1 && a.length % 2 == 1 && b.length % 2 == 1 {
                return false
            }
            return true
        case .tomita4: return !text.contains("000")
        case .tomita5: return zeros % 2 == 0 && ones % 2 == 0
        case .tomita6: return (zeros - ones) % 3 == 0
        case .tomita7: return text.range(of: "^0*1*0*1*$", options: .regularExpression) != nil
        }
    }

    func testAutomataMatchTheirDefinitionsOnEveryStringUpToLength12() throws {
        for grammar in TomitaGrammar.allCases {
            let task = TomitaTask(grammar: grammar)
            for length in 0...12 {
                var accepted = 0
                for example in try task.allExamples(length: length) {
                    XCTAssertEqual(example.accepted, definition(grammar, example.string), "\(grammar) on \(example.string)")
                    if example.accepted { accepted += 1 }
                }
                XCTAssertEqual(try task.count(length: length, accepted: true), accepted, "\(grammar), length \(length)")
                XCTAssertEqual(try task.count(length: length, accepted: false), (1 << length) - accepted)
            }
        }
        // A few known members and non-members.
        XCTAssertTrue(TomitaGrammar.tomita2.accepts([1, 0, 1, 0]))
        XCTAssertFalse(TomitaGrammar.tomita2.accepts([1, 0, 1]))
        XCTAssertTrue(TomitaGrammar.tomita3.accepts([1, 0, 0]))
        XCTAssertFalse(TomitaGrammar.tomita3.accepts([1, 1, 1, 0]))
        XCTAssertFalse(TomitaGrammar.tomita4.accepts([1, 0, 0, 0, 1]))
        XCTAssertTrue(TomitaGrammar.tomita7.accepts([0, 1, 1, 0, 1]))
        XCTAssertFalse(TomitaGrammar.tomita7.accepts([1, 0, 1, 0]))
        // Counts beyond enumeration: Tomita 1 has one member per length; Tomita 4 follows the
        // tribonacci recurrence a(n) = a(n−1) + a(n−2) + a(n−3) with 1, 2, 4.
        XCTAssertEqual(try TomitaTask(grammar: .tomita1).count(length: 40, accepted: true), 1)
        var tribonacci = [1, 2, 4]
        for n in 3...40 { tribonacci.append(tribonacci[n - 1] + tribonacci[n - 2] + tribonacci[n - 3]) }
        XCTAssertEqual(try TomitaTask(grammar: .tomita4).count(length: 40, accepted: true), tribonacci[40])
    }

    func testSamplerIsUniformWithinEachClass() throws {
        // Tomita 4, length 4: 13 accepted strings (all but 0000, 0001, 1000) and 3 rejected ones.
        var rng = RandomGenerator(seed: 1)
        let task = TomitaTask(grammar: .tomita4)
        var histogram: [[Int]: Int] = [:]
        for _ in 0..<13_000 { histogram[try XCTUnwrap(task.sample(length: 4, accepted: true, using: &rng)), default: 0] += 1 }
        XCTAssertEqual(histogram.count, 13)
        XCTAssertTrue(histogram.keys.allSatisfy { TomitaGrammar.tomita4.accepts($0) })
        // Each count is binomial(13000, 1/13): mean 1000, standard deviation 30.
        for (string, count) in histogram { XCTAssertEqual(Double(count), 1000, accuracy: 150, "\(string)") }
        var rejected: Set<[Int]> = []
        for _ in 0..<100 { rejected.insert(try XCTUnwrap(task.sample(length: 4, accepted: false, using: &rng))) }
        XCTAssertEqual(rejected, [[0, 0, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0]])
        // Empty classes give nil: Tomita 2 has no accepted string of odd length.
        XCTAssertNil(try TomitaTask(grammar: .tomita2).sample(length: 7, accepted: true, using: &rng))
        XCTAssertEqual(try TomitaTask(grammar: .tomita1).sample(length: 5, accepted: true, using: &rng), [1, 1, 1, 1, 1])
    }

    func testBalancedExamplesGroupingAndEncoding() throws {
        var rng = RandomGenerator(seed: 2)
        let examples = try TomitaTask(grammar: .tomita2).balancedExamples(lengths: 0...4, perClass: 3, using: &rng)
        // Per length: 0 has only the (accepted) empty string; 1 and 3 have no accepted string;
        // 2 and 4 have both classes, so 3 of each.
        let grouped = TomitaTask.groupedByLength(examples)
        XCTAssertEqual(grouped.map(\.length), [0, 1, 2, 3, 4])
        XCTAssertEqual(grouped.map { $0.examples.filter(\.accepted).count }, [3, 0, 3, 0, 3])
        XCTAssertEqual(grouped.map { $0.examples.filter { !$0.accepted }.count }, [0, 3, 3, 3, 3])
        XCTAssertTrue(examples.allSatisfy { TomitaGrammar.tomita2.accepts($0.string) == $0.accepted })
        XCTAssertEqual(TomitaTask.encoded([1, 0]), [1, 0, 2])
        XCTAssertEqual(TomitaTask.encoded([]), [TomitaTask.endMarker])

        XCTAssertThrowsError(try TomitaTask(grammar: .tomita1).balancedExamples(lengths: 0...63, perClass: 1, using: &rng)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "lengths")
        }
        XCTAssertThrowsError(try TomitaTask(grammar: .tomita1).balancedExamples(lengths: 0...3, perClass: 0, using: &rng)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "perClass")
        }
        XCTAssertThrowsError(try TomitaTask(grammar: .tomita1).count(length: -1, accepted: true)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "length")
        }
    }
}
