/// How checkpoints write generators: the four state words as 16-digit hexadecimal strings, so that
/// no JSON reader can round them.
extension RandomGenerator {
    /// The state as four hexadecimal words.
    public var hexWords: [String] { state.map { Fingerprint.hexadecimal($0) } }

    /// The generator whose state `words` spell (four hexadecimal words, not all zero); nil otherwise.
    public init?(hexWords words: [String]) {
        let values = words.compactMap { UInt64($0, radix: 16) }
        guard words.count == 4, values.count == 4, values.contains(where: { $0 != 0 }) else { return nil }
        self.init(state: values)
    }
}

/// A `RandomGenerator` stored in JSON as its hexadecimal words (see `RandomGenerator.hexWords`), for
/// the saved states of the trainers.
@propertyWrapper
public struct HexEncoded: Codable, Equatable, Sendable {
    public var wrappedValue: RandomGenerator

    public init(wrappedValue: RandomGenerator) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let generator = RandomGenerator(hexWords: try container.decode([String].self)) else {
            throw DecodingError.dataCorruptedError(in: container,
                debugDescription: "a generator state must be four hexadecimal words, not all zero")
        }
        wrappedValue = generator
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue.hexWords)
    }
}
