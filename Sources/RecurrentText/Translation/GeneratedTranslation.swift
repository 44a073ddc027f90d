import RecurrentCore

/// Parallel texts the project generates itself (no download), with a known right answer per source.
///
/// - `dates` (character level): an English date in one of two spellings to ISO 8601,
///   `3 March 2021` or `March 3, 2021` → `2021-03-03`. Years 1950–2049, valid days (leap years
///   included). The source is short (10–18 characters) but the digits must be moved and the month
///   name turned into a number.
/// - `mirror` (word level): sentences of an artificial language with a 24-word lexicon, translated
///   word by word into English pseudo-words and put in mirror order: `ka lo tun` → `big dog cat`
///   (`ka` = cat, `lo` = dog, `tun` = big). The source length is drawn uniformly from `lengths`; a long
///   source is where one fixed context vector runs out of room and attention does not.
///
/// The same seed always gives the same pairs (`RandomGenerator`). No source occurs twice, so a
/// held-out pair is never also a training pair.
public enum GeneratedTranslationTask: String, CaseIterable, Codable, Sendable {
    case dates, mirror

    /// The level the task is meant to be read at.
    public var level: TranslationLevel { self == .dates ? .character : .word }

    /// The default source lengths of `mirror` (in words).
    public static let defaultMirrorLengths = 3...12

    /// The mirror language's lexicon: source word → target word.
    public static let mirrorLexicon: [(source: String, target: String)] = [
        ("ka", "cat"), ("lo", "dog"), ("tun", "big"), ("mire", "sees"), ("sefa", "red"), ("bo", "river"),
        ("nari", "stone"), ("pel", "tree"), ("quo", "runs"), ("dashi", "small"), ("vek", "old"), ("ulu", "house"),
        ("zan", "bird"), ("fo", "sings"), ("gita", "green"), ("hemu", "moon"), ("ris", "fish"), ("yol", "eats"),
        ("wen", "blue"), ("tiko", "hill"), ("jabe", "swims"), ("cor", "wind"), ("nusi", "sleeps"), ("eb", "sun"),
    ]

    public static let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August",
                                    "September", "October", "November", "December"]

    /// `count` distinct pairs.
    /// - Throws: `ConfigurationError` for a negative count, a count beyond the distinct sources the task
    ///   has, or invalid `lengths` (mirror: 1...50).
    public func pairs(count: Int, seed: UInt64, lengths: ClosedRange<Int> = defaultMirrorLengths) throws -> [TranslationPair] {
        try ConfigurationError.require(count >= 0, "count", "must not be negative, got \(count)")
        switch self {
        case .dates:
            // 100 years × 365.25 days × 2 spellings; stay well below so that drawing stays quick.
            try ConfigurationError.require(count <= 20_000, "count", "the dates task has at most 20000 pairs, got \(count)")
        case .mirror:
            try ConfigurationError.require(lengths.lowerBound >= 1 && lengths.upperBound <= 50, "lengths",
                                           "must lie in 1...50, got \(lengths)")
            // Distinct sentences: Σ_L 24^L, capped; draw at most half of them.
            var distinct = 0
            for length in lengths {
                var sentences = 1
                for _ in 0..<length where sentences < 1_000_000 { sentences *= Self.mirrorLexicon.count }
                distinct = min(distinct + sentences, 1_000_000)
            }
            try ConfigurationError.require(count <= distinct / 2, "count",
                                           "source lengths \(lengths) allow at most \(distinct / 2) pairs, got \(count)")
        }
        var rng = RandomGenerator(seed: seed)
        var seen = Set<String>(), pairs = [TranslationPair]()
        while pairs.count < count {
            let pair = self == .dates ? Self.date(using: &rng) : Self.mirrorSentence(lengths: lengths, using: &rng)
            if seen.insert(pair.source).inserted { pairs.append(pair) }
        }
        return pairs
    }

    /// The pairs as a parallel text: `source<TAB>target` lines, each ending in `\n`.
    public func text(count: Int, seed: UInt64, lengths: ClosedRange<Int> = defaultMirrorLengths) throws -> String {
        try pairs(count: count, seed: seed, lengths: lengths).map { "\($0.source)\t\($0.target)\n" }.joined()
    }

    /// The right target for a source of this task, or nil when the source is not well-formed.
    public func reference(for source: String) -> String? {
        switch self {
        case .mirror:
            let table = Dictionary(uniqueKeysWithValues: Self.mirrorLexicon)
            let words = source.split(separator: " ").map { table[String($0)] }
            guard !words.isEmpty, words.allSatisfy({ $0 != nil }) else { return nil }
            return words.reversed().map { $0! }.joined(separator: " ")
        case .dates:
            let parts = source.replacingOccurrences(of: ",", with: "").split(separator: " ").map(String.init)
            guard parts.count == 3 else { return nil }
            let (dayText, monthName) = Int(parts[0]) != nil ? (parts[0], parts[1]) : (parts[1], parts[0])
            guard let day = Int(dayText), let month = Self.monthNames.firstIndex(of: monthName), let year = Int(parts[2]),
                  (1...Self.days(inMonth: month + 1, year: year)).contains(day) else { return nil }
            return Self.iso(year: year, month: month + 1, day: day)
        }
    }

    static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func iso(year: Int, month: Int, day: Int) -> String {
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(year)-\(two(month))-\(two(day))"
    }

    private static func date(using rng: inout RandomGenerator) -> TranslationPair {
        let year = 1950 + rng.nextInt(below: 100), month = 1 + rng.nextInt(below: 12)
        let day = 1 + rng.nextInt(below: days(inMonth: month, year: year))
        let name = monthNames[month - 1]
        let source = rng.nextInt(below: 2) == 0 ? "\(day) \(name) \(year)" : "\(name) \(day), \(year)"
        return TranslationPair(source: source, target: iso(year: year, month: month, day: day))
    }

    private static func mirrorSentence(lengths: ClosedRange<Int>, using rng: inout RandomGenerator) -> TranslationPair {
        let length = lengths.lowerBound + rng.nextInt(below: lengths.count)
        let words = (0..<length).map { _ in mirrorLexicon[rng.nextInt(below: mirrorLexicon.count)] }
        return TranslationPair(source: words.map(\.source).joined(separator: " "),
                               target: words.reversed().map(\.target).joined(separator: " "))
    }
}
