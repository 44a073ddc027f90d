import Foundation

/// One generated token, as handed to the streaming callback of `TextGenerator`.
public struct GeneratedToken: Equatable, Sendable {
    /// The position in the generated sequence, from 0 (the prime is not counted).
    public var index: Int
    /// The token id.
    public var id: Int
    /// The text this token completes, for display. Character and word level: the token's text
    /// (`<unk>` for the unknown word). Byte level: the characters this byte completes under lossy
    /// UTF-8 decoding (`UTF8StreamDecoder`): empty inside a multi-byte character, U+FFFD for invalid
    /// bytes. Concatenating `text` over all tokens gives `GeneratedText.text`.
    public var text: String
    /// The token's exact bytes (byte level: the byte itself; otherwise the UTF-8 of `text`).
    /// Concatenating `bytes` over all tokens gives `GeneratedText.bytes`.
    public var bytes: [UInt8]

    public init(index: Int, id: Int, text: String, bytes: [UInt8]) {
        self.index = index
        self.id = id
        self.text = text
        self.bytes = bytes
    }
}

/// The result of one `TextGenerator.generate` call.
public struct GeneratedText: Equatable, Sendable {
    /// The ids run through the model before generating: the encoded prime, or the start token
    /// chosen for an empty prime (see `TextGenerator`).
    public var contextIDs: [Int]
    /// The generated ids, `length` of them; the context is not included.
    public var ids: [Int]
    /// The generated text, `Vocabulary.decode(ids)`: at byte level decoded lossily (U+FFFD for
    /// invalid UTF-8); use `bytes` for the exact output.
    public var text: String
    /// The exact bytes of the generated tokens, concatenated.
    public var bytes: [UInt8]
    /// Σ log p(token | everything before it) over `ids`, in nats, under the model's own distribution
    /// (softmax of the logits, at temperature 1 and without top-k, whatever the decoding options).
    /// Beam search maximises this.
    public var logProbability: Double

    public init(contextIDs: [Int], ids: [Int], text: String, bytes: [UInt8], logProbability: Double) {
        self.contextIDs = contextIDs
        self.ids = ids
        self.text = text
        self.bytes = bytes
        self.logProbability = logProbability
    }
}

/// Generation stopped because of the model's output.
public enum GenerationError: Error, LocalizedError, Equatable, Sendable {
    /// The model produced a NaN or infinite logit (diverged or corrupted weights) before token `step`.
    case nonFiniteLogits(step: Int)

    public var errorDescription: String? {
        switch self {
        case let .nonFiniteLogits(step):
            return "the model produced a NaN or infinite logit at generated token \(step); its weights are unusable"
        }
    }
}
