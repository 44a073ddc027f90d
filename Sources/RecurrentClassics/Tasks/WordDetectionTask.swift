import RecurrentCore

/// Detecting a word in a stream of random letters (the lecture's "udacity" detector): the target is
/// 1 at the step where an occurrence of the word has just ended and 0 elsewhere.
///
/// Letters are `a`–`z` as 0–25. The stream is random letters with the word inserted at random places
/// and, as distractors, random proper prefixes of it (e.g. "udac" followed by a random letter), so a
/// detector must check the whole word rather than its start.
public struct WordDetectionTask: Sendable, Equatable {
    /// The word as letter indices.
    public let word: [Int]
    /// The probability that a new piece of the stream is the word (otherwise a distractor or a letter).
    public var insertionProbability: Double
    /// The probability that a new piece of the stream is a proper prefix of the word.
    public var distractorProbability: Double

    /// - Throws: `ConfigurationError` naming `word` unless it has two or more letters a–z, or a
    ///   probability outside [0, 1] (or whose sum exceeds 1).
    public init(word: String = "udacity", insertionProbability: Double = 0.05, distractorProbability: Double = 0.05) throws {
        let letters = Self.encode(word)
        try ConfigurationError.require(letters != nil && word.count >= 2, "word",
                                       "must be two or more lowercase letters a-z, got \"\(word)\"")
        try ConfigurationError.require(insertionProbability >= 0 && distractorProbability >= 0
                                       && insertionProbability + distractorProbability <= 1,
                                       "insertionProbability", "and distractorProbability must be in [0, 1] with a sum ≤ 1")
        self.word = letters!
        self.insertionProbability = insertionProbability
        self.distractorProbability = distractorProbability
    }

    /// Letter indices 0–25 for a string of lowercase letters a–z; nil if any character is not one.
    public static func encode(_ text: String) -> [Int]? {
        var result = [Int]()
        for scalar in text.unicodeScalars {
            guard scalar.value >= 97 && scalar.value <= 122 else { return nil }
            result.append(Int(scalar.value) - 97)
        }
        return result
    }

    /// The letters of indices 0–25.
    public static func decode(_ letters: [Int]) -> String {
        String(String.UnicodeScalarView(letters.map { Unicode.Scalar(UInt8(97 + $0)) }))
    }

    /// A stream of `length` letters and its targets: `targets[t] = 1` exactly where
    /// `letters[t − wordLength + 1 ... t]` is the word (whether inserted or by chance).
    public func stream(length: Int, using rng: inout RandomGenerator) -> (letters: [Int], targets: [Float]) {
        var letters = [Int]()
        letters.reserveCapacity(length)
        while letters.count < length {
            let u = Double(rng.nextUniform())
            if u < insertionProbability {
                letters += word
            } else if u < insertionProbability + distractorProbability {
                letters += word.prefix(1 + rng.nextInt(below: word.count - 1))
                letters.append(rng.nextInt(below: 26))
            } else {
                letters.append(rng.nextInt(below: 26))
            }
        }
        letters = Array(letters.prefix(length))
        return (letters, targets(for: letters))
    }

    /// 1 where an occurrence of the word ends, else 0.
    public func targets(for letters: [Int]) -> [Float] {
        let n = word.count
        return letters.indices.map { t in t + 1 >= n && Array(letters[(t + 1 - n)...t]) == word ? 1 : 0 }
    }
}
