import Foundation

/// The tokens of a classifier's input and their ids.
///
/// Text is lowercased, then cut into tokens:
/// - `.word`: the words and punctuation of `WordTokenizer` (whitespace dropped), so
///   "Not good, really." is `not`, `good`, `,`, `really`, `.`;
/// - `.character`: one token per character (grapheme), whitespace runs included as single spaces.
///
/// Ids: 0 is `<pad>` (the filler of padded batches, never read: the recurrent layers stop at each
/// row's length), 1 is `<unk>` (any token outside the vocabulary), then the kept tokens, most
/// frequent first, ties in byte order of the token. `maxSize` counts the two special tokens.
public struct ClassificationVocabulary: Codable, Equatable, Sendable {
    public enum Level: String, Codable, CaseIterable, Sendable {
        case word
        case character = "char"
    }

    public static let paddingToken = "<pad>"
    public static let unknownToken = "<unk>"
    public static let paddingID = 0
    public static let unknownID = 1

    public let level: Level
    /// The text of each id: `<pad>`, `<unk>`, then the kept tokens.
    public let tokens: [String]
    private let ids: [String: Int]

    public var count: Int { tokens.count }

    /// A vocabulary with exactly these tokens after the two special ones.
    public init(level: Level, keptTokens: [String]) {
        self.level = level
        self.tokens = [Self.paddingToken, Self.unknownToken] + keptTokens
        var ids: [String: Int] = [:]
        for (id, token) in tokens.enumerated() where id >= 2 { ids[token] = id }
        self.ids = ids
    }

    /// The vocabulary of `texts`: at most `maxSize` ids (≥ 3) including `<pad>` and `<unk>`, counting
    /// the first `maxLength` tokens of each text (all when nil): the ones a model reads.
    public init(level: Level, texts: [String], maxSize: Int, maxLength: Int? = nil) {
        precondition(maxSize >= 3, "ClassificationVocabulary: maxSize must be at least 3, got \(maxSize)")
        var counts: [String: Int] = [:]
        for text in texts {
            for token in Self.tokenize(text, level: level, maxCount: maxLength) { counts[token, default: 0] += 1 }
        }
        let kept = counts.sorted { a, b in
            a.value != b.value ? a.value > b.value : Array(a.key.utf8).lexicographicallyPrecedes(Array(b.key.utf8))
        }.prefix(maxSize - 2).map(\.key)
        self.init(level: level, keptTokens: kept)
    }

    /// The tokens of `text` at `level` (lowercased): the first `maxCount` of them when given.
    public static func tokenize(_ text: String, level: Level, maxCount: Int? = nil) -> [String] {
        let lowered = text.lowercased()
        let maxCount = maxCount ?? .max
        switch level {
        case .word:
            var tokens: [String] = []
            WordTokenizer.forEachToken(in: lowered) { bytes in
                guard tokens.count < maxCount else { return }
                let token = String(decoding: bytes, as: UTF8.self)
                // Whitespace tokens are runs of one whitespace scalar.
                guard let first = token.unicodeScalars.first, WordTokenizer.kind(first) != .whitespace else { return }
                tokens.append(token)
            }
            return tokens
        case .character:
            var tokens: [String] = []
            var lastWasSpace = true   // also drops leading whitespace
            var truncated = false
            for character in lowered {
                if tokens.count == maxCount {
                    if character.isWhitespace { continue }
                    truncated = true   // more text follows, so a space ending the kept tokens stays
                    break
                }
                if character.isWhitespace {
                    if !lastWasSpace { tokens.append(" ") }
                    lastWasSpace = true
                } else {
                    tokens.append(String(character))
                    lastWasSpace = false
                }
            }
            if tokens.last == " " && !truncated { tokens.removeLast() }
            return tokens
        }
    }

    /// The ids of `text` (unknown tokens as `<unk>`), at most `maxLength` of them (the first ones) when given.
    public func encode(_ text: String, maxLength: Int? = nil) -> [Int] {
        Self.tokenize(text, level: level, maxCount: maxLength).map { ids[$0] ?? Self.unknownID }
    }

    /// The id of `token`, nil when it is not kept.
    public func id(of token: String) -> Int? { ids[token] }

    private enum CodingKeys: String, CodingKey { case level, tokens }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let level = try container.decode(Level.self, forKey: .level)
        let tokens = try container.decode([String].self, forKey: .tokens)
        guard tokens.count >= 2, tokens[0] == Self.paddingToken, tokens[1] == Self.unknownToken else {
            throw DecodingError.dataCorruptedError(forKey: .tokens, in: container,
                                                   debugDescription: "the vocabulary must start with <pad> and <unk>")
        }
        guard Set(tokens.dropFirst(2)).count == tokens.count - 2 else {
            throw DecodingError.dataCorruptedError(forKey: .tokens, in: container, debugDescription: "a token appears twice")
        }
        self.init(level: level, keptTokens: Array(tokens.dropFirst(2)))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(level, forKey: .level)
        try container.encode(tokens, forKey: .tokens)
    }

    public static func == (a: ClassificationVocabulary, b: ClassificationVocabulary) -> Bool {
        a.level == b.level && a.tokens == b.tokens
    }
}
