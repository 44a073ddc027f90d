import RecurrentCore

/// The seven Tomita grammars: small regular languages over {0, 1}, the classic benchmark for
/// learning finite automata with recurrent networks (Tomita 1982; Giles et al. 1992).
///
/// Each grammar is implemented as its minimal deterministic finite automaton, so membership,
/// exact counts of accepted and rejected strings of a length, and uniform sampling from either
/// class (`TomitaTask`) all come from the same table. Symbols are the integers 0 and 1.
public enum TomitaGrammar: Int, CaseIterable, Sendable, Codable, CustomStringConvertible {
    /// `1*`: only ones.
    case tomita1 = 1
    /// `(10)*`: repetitions of "10".
    case tomita2 = 2
    /// No odd-length block of 1s immediately followed by an odd-length block of 0s (blocks are
    /// maximal runs; a block that ends the string counts).
    case tomita3 = 3
    /// No "000" substring.
    case tomita4 = 4
    /// An even number of 0s and an even number of 1s.
    case tomita5 = 5
    /// The number of 0s minus the number of 1s is a multiple of 3.
    case tomita6 = 6
    /// `0*1*0*1*`.
    case tomita7 = 7

    public var description: String {
        switch self {
        case .tomita1: return "Tomita 1: 1*"
        case .tomita2: return "Tomita 2: (10)*"
        case .tomita3: return "Tomita 3: no odd run of 1s followed by an odd run of 0s"
        case .tomita4: return "Tomita 4: no 000 substring"
        case .tomita5: return "Tomita 5: even number of 0s and of 1s"
        case .tomita6: return "Tomita 6: (#0 − #1) divisible by 3"
        case .tomita7: return "Tomita 7: 0*1*0*1*"
        }
    }

    /// The automaton: `transitions[state][symbol]` is the next state; state 0 is the start.
    public var transitions: [[Int]] { automaton.transitions }
    /// Whether each state of the automaton accepts.
    public var accepting: [Bool] { automaton.accepting }

    private var automaton: (transitions: [[Int]], accepting: [Bool]) {
        switch self {
        case .tomita1:
            // 0: only 1s so far; 1: dead.
            return ([[1, 0], [1, 1]], [true, false])
        case .tomita2:
            // 0: even prefix of (10)* (accepting); 1: after a "1"; 2: dead.
            return ([[2, 1], [0, 2], [2, 2]], [true, false, false])
        case .tomita3:
            // 0: start or after an allowed 0-block; 1: in an odd 1-block; 2: in an even 1-block;
            // 3: in an odd 0-block after an odd 1-block (rejecting unless more 0s come);
            // 4: in an even 0-block after an odd 1-block; 5: dead.
            return ([[0, 1], [3, 2], [0, 1], [4, 5], [3, 1], [5, 5]],
                    [true, true, true, false, true, false])
        case .tomita4:
            // State = number of trailing 0s (0, 1, 2); 3: dead ("000" seen).
            return ([[1, 0], [2, 0], [3, 0], [3, 3]], [true, true, true, false])
        case .tomita5:
            // State = 2·(#0 mod 2) + (#1 mod 2).
            return ([[2, 1], [3, 0], [0, 3], [1, 2]], [true, false, false, false])
        case .tomita6:
            // State = (#0 − #1) mod 3.
            return ([[1, 2], [2, 0], [0, 1]], [true, false, false])
        case .tomita7:
            // 0: in the first 0*; 1: first 1*; 2: second 0*; 3: second 1*; 4: dead.
            return ([[0, 1], [2, 1], [2, 3], [4, 3], [4, 4]], [true, true, true, true, false])
        }
    }

    /// Whether the grammar contains `string` (symbols 0 and 1).
    /// - Precondition: every symbol is 0 or 1.
    public func accepts(_ string: [Int]) -> Bool {
        let (transitions, accepting) = automaton
        var state = 0
        for symbol in string {
            precondition(symbol == 0 || symbol == 1, "TomitaGrammar: symbol \(symbol) is not 0 or 1")
            state = transitions[state][symbol]
        }
        return accepting[state]
    }
}

/// One labelled string of a grammar.
public struct TomitaExample: Hashable, Sendable {
    /// Symbols 0 and 1.
    public var string: [Int]
    /// Whether the grammar accepts the string.
    public var accepted: Bool

    public init(string: [Int], accepted: Bool) {
        self.string = string
        self.accepted = accepted
    }
}

/// Labelled strings of a Tomita grammar with balanced classes, for learning the grammar.
///
/// Strings of a given length are sampled uniformly within their class (accepted or rejected) by
/// walking the grammar's automaton with transition probabilities proportional to the number of
/// completions that end in the wanted class, so even classes as thin as `1*` (one accepted string
/// per length) are sampled exactly.
public struct TomitaTask: Sendable {
    public let grammar: TomitaGrammar
    /// The input symbols of `encoded(_:)`: 0 and 1, and the end marker 2 when it is used.
    public static let endMarker = 2
    /// The longest length that can be counted exactly (2^62 strings still fit in an `Int`).
    public static let maximumLength = 62

    public init(grammar: TomitaGrammar) { self.grammar = grammar }

    /// `completions[r][s]`: how many strings of length r lead from state s to an accepting state.
    private func acceptingCompletions(upTo length: Int) -> [[Int]] {
        let transitions = grammar.transitions
        var table = [grammar.accepting.map { $0 ? 1 : 0 }]
        for r in 0..<length {
            table.append(transitions.map { next in table[r][next[0]] + table[r][next[1]] })
        }
        return table
    }

    /// The number of accepted (or rejected) strings of `length`.
    /// - Throws: `ConfigurationError` naming `length` when it is negative or above `maximumLength`.
    public func count(length: Int, accepted: Bool) throws -> Int {
        try Self.validate(length: length)
        let accepting = acceptingCompletions(upTo: length)[length][0]
        return accepted ? accepting : (1 << length) - accepting
    }

    /// A string of `length`, uniform among those in the class `accepted`, or `nil` if the class is
    /// empty at that length (for example accepted strings of odd length in Tomita 2).
    /// - Throws: `ConfigurationError` naming `length` when it is negative or above `maximumLength`.
    public func sample(length: Int, accepted: Bool, using rng: inout RandomGenerator) throws -> [Int]? {
        try Self.validate(length: length)
        let table = acceptingCompletions(upTo: length)
        let transitions = grammar.transitions
        // Completions of length r from state s that end in the wanted class.
        func wanted(_ r: Int, _ s: Int) -> Int { accepted ? table[r][s] : (1 << r) - table[r][s] }
        guard wanted(length, 0) > 0 else { return nil }
        var state = 0
        var string = [Int]()
        string.reserveCapacity(length)
        for position in 0..<length {
            let remaining = length - position - 1
            let zeros = wanted(remaining, transitions[state][0])
            let ones = wanted(remaining, transitions[state][1])
            let symbol = rng.nextInt(below: zeros + ones) < zeros ? 0 : 1
            string.append(symbol)
            state = transitions[state][symbol]
        }
        return string
    }

    /// For every length in `lengths`, `perClass` accepted and `perClass` rejected strings, each drawn
    /// uniformly from its class (with replacement, so thin classes repeat). A class that is empty
    /// at some length contributes nothing there. Ordered by length, then accepted before rejected.
    /// - Throws: `ConfigurationError` naming `lengths` or `perClass` when out of range.
    public func balancedExamples(lengths: ClosedRange<Int>, perClass: Int,
                                 using rng: inout RandomGenerator) throws -> [TomitaExample] {
        try ConfigurationError.require(lengths.lowerBound >= 0 && lengths.upperBound <= Self.maximumLength, "lengths",
                                       "must lie in 0...\(Self.maximumLength), got \(lengths)")
        try ConfigurationError.require(perClass > 0, "perClass", "must be positive, got \(perClass)")
        var examples = [TomitaExample]()
        for length in lengths {
            for accepted in [true, false] {
                for _ in 0..<perClass {
                    guard let string = try sample(length: length, accepted: accepted, using: &rng) else { break }
                    examples.append(TomitaExample(string: string, accepted: accepted))
                }
            }
        }
        return examples
    }

    /// Every string of `length` with its label (2^length of them), in binary counting order.
    /// - Throws: `ConfigurationError` naming `length` when it is negative or above 24.
    public func allExamples(length: Int) throws -> [TomitaExample] {
        try ConfigurationError.require(length >= 0 && length <= 24, "length", "must lie in 0...24 for enumeration, got \(length)")
        return (0..<(1 << length)).map { code in
            let string = (0..<length).map { (code >> (length - 1 - $0)) & 1 }
            return TomitaExample(string: string, accepted: grammar.accepts(string))
        }
    }

    /// Examples grouped by string length (ascending), for batches of equal-length sequences.
    public static func groupedByLength(_ examples: [TomitaExample]) -> [(length: Int, examples: [TomitaExample])] {
        Dictionary(grouping: examples, by: { $0.string.count })
            .sorted { $0.key < $1.key }
            .map { (length: $0.key, examples: $0.value) }
    }

    /// The string followed by `endMarker`: symbols over {0, 1, 2} and never empty, so the empty
    /// string has a step too and the network gets one step to compute its answer.
    public static func encoded(_ string: [Int]) -> [Int] { string + [endMarker] }

    private static func validate(length: Int) throws {
        try ConfigurationError.require(length >= 0 && length <= maximumLength, "length",
                                       "must lie in 0...\(maximumLength), got \(length)")
    }
}
