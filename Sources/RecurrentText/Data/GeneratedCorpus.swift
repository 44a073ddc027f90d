import RecurrentCore

/// Texts the project generates itself (no third-party data), with checkers that score a model's
/// samples: a small built-in default corpus whose correctness can be measured.
public enum GeneratedCorpus {
    // MARK: - Arithmetic

    /// `lines` lines of small arithmetic, each ending in `\n`, such as `12+7=19`, `30-4=26`, `6*7=42`.
    ///
    /// Each line picks `+`, `-` or `*` uniformly. Sums: both operands in 0...49. Differences: the
    /// first operand in 0...49, the second in 0...first (the result is never negative). Products: both
    /// operands in 0...12. Numbers are plain decimal without leading zeros or signs. The same
    /// `seed` always gives the same text (RandomGenerator, xoshiro256**).
    public static func arithmetic(lines: Int, seed: UInt64) -> String {
        precondition(lines >= 0, "GeneratedCorpus.arithmetic: lines must not be negative")
        var rng = RandomGenerator(seed: seed)
        var text = ""
        text.reserveCapacity(lines * 9)
        for _ in 0..<lines {
            let a: Int, b: Int, op: Character, result: Int
            switch rng.nextInt(below: 3) {
            case 0:
                a = rng.nextInt(below: 50); b = rng.nextInt(below: 50); op = "+"; result = a + b
            case 1:
                a = rng.nextInt(below: 50); b = rng.nextInt(below: a + 1); op = "-"; result = a - b
            default:
                a = rng.nextInt(below: 13); b = rng.nextInt(below: 13); op = "*"; result = a * b
            }
            text += "\(a)\(op)\(b)=\(result)\n"
        }
        return text
    }

    /// Scores sampled text line by line: `total` counts the complete lines that are not empty (a line is
    /// complete when a `\n` ends it, so an unfinished last line is ignored), `correct` those that are
    /// well-formed — `number op number = number` with `op` one of `+ - *`, numbers of 1 to 9 ASCII
    /// digits without leading zeros, nothing else on the line — and arithmetically right.
    /// Start sampling from a newline so that the first line is whole.
    public static func checkArithmetic(_ text: String) -> (correct: Int, total: Int) {
        var correct = 0, total = 0
        forEachCompleteLine(of: text) { line in
            total += 1
            if let equation = parseEquation(line) {
                let (a, op, b, c) = equation
                let value: Int
                switch op {
                case UInt8(ascii: "+"): value = a + b
                case UInt8(ascii: "-"): value = a - b
                default: value = a * b
                }
                if value == c { correct += 1 }
            }
        }
        return (correct, total)
    }

    /// `a op b = c` from one line's bytes, or `nil` if the line is not exactly that.
    private static func parseEquation(_ line: ArraySlice<UInt8>) -> (Int, UInt8, Int, Int)? {
        var i = line.startIndex
        func number() -> Int? {
            let start = i
            var value = 0
            while i < line.endIndex, line[i] >= 0x30, line[i] <= 0x39 {
                value = value * 10 + Int(line[i] - 0x30)
                i += 1
            }
            let digits = i - start
            guard digits >= 1, digits <= 9, digits == 1 || line[start] != 0x30 else { return nil }
            return value
        }
        guard let a = number(), i < line.endIndex else { return nil }
        let op = line[i]
        guard op == UInt8(ascii: "+") || op == UInt8(ascii: "-") || op == UInt8(ascii: "*") else { return nil }
        i += 1
        guard let b = number(), i < line.endIndex, line[i] == UInt8(ascii: "=") else { return nil }
        i += 1
        guard let c = number(), i == line.endIndex else { return nil }
        return (a, op, b, c)
    }

    // MARK: - Sentences

    private static let singularNouns = ["cat", "dog", "bird", "child", "fox", "teacher"]
    private static let pluralNouns = ["cats", "dogs", "birds", "children", "foxes", "teachers"]
    private static let singularVerbs = ["sees", "likes", "chases", "finds", "follows"]
    private static let pluralVerbs = ["see", "like", "chase", "find", "follow"]
    private static let singularDeterminers = ["the", "a", "one", "every"]
    private static let pluralDeterminers = ["the", "two", "some", "many"]
    private static let adjectives = ["small", "big", "red", "old", "happy", "quiet"]

    /// `lines` sentences from a tiny grammar, one per line, each ending in ".\n":
    /// `sentence → subject verb object "."`, `subject, object → determiner adjective? noun`, where the
    /// determiner agrees with its noun in number ("a cat", "two cats", "the" for both) and the verb
    /// agrees with the subject's noun across the optional adjective ("the old foxes chase a dog").
    /// Each choice is uniform; an adjective appears with probability 1/2. Deterministic under `seed`.
    public static func sentences(lines: Int, seed: UInt64) -> String {
        precondition(lines >= 0, "GeneratedCorpus.sentences: lines must not be negative")
        var rng = RandomGenerator(seed: seed)
        func pick(_ words: [String]) -> String { words[rng.nextInt(below: words.count)] }
        func nounPhrase(plural: Bool) -> String {
            var words = [pick(plural ? pluralDeterminers : singularDeterminers)]
            if rng.nextInt(below: 2) == 1 { words.append(pick(adjectives)) }
            words.append(pick(plural ? pluralNouns : singularNouns))
            return words.joined(separator: " ")
        }
        var text = ""
        for _ in 0..<lines {
            let pluralSubject = rng.nextInt(below: 2) == 1
            let subject = nounPhrase(plural: pluralSubject)
            let verb = pick(pluralSubject ? pluralVerbs : singularVerbs)
            let object = nounPhrase(plural: rng.nextInt(below: 2) == 1)
            text += "\(subject) \(verb) \(object).\n"
        }
        return text
    }

    /// Scores sampled text as `checkArithmetic` does: `total` counts the complete non-empty lines,
    /// `correct` those that the grammar of `sentences(lines:seed:)` generates (words separated by single
    /// spaces, agreement respected, the line ending in ".").
    public static func checkSentences(_ text: String) -> (correct: Int, total: Int) {
        var correct = 0, total = 0
        forEachCompleteLine(of: text) { line in
            total += 1
            if isGrammatical(String(decoding: line, as: UTF8.self)) { correct += 1 }
        }
        return (correct, total)
    }

    private static func isGrammatical(_ line: String) -> Bool {
        guard line.hasSuffix(".") else { return false }
        let words = line.dropLast().split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        var i = 0
        // A noun phrase starting at i: its number (true = plural), or nil.
        func nounPhrase() -> Bool? {
            guard i < words.count else { return nil }
            let determiner = words[i]
            i += 1
            if i < words.count, adjectives.contains(words[i]) { i += 1 }
            guard i < words.count else { return nil }
            let noun = words[i]
            i += 1
            if singularNouns.contains(noun), singularDeterminers.contains(determiner) { return false }
            if pluralNouns.contains(noun), pluralDeterminers.contains(determiner) { return true }
            return nil
        }
        guard let pluralSubject = nounPhrase(), i < words.count else { return false }
        let verb = words[i]
        i += 1
        guard (pluralSubject ? pluralVerbs : singularVerbs).contains(verb) else { return false }
        guard nounPhrase() != nil else { return false }
        return i == words.count
    }

    // MARK: - Lines

    /// Calls `body` with the bytes of each complete (`\n`-terminated), non-empty line.
    private static func forEachCompleteLine(of text: String, _ body: (ArraySlice<UInt8>) -> Void) {
        let bytes = Array(text.utf8)
        var start = 0
        for (i, byte) in bytes.enumerated() where byte == 0x0A {
            if i > start { body(bytes[start..<i]) }
            start = i + 1
        }
    }
}
