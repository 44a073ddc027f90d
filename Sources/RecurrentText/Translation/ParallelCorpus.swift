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
/// level: a side of only spaces is empty). The first bad line is reported with the file and line.
public struct ParallelCorpus: Sendable {
    /// The file path or the label of an in-memory text, for messages.
    public var label: String
    public var level: TranslationLevel
    public var pairs: [TranslationPair]

    /// Parses `text` (as from a file named `label`).
    /// - Throws: `ParallelCorpusError` for the first bad line, or `.empty` when there is no pair.
    public init(text: String, level: TranslationLevel, label: String = "<text>") throws {
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
            guard !level.tokens(of: source).isEmpty else { throw ParallelCorpusError.emptySide(source: label, line: number, side: "source") }
            guard !level.tokens(of: target).isEmpty else { throw ParallelCorpusError.emptySide(source: label, line: number, side: "target") }
            pairs.append(TranslationPair(source: source, target: target, line: number))
        }
        guard !pairs.isEmpty else { throw ParallelCorpusError.empty(source: label) }
        self.pairs = pairs
    }

    /// Reads and parses the file at `url`.
    /// - Throws: `ParallelCorpusError` (missing or unreadable file, not UTF-8, a bad line, no pairs).
    public init(contentsOf url: URL, level: TranslationLevel) throws {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ParallelCorpusError.fileNotFound(path: path)
        }
        guard !isDirectory.boolValue else { throw ParallelCorpusError.unreadable(path: path, reason: "it is a directory") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ParallelCorpusError.unreadable(path: path, reason: error.localizedDescription)
        }
        let bytes = [UInt8](data)
        if let failure = UTF8Validation.firstInvalidSequence(in: bytes) {
            throw ParallelCorpusError.invalidUTF8(source: path, line: failure.line)
        }
        try self.init(text: String(decoding: bytes, as: UTF8.self), level: level, label: path)
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
    /// (exactly one tab, neither side empty), a line without one is a source.
    /// - Throws: `ParallelCorpusError` for the first bad line, or `.empty` when there is no source.
    public init(text: String, level: TranslationLevel, label: String = "<stdin>") throws {
        var items = [Item]()
        var number = 0
        for rawLine in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var line = rawLine
            if line.last == "\r" { line = line.dropLast() }
            if line.allSatisfy({ $0.properties.isWhitespace && $0 != "\t" }) { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
            guard fields.count <= 2 else { throw ParallelCorpusError.extraTab(source: label, line: number, tabs: fields.count - 1) }
            guard !level.tokens(of: fields[0]).isEmpty else { throw ParallelCorpusError.emptySide(source: label, line: number, side: "source") }
            if fields.count == 2, level.tokens(of: fields[1]).isEmpty {
                throw ParallelCorpusError.emptySide(source: label, line: number, side: "reference")
            }
            items.append(Item(source: fields[0], reference: fields.count == 2 ? fields[1] : nil, line: number))
        }
        guard !items.isEmpty else { throw ParallelCorpusError.noSources(source: label) }
        self.items = items
    }

    /// Parses raw bytes (a file or standard input), which must be UTF-8.
    public init(data: Data, level: TranslationLevel, label: String) throws {
        let bytes = [UInt8](data)
        if let failure = UTF8Validation.firstInvalidSequence(in: bytes) {
            throw ParallelCorpusError.invalidUTF8(source: label, line: failure.line)
        }
        try self.init(text: String(decoding: bytes, as: UTF8.self), level: level, label: label)
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
        case let .tooFewPairs(source, pairs, heldOut):
            return "\(source): \(pairs) pairs leave no training pair after holding out \(heldOut); "
                + "use more pairs or a smaller --val-fraction"
        }
    }
}
