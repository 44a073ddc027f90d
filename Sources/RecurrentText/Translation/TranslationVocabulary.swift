import Foundation
import RecurrentCore

/// The tokens of one side (source or target) of a translation model.
///
/// Ids 0–3 are the special tokens `<pad>` (padding; the encoder masks it out), `<s>` (starts
/// decoding), `</s>` (ends a sequence) and `<unk>` (any token the vocabulary lacks); ids 4... are the
/// tokens of the training text, most frequent first, ties in UTF-8 byte order, so the same text always
/// gives the same ids. A token spelled like a special encodes as `<unk>`. The JSON form is `{"level": ..., "tokens": [...]}` with the specials included.
public struct TranslationVocabulary: Codable, Equatable, Sendable {
    public static let padToken = "<pad>", startToken = "<s>", endToken = "</s>", unknownToken = "<unk>"
    public static let specials = [padToken, startToken, endToken, unknownToken]
    public static let padID = 0, startID = 1, endID = 2, unknownID = 3

    public let level: TranslationLevel
    /// The text of each id, specials first.
    public let tokens: [String]
    private let ids: [String: Int]

    public var count: Int { tokens.count }

    private init(level: TranslationLevel, tokens: [String]) {
        self.level = level
        self.tokens = tokens
        var ids = [String: Int]()
        for (id, token) in tokens.enumerated() where id >= Self.specials.count { ids[token] = id }
        self.ids = ids
    }

    /// The vocabulary of `texts`: the specials, then at most `maxSize` tokens (all when nil).
    /// - Throws: `ConfigurationError` when `maxSize` is below 1.
    public init(of texts: [String], level: TranslationLevel, maxSize: Int? = nil) throws {
        if let maxSize { try ConfigurationError.require(maxSize >= 1, "maxVocabularySize", "must be at least 1, got \(maxSize)") }
        var counts = [String: Int]()
        for text in texts { for token in level.tokens(of: text) { counts[token, default: 0] += 1 } }
        // A text token spelled like a special (a literal "<s>") has no id of its own: it encodes as <unk>.
        for special in Self.specials { counts[special] = nil }
        let ranked = counts.sorted { a, b in
            a.value != b.value ? a.value > b.value : a.key.utf8.lexicographicallyPrecedes(b.key.utf8)
        }
        self.init(level: level, tokens: Self.specials + ranked.prefix(maxSize ?? ranked.count).map(\.key))
    }

    /// The ids of `text`'s tokens (`<unk>` for a token the vocabulary lacks), without `<s>`/`</s>`.
    public func encode(_ text: String) -> [Int] { encode(tokens: level.tokens(of: text)) }

    public func encode(tokens: [String]) -> [Int] { tokens.map { ids[$0] ?? Self.unknownID } }

    /// Whether `token` has an id of its own.
    public func contains(_ token: String) -> Bool { ids[token] != nil }

    /// The token strings of `ids`.
    public func tokenStrings(_ ids: [Int]) -> [String] {
        ids.map { id in
            precondition(id >= 0 && id < count, "TranslationVocabulary: id \(id) outside 0..<\(count)")
            return tokens[id]
        }
    }

    /// The text of `ids` (joined as the level joins; specials appear as their names).
    public func decode(_ ids: [Int]) -> String { level.join(tokenStrings(ids)) }

    // MARK: JSON

    private enum CodingKeys: String, CodingKey { case level, tokens }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let level = try container.decode(TranslationLevel.self, forKey: .level)
        let tokens = try container.decode([String].self, forKey: .tokens)
        guard Array(tokens.prefix(Self.specials.count)) == Self.specials else {
            throw DecodingError.dataCorruptedError(forKey: .tokens, in: container,
                debugDescription: "the tokens must start with \(Self.specials.joined(separator: " "))")
        }
        guard Set(tokens).count == tokens.count, !tokens.contains("") else {
            throw DecodingError.dataCorruptedError(forKey: .tokens, in: container, debugDescription: "the tokens must be unique and non-empty")
        }
        self.init(level: level, tokens: tokens)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(level, forKey: .level)
        try container.encode(tokens, forKey: .tokens)
    }

    public static func == (a: TranslationVocabulary, b: TranslationVocabulary) -> Bool {
        a.level == b.level && a.tokens == b.tokens
    }
}
