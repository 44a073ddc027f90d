import Foundation
import RecurrentCore

/// How translation text is cut into tokens.
public enum TranslationLevel: String, Codable, CaseIterable, Sendable {
    /// One token per Unicode scalar, spaces included; tokens are joined without separator.
    case character
    /// Tokens are the runs of non-whitespace; they are joined with one space (so the output's spacing
    /// is normalised).
    case word

    /// The tokens of `text` at this level.
    public func tokens(of text: String) -> [String] {
        switch self {
        case .character: return text.unicodeScalars.map { String($0) }
        case .word: return text.split(whereSeparator: \.isWhitespace).map(String.init)
        }
    }

    /// The number of tokens of `text` (as `tokens(of:).count`), counted without building them and
    /// only up to `limit + 1`: a result above `limit` means "more than `limit`".
    public func tokenCount(of text: String, upTo limit: Int) -> Int {
        var count = 0
        switch self {
        case .character:
            for _ in text.unicodeScalars {
                count += 1
                if count > limit { break }
            }
        case .word:
            var inWord = false
            for character in text {
                if character.isWhitespace {
                    inWord = false
                } else if !inWord {
                    inWord = true
                    count += 1
                    if count > limit { break }
                }
            }
        }
        return count
    }

    /// The text of `tokens` at this level (inverse of `tokens(of:)` up to spacing at word level).
    public func join(_ tokens: [String]) -> String {
        self == .character ? tokens.joined() : tokens.joined(separator: " ")
    }
}

/// One source–target pair of a parallel text.
public struct TranslationPair: Sendable, Equatable {
    public var source: String
    public var target: String
    /// The line of the file it came from (from 1; 0 when built in memory).
    public var line: Int

    public init(source: String, target: String, line: Int = 0) {
        self.source = source
        self.target = target
        self.line = line
    }
}

/// A parallel text: one pair per line, `source<TAB>target`, in UTF-8.
///
/// Lines end in `\n` (a `\r` before it is dropped). Blank lines are skipped. Every other line must
/// hold exactly one tab, and both sides must have at least one token at the corpus's level (word
/// level: a side of only spaces is empty) and at most `maximumTokens` (`defaultMaximumTokens`, 1,000,
/// unless given): a longer line is refused, not cut, because a cut source no longer means its target.
/// The first bad line is reported with the file and line.
public struct ParallelCorpus: Sendable {
    /// The most tokens one side of a line may have unless another limit is given: 1,000.
    public static let defaultMaximumTokens = 1_000
    /// The largest limit that may be given: 10,000 tokens per side (the encoder–decoder's memory and
    /// time grow with the length of the sequences).
    public static let largestMaximumTokens = 10_000

    /// The file path or the label of an in-memory text, for messages.
    public var label: String
    public var level: TranslationLevel
    public var pairs: [TranslationPair]

    /// Parses `text` (as from a file named `label`); each side of a line may have at most
    /// `maximumTokens` tokens.
    /// - Throws: `ParallelCorpusError` for the first bad line, or `.empty` when there is no pair;
    ///   `ConfigurationError` for a `maximumTokens` outside 1...`largestMaximumTokens`.
    public init(text: String, level: TranslationLevel, label: String = "<text>",
                maximumTokens: Int = ParallelCorpus.defaultMaximumTokens) throws {
        try ConfigurationError.requireSize(maximumTokens, "maximumTokens", maximum: Self.largestMaximumTokens)
        self.label = label
        self.level = level
        var pairs = [TranslationPair]()
        var number = 0
        // Lines and fields are cut on Unicode scalars: as Characters, "\r\n" would be one grapheme.
        for rawLine in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var line = rawLine
            if line.last == "\r" { line = line.dropLast() }
            if line.allSatisfy({ $0.properties.isWhitespace && $0 != "\t" }) { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 2 else { throw ParallelCorpusError.missingTab(source: label, line: number) }
            guard fields.count == 2 else {
                throw ParallelCorpusError.extraTab(source: label, line: number, tabs: fields.count - 1)
            }
            let source = String(String.UnicodeScalarView(fields[0])), target = String(String.UnicodeScalarView(fields[1]))
            try level.checkSide(source, "source", of: label, line: number, maximumTokens: maximumTokens)
            try level.checkSide(target, "target", of: label, line: number, maximumTokens: maximumTokens)
            pairs.append(TranslationPair(source: source, target: target, line: number))
        }
        guard !pairs.isEmpty else { throw ParallelCorpusError.empty(source: label) }
        self.pairs = pairs
    }

    /// Reads and parses the file at `url` (a regular file, see `InputFile`).
    /// - Throws: `ParallelCorpusError` (missing or unreadable file, not UTF-8, a bad line, no pairs).
    public init(contentsOf url: URL, level: TranslationLevel, maximumTokens: Int = ParallelCorpus.defaultMaximumTokens) throws {
        let bytes = try ParallelCorpusError.readInput(url)
        if let failure = UTF8Validation.firstInvalidSequence(in: bytes) {
            throw ParallelCorpusError.invalidUTF8(source: url.path, line: failure.line)
        }
        try self.init(text: String(decoding: bytes, as: UTF8.self), level: level, label: url.path, maximumTokens: maximumTokens)
    }

    /// The pairs split at random (by `seed`) into a training part and a held-out part of
    /// `round(validationFraction · count)` pairs (at least one when the fraction is positive). Both
    /// parts keep the file's order.
    /// - Throws: `ConfigurationError` for a fraction outside [0, 1); `ParallelCorpusError.tooFewPairs`
    ///   when a part would be empty.
    public func split(validationFraction: Double, seed: UInt64) throws -> (training: [TranslationPair], heldOut: [TranslationPair]) {
        try ConfigurationError.require(validationFraction >= 0 && validationFraction < 1, "validationFraction",
                                       "must be in [0, 1), got \(validationFraction)")
        let n = pairs.count
        let heldOutCount = validationFraction == 0 ? 0 : max(1, Int((Double(n) * validationFraction).rounded()))
        guard n - heldOutCount >= 1 else {
            throw ParallelCorpusError.tooFewPairs(source: label, pairs: n, heldOut: heldOutCount)
        }
        // A Fisher–Yates shuffle of the indices; the first `heldOutCount` are held out.
        var rng = RandomGenerator(seed: seed)
        var order = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.nextInt(below: i + 1)) }
        var isHeldOut = [Bool](repeating: false, count: n)
        for i in order.prefix(heldOutCount) { isHeldOut[i] = true }
        return (pairs.indices.filter { !isHeldOut[$0] }.map { pairs[$0] }, pairs.indices.filter { isHeldOut[$0] }.map { pairs[$0] })
    }
}

/// Sources to translate, one per line, each optionally followed by a tab and its reference.
public struct TranslationInput: Sendable {
    public struct Item: Sendable, Equatable {
        public var source: String
        /// The reference translation when the line had one (`source<TAB>reference`).
        public var reference: String?
        /// The line number (from 1).
        public var line: Int

        public init(source: String, reference: String? = nil, line: Int) {
            self.source = source
            self.reference = reference
            self.line = line
        }
    }

    public var items: [Item]

    /// Parses `text`: blank lines are skipped; a line with a tab is a pair as in `ParallelCorpus`
    /// (exactly one tab, neither side empty nor longer than `maximumTokens`), a line without one is a source.
    /// - Throws: `ParallelCorpusError` for the first bad line, or `.empty` when there is no source;
    ///   `ConfigurationError` for a `maximumTokens` outside 1...`ParallelCorpus.largestMaximumTokens`.
    public init(text: String, level: TranslationLevel, label: String = "<stdin>",
                maximumTokens: Int = ParallelCorpus.defaultMaximumTokens) throws {
        try ConfigurationError.requireSize(maximumTokens, "maximumTokens", maximum: ParallelCorpus.largestMaximumTokens)
        var items = [Item]()
        var number = 0
        for rawLine in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var line = rawLine
            if line.last == "\r" { line = line.dropLast() }
            if line.allSatisfy({ $0.properties.isWhitespace && $0 != "\t" }) { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
            guard fields.count <= 2 else { throw ParallelCorpusError.extraTab(source: label, line: number, tabs: fields.count - 1) }
            try level.checkSide(fields[0], "source", of: label, line: number, maximumTokens: maximumTokens)
            if fields.count == 2 {
                try level.checkSide(fields[1], "reference", of: label, line: number, maximumTokens: maximumTokens)
            }
            items.append(Item(source: fields[0], reference: fields.count == 2 ? fields[1] : nil, line: number))
        }
        guard !items.isEmpty else { throw ParallelCorpusError.noSources(source: label) }
        self.items = items
    }

    /// Parses raw bytes (a file or standard input), which must be UTF-8.
    public init(data: Data, level: TranslationLevel, label: String, maximumTokens: Int = ParallelCorpus.defaultMaximumTokens) throws {
        let bytes = [UInt8](data)
        if let failure = UTF8Validation.firstInvalidSequence(in: bytes) {
            throw ParallelCorpusError.invalidUTF8(source: label, line: failure.line)
        }
        try self.init(text: String(decoding: bytes, as: UTF8.self), level: level, label: label, maximumTokens: maximumTokens)
    }

    /// Reads and parses the file at `url` (a regular file, see `InputFile`).
    public init(contentsOf url: URL, level: TranslationLevel, maximumTokens: Int = ParallelCorpus.defaultMaximumTokens) throws {
        try self.init(data: Data(try ParallelCorpusError.readInput(url)), level: level, label: url.path, maximumTokens: maximumTokens)
    }
}

/// A parallel text that cannot be used. Each message is one line naming the file (and line).
public enum ParallelCorpusError: Error, LocalizedError, Equatable, Sendable {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    /// No pair at all (an empty file, or only blank lines).
    case empty(source: String)
    case invalidUTF8(source: String, line: Int)
    /// Input to translate has no source line.
    case noSources(source: String)
    /// A non-blank line without a tab.
    case missingTab(source: String, line: Int)
    /// A line with more than one tab.
    case extraTab(source: String, line: Int, tabs: Int)
    /// `side` ("source" or "target") has no token.
    case emptySide(source: String, line: Int, side: String)
    /// `side` has more tokens than the limit.
    case tooLong(source: String, line: Int, side: String, limit: Int)
    /// The split leaves no training pair.
    case tooFewPairs(source: String, pairs: Int, heldOut: Int)

    public var errorDescription: String? {
        switch self {
        case let .fileNotFound(path):
            return "\(path): no such file"
        case let .unreadable(path, reason):
            return "\(path): cannot read the file (\(reason))"
        case let .empty(source):
            return "\(source): no pairs (the file is empty or has only blank lines); expected one 'source<TAB>target' per line"
        case let .noSources(source):
            return "\(source): no sources to translate (the input is empty or has only blank lines)"
        case let .invalidUTF8(source, line):
            return "\(source), line \(line): not valid UTF-8 text"
        case let .missingTab(source, line):
            return "\(source), line \(line): no tab; expected 'source<TAB>target'"
        case let .extraTab(source, line, tabs):
            return "\(source), line \(line): \(tabs) tabs; expected exactly one, between source and target"
        case let .emptySide(source, line, side):
            return "\(source), line \(line): empty \(side)"
        case let .tooLong(source, line, side, limit):
            return "\(source), line \(line): the \(side) has more than \(limit) tokens; shorten or split the line "
                + "(or raise --max-tokens, at most \(ParallelCorpus.largestMaximumTokens))"
        case let .tooFewPairs(source, pairs, heldOut):
            return "\(source): \(pairs) pairs leave no training pair after holding out \(heldOut); "
                + "use more pairs or a smaller --val-fraction"
        }
    }
}

extension ParallelCorpusError {
    /// The bytes of the regular file at `url` (`InputFile`), with this type's errors.
    static func readInput(_ url: URL) throws -> [UInt8] {
        do { return [UInt8](try InputFile.read(url, limit: .max)) } catch let error as InputFileError {
            if error.problem == .notFound { throw ParallelCorpusError.fileNotFound(path: url.path) }
            throw ParallelCorpusError.unreadable(path: url.path, reason: error.reason)
        }
    }
}

extension TranslationLevel {
    /// Throws unless `side` of line `line` of `label` has between 1 and `maximumTokens` tokens.
    func checkSide(_ side: String, _ name: String, of label: String, line: Int, maximumTokens: Int) throws {
        let count = tokenCount(of: side, upTo: maximumTokens)
        guard count > 0 else { throw ParallelCorpusError.emptySide(source: label, line: line, side: name) }
        guard count <= maximumTokens else {
            throw ParallelCorpusError.tooLong(source: label, line: line, side: name, limit: maximumTokens)
        }
    }
}
