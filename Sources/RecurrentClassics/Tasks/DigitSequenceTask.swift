import RecurrentCore
import RecurrentLayers

/// A generated sequence-to-sequence task on digit strings: reverse, copy or sort a random string of
/// digits. The source vocabulary is the digits `0..<digits`; the target vocabulary puts `<go>` at 0
/// and `<eos>` at 1 and digit d at `d + 2`.
///
/// Exact-sequence accuracy on these tasks shows how much of the source survives in the decoder: a
/// fixed context vector has to hold every digit, attention can look each one up.
public struct DigitSequenceTask: Sendable, Equatable {
    public enum Kind: String, CaseIterable, Codable, Sendable {
        /// Output the digits last first.
        case reverse
        /// Output the digits in the same order.
        case copy
        /// Output the digits in ascending order.
        case sort
    }

    public static let goToken = 0
    public static let endToken = 1

    public var kind: Kind
    /// The number of distinct digits (2–50).
    public var digits: Int
    /// Training strings have lengths in this range.
    public var lengths: ClosedRange<Int>

    /// - Throws: `ConfigurationError` naming `digits` or `lengths` when out of range.
    public init(kind: Kind, digits: Int = 10, lengths: ClosedRange<Int>) throws {
        try ConfigurationError.require(digits >= 2 && digits <= 50, "digits", "must be in 2...50, got \(digits)")
        try ConfigurationError.require(lengths.lowerBound >= 1, "lengths", "must start at 1 or more, got \(lengths)")
        self.kind = kind
        self.digits = digits
        self.lengths = lengths
    }

    public var sourceVocabularySize: Int { digits }
    public var targetVocabularySize: Int { digits + 2 }

    /// The target tokens (digits shifted by 2, without `<go>`/`<eos>`) for a source.
    public func target(for source: [Int]) -> [Int] {
        let digits: [Int]
        switch kind {
        case .reverse: digits = source.reversed()
        case .copy: digits = source
        case .sort: digits = source.sorted()
        }
        return digits.map { $0 + 2 }
    }

    /// A random string of `length` digits.
    public func source(length: Int, using rng: inout RandomGenerator) -> [Int] {
        (0..<length).map { _ in rng.nextInt(below: digits) }
    }

    /// `size` examples, each of a length drawn uniformly from `lengths` (or exactly `length`).
    public func batch(size: Int, length: Int? = nil, using rng: inout RandomGenerator)
        -> (sources: [[Int]], targets: [[Int]]) {
        let sources = (0..<size).map { _ in
            source(length: length ?? (lengths.lowerBound + rng.nextInt(below: lengths.count)), using: &rng)
        }
        return (sources, sources.map(target(for:)))
    }

    /// The encoder–decoder configuration for this task (vocabularies and special tokens filled in).
    public func modelConfiguration(embeddingSize: Int, hiddenSize: Int, cell: EncoderDecoder.Cell = .gru,
                                   attention: Bool, reverseSource: Bool = false) -> EncoderDecoder.Configuration {
        EncoderDecoder.Configuration(sourceVocabularySize: sourceVocabularySize, targetVocabularySize: targetVocabularySize,
                                     embeddingSize: embeddingSize, hiddenSize: hiddenSize, cell: cell, attention: attention,
                                     reverseSource: reverseSource, goToken: Self.goToken, endToken: Self.endToken)
    }
}
