import Foundation
import RecurrentCore

/// The mapping between text and token ids `0..<count` of a language model.
///
/// Three levels:
/// - `.character`: one token per **Unicode scalar** (not per `Character`): scalars are what UTF-8
///   encodes, so splitting is fast, every string has exactly one encoding and decoding reproduces
///   the text byte for byte (a grapheme such as a decomposed "é" or "\r\n" is two tokens). The
///   tokens are the distinct scalars of the text sorted by scalar value, so the same text always gives
///   the same ids. Unknown characters: see `UnknownCharacterPolicy`.
/// - `.word`: tokens from `WordTokenizer` (words, runs of one whitespace, single punctuation
///   scalars). Id 0 is `<unk>`; ids 1... are the `maxSize` most frequent tokens, most frequent first,
///   ties broken by UTF-8 byte order. Tokens outside the vocabulary encode as `<unk>`, which decodes
///   to the literal text `<unk>`. The literal text "<unk>" in the input is three ordinary tokens
///   (`<`, `unk`, `>`), so it cannot be confused with the unknown token.
/// - `.byte`: 256 fixed tokens, id = byte value. Any file can be encoded; decoding is lossy UTF-8
///   (invalid sequences display as U+FFFD).
///
/// Equality and the JSON form depend only on `level` and `tokens`.
public struct Vocabulary: Codable, Equatable, Sendable {
    /// The kind of token.
    public enum Level: String, Codable, Sendable, CaseIterable {
        case character, word, byte
    }

    /// What `encode` does with a character the vocabulary lacks (character level only).
    ///
    /// A character-level model has no `<unk>` row, so a character it never saw (evaluating or
    /// priming with a different text) cannot be fed to it. The default is an error naming the
    /// character and its line and column, because silently changing the text changes the loss being
    /// measured; `.skip` drops such characters for callers that prefer to go on.
    public enum UnknownCharacterPolicy: String, Codable, Sendable {
        case fail, skip
    }

    /// The token written for unknown words at word level (id 0).
    public static let unknownToken = "<unk>"

    /// The level of the tokens.
    public let level: Level
    /// The text of each id. Character level: one scalar each. Word level: `<unk>` then the kept tokens.
    /// Byte level: display names only — the character for printable ASCII, `\n`/`\t`-style escapes
    /// and `<0xNN>` for other bytes (decoding does not use them).
    public let tokens: [String]

    // Lookup tables built from `tokens` (not encoded, not compared).
    /// Character level: scalar value → id, -1 when absent; covers 0...largest scalar.
    private let scalarTable: [Int32]
    /// Word level: token UTF-8 bytes → id.
    private let wordIDs: [[UInt8]: Int]

    /// The number of tokens (ids are `0..<count`).
    public var count: Int { tokens.count }

    /// The id of `<unk>` at word level; `nil` at the other levels.
    public var unknownID: Int? { level == .word ? 0 : nil }

    // MARK: - Building

    private init(level: Level, tokens: [String]) {
        self.level = level
        self.tokens = tokens
        switch level {
        case .character:
            let values = tokens.map { Int($0.unicodeScalars.first!.value) }
            var table = [Int32](repeating: -1, count: (values.max() ?? -1) + 1)
            for (id, v) in values.enumerated() { table[v] = Int32(id) }
            scalarTable = table
            wordIDs = [:]
        case .word:
            var ids: [[UInt8]: Int] = [:]
            for (id, token) in tokens.enumerated() where id > 0 { ids[Array(token.utf8)] = id }
            scalarTable = []
            wordIDs = ids
        case .byte:
            scalarTable = []
            wordIDs = [:]
        }
    }

    /// The character-level vocabulary of `text`: its distinct Unicode scalars sorted by value.
    public static func characters(of text: String) -> Vocabulary {
        var seen = [Bool](repeating: false, count: 128)
        for s in text.unicodeScalars {
            let v = Int(s.value)
            if v >= seen.count { seen += [Bool](repeating: false, count: v + 1 - seen.count) }
            seen[v] = true
        }
        var tokens: [String] = []
        for (v, present) in seen.enumerated() where present {
            tokens.append(String(Unicode.Scalar(UInt32(v))!))
        }
        return Vocabulary(level: .character, tokens: tokens)
    }

    /// The word-level vocabulary of `text`: `<unk>` plus the `maxSize` most frequent `WordTokenizer`
    /// tokens (fewer when the text has fewer distinct tokens), most frequent first, ties in UTF-8
    /// byte order. `count` is at most `maxSize + 1`.
    public static func words(of text: String, maxSize: Int) throws -> Vocabulary {
        var counts: [[UInt8]: Int] = [:]
        WordTokenizer.forEachToken(in: text) { counts[Array($0), default: 0] += 1 }
        return try words(counts: counts, maxSize: maxSize)
    }

    /// The word-level vocabulary from token counts (as `words(of:maxSize:)`).
    static func words(counts: [[UInt8]: Int], maxSize: Int) throws -> Vocabulary {
        try ConfigurationError.require(maxSize >= 1, "maxVocabularySize", "must be at least 1, got \(maxSize)")
        let ranked = counts.sorted { a, b in
            a.value != b.value ? a.value > b.value : a.key.lexicographicallyPrecedes(b.key)
        }
        let kept = ranked.prefix(maxSize).map { String(decoding: $0.key, as: UTF8.self) }
        return Vocabulary(level: .word, tokens: [unknownToken] + kept)
    }

    /// The byte-level vocabulary: ids 0...255 are the byte values.
    public static let bytes = Vocabulary(level: .byte, tokens: (0..<256).map { byteDisplayName(UInt8($0)) })

    private static func byteDisplayName(_ b: UInt8) -> String {
        switch b {
        case 0x0A: return "\\n"
        case 0x09: return "\\t"
        case 0x0D: return "\\r"
        case 0x20...0x7E: return String(Unicode.Scalar(b))
        default:
            let hex = String(b, radix: 16, uppercase: true)
            return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
        }
    }

    // MARK: - Encoding and decoding

    /// The ids of `text`.
    ///
    /// Word level never throws (unknown tokens become `<unk>`). Byte level encodes the UTF-8 bytes.
    /// Character level throws `VocabularyError.unknownCharacter` for a scalar outside the vocabulary,
    /// unless `unknown` is `.skip`, which drops it.
    public func encode(_ text: String, unknown: UnknownCharacterPolicy = .fail) throws -> [Int] {
        switch level {
        case .byte:
            return text.utf8.map { Int($0) }
        case .word:
            var ids: [Int] = []
            WordTokenizer.forEachToken(in: text) { ids.append(wordID(of: Array($0))) }
            return ids
        case .character:
            var ids: [Int] = []
            ids.reserveCapacity(text.utf8.count)
            let table = scalarTable
            for s in text.unicodeScalars {
                let v = Int(s.value)
                let id = v < table.count ? Int(table[v]) : -1
                if id >= 0 {
                    ids.append(id)
                } else if unknown == .fail {
                    throw unknownCharacterError(in: text, firstUnknown: s)
                }
            }
            return ids
        }
    }

    /// The ids of raw bytes. Byte level: the byte values. Other levels: the bytes must be UTF-8
    /// (else `VocabularyError.invalidUTF8`), then as `encode(_:unknown:)`.
    public func encode(bytes: [UInt8], unknown: UnknownCharacterPolicy = .fail) throws -> [Int] {
        if level == .byte { return bytes.map { Int($0) } }
        if let failure = UTF8Validation.firstInvalidSequence(in: bytes) {
            throw VocabularyError.invalidUTF8(byteOffset: failure.byteOffset, line: failure.line)
        }
        return try encode(String(decoding: bytes, as: UTF8.self), unknown: unknown)
    }

    /// Word level: the id of one token's UTF-8 bytes (`<unk>` = 0 when absent).
    func wordID(of bytes: [UInt8]) -> Int { wordIDs[bytes] ?? 0 }

    /// The text of `ids` (each in `0..<count`). Byte level decodes the bytes as UTF-8, showing invalid
    /// sequences as U+FFFD; word level writes `<unk>` for id 0.
    public func decode(_ ids: [Int]) -> String {
        for id in ids { precondition(id >= 0 && id < count, "Vocabulary.decode: id \(id) outside 0..<\(count)") }
        switch level {
        case .byte:
            return String(decoding: ids.map { UInt8($0) }, as: UTF8.self)
        case .character, .word:
            var result = ""
            for id in ids { result += tokens[id] }
            return result
        }
    }

    /// The line and column of the first occurrence of `scalar` (only computed when reporting it).
    private func unknownCharacterError(in text: String, firstUnknown scalar: Unicode.Scalar) -> VocabularyError {
        var line = 1, column = 1
        for s in text.unicodeScalars {
            if s == scalar { break }
            if s == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return .unknownCharacter(scalar, line: line, column: column, vocabularySize: count)
    }

    // MARK: - JSON

    private enum CodingKeys: String, CodingKey { case level, tokens }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let level = try container.decode(Level.self, forKey: .level)
        switch level {
        case .byte:
            self = Vocabulary.bytes
        case .character:
            let tokens = try container.decode([String].self, forKey: .tokens)
            var previous: UInt32? = nil
            for token in tokens {
                let scalars = Array(token.unicodeScalars)
                guard scalars.count == 1 else {
                    throw DecodingError.dataCorruptedError(forKey: .tokens, in: container,
                        debugDescription: "character-level token \(token.debugDescription) is not one Unicode scalar")
                }
                guard previous.map({ $0 < scalars[0].value }) ?? true else {
                    throw DecodingError.dataCorruptedError(forKey: .tokens, in: container,
                        debugDescription: "character-level tokens are not sorted and unique at \(token.debugDescription)")
                }
                previous = scalars[0].value
            }
            self.init(level: .character, tokens: tokens)
        case .word:
            let tokens = try container.decode([String].self, forKey: .tokens)
            guard tokens.first == Vocabulary.unknownToken else {
                throw DecodingError.dataCorruptedError(forKey: .tokens, in: container,
                    debugDescription: "word-level tokens must start with \(Vocabulary.unknownToken)")
            }
            guard Set(tokens.map { Array($0.utf8) }).count == tokens.count, !tokens.dropFirst().contains("") else {
                throw DecodingError.dataCorruptedError(forKey: .tokens, in: container,
                    debugDescription: "word-level tokens must be unique and non-empty")
            }
            self.init(level: .word, tokens: tokens)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(level, forKey: .level)
        if level != .byte { try container.encode(tokens, forKey: .tokens) }
    }

    /// The JSON form: `{"level":"character","tokens":[...]}` (`{"level":"byte"}` at byte level), with
    /// sorted keys, so the same vocabulary always gives the same bytes.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// A vocabulary read from `jsonData()` output.
    public init(jsonData: Data) throws {
        self = try JSONDecoder().decode(Vocabulary.self, from: jsonData)
    }

    public static func == (a: Vocabulary, b: Vocabulary) -> Bool {
        a.level == b.level && a.tokens.count == b.tokens.count
            && zip(a.tokens, b.tokens).allSatisfy { $0.utf8.elementsEqual($1.utf8) }
    }
}

/// A text that a vocabulary cannot encode.
public enum VocabularyError: Error, LocalizedError, Equatable, Sendable {
    /// Character level: the text has a character the vocabulary lacks (first one; line and column from 1,
    /// counting Unicode scalars).
    case unknownCharacter(Unicode.Scalar, line: Int, column: Int, vocabularySize: Int)
    /// The bytes are not UTF-8 (offset of the first invalid sequence from 0, its line from 1).
    case invalidUTF8(byteOffset: Int, line: Int)

    public var errorDescription: String? {
        switch self {
        case let .unknownCharacter(scalar, line, column, size):
            let hex = String(scalar.value, radix: 16, uppercase: true)
            let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            return "character '\(scalar.escaped(asASCII: false))' (\(code)) at line \(line), column \(column) "
                + "is not in the vocabulary of \(size) characters"
        case let .invalidUTF8(offset, line):
            return "not valid UTF-8 text (first invalid byte at offset \(offset), line \(line)); "
                + "use --level byte for binary or non-UTF-8 files"
        }
    }
}
