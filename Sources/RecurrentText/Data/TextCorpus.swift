import Foundation
import RecurrentCore

/// A text for a language model, tokenised and split into a training part and a validation part.
///
/// The split is by tokens: the validation part is the **last** `⌊n · validationFraction⌋` of the `n`
/// tokens, the training part is everything before it (so the validation text is text the model never
/// trains on, and both parts are contiguous streams). A fraction of 0 gives no validation part.
///
/// Where the vocabulary comes from, unless one is given (a checkpoint's, to resume or evaluate):
/// - character level: the **whole** file, as char-rnn does. A character-level model has no `<unk>`,
///   so a character seen only in the validation part would otherwise make that part unencodable; the
///   only thing learned from the validation part is that the character exists (its embedding row stays
///   untrained), which does not leak anything the loss can exploit.
/// - word level: the **training part** only, so that the validation loss is honest about words the
///   model never saw (they are `<unk>`, as in standard word-level benchmarks) and the kept words are
///   ranked by training frequency.
/// - byte level: the fixed 256 bytes.
///
/// Both parts are checked against the batch geometry: each part that is used must hold at least
/// `batchSize · sequenceLength + 1` tokens (one full window of inputs and their next-token targets per
/// batch row), else `TextCorpusError.tooShort` names the part.
public struct TextCorpus: Sendable {
    /// How to read and split a text.
    public struct Configuration: Sendable, Equatable {
        /// The token level (`--level`), default `.character`.
        public var level: Vocabulary.Level
        /// Word level: how many tokens to keep besides `<unk>`.
        public var maxVocabularySize: Int
        /// The fraction of tokens, taken from the end, held out for validation: `0 ≤ f < 1`.
        public var validationFraction: Double
        /// Rows per batch (batchSize).
        public var batchSize: Int
        /// Steps per window, the truncated-BPTT length (sequenceLength).
        public var sequenceLength: Int

        public init(level: Vocabulary.Level = .character, maxVocabularySize: Int = 10_000,
                    validationFraction: Double = 0.1, batchSize: Int, sequenceLength: Int) {
            self.level = level
            self.maxVocabularySize = maxVocabularySize
            self.validationFraction = validationFraction
            self.batchSize = batchSize
            self.sequenceLength = sequenceLength
        }

        /// Throws `ConfigurationError` for a size that is not positive or above `SizeLimits.maximumDimension`,
        /// or a fraction outside `[0, 1)`.
        public func validate() throws {
            try ConfigurationError.requireSize(batchSize, "batchSize")
            try ConfigurationError.requireSize(sequenceLength, "sequenceLength")
            try ConfigurationError.requireSize(maxVocabularySize, "maxVocabularySize")
            try ConfigurationError.require(validationFraction >= 0 && validationFraction < 1, "validationFraction",
                                           "must be in [0, 1), got \(validationFraction)")
        }

        /// The fewest tokens a part needs: `batchSize · sequenceLength + 1`.
        public var minimumTokens: Int { batchSize * sequenceLength + 1 }
    }

    /// The file path or label used in messages.
    public let source: String
    /// The configuration the corpus was read with (its `level` is the vocabulary's).
    public let configuration: Configuration
    /// The vocabulary the tokens are ids of.
    public let vocabulary: Vocabulary
    /// The training part: token ids, in text order.
    public let training: [Int]
    /// The validation part (the end of the text): token ids, in text order; empty when the fraction is 0.
    public let validation: [Int]

    /// The number of tokens in the whole text.
    public var tokenCount: Int { training.count + validation.count }

    /// Reads a text file. `vocabulary`, when given (from a checkpoint), is used instead of building one,
    /// and its level must equal `configuration.level`.
    public static func load(from url: URL, configuration: Configuration, vocabulary: Vocabulary? = nil) throws -> TextCorpus {
        try configuration.validate()
        let path = url.path
        let data: Data
        do { data = try InputFile.read(url, limit: .max) } catch let error as InputFileError {
            if error.problem == .notFound { throw TextCorpusError.fileNotFound(path: path) }
            throw TextCorpusError.unreadable(path: path, reason: error.reason)
        }
        return try TextCorpus(bytes: [UInt8](data), source: path, configuration: configuration, vocabulary: vocabulary)
    }

    /// A corpus from a string in memory (`source` labels it in messages).
    public init(text: String, source: String = "text", configuration: Configuration, vocabulary: Vocabulary? = nil) throws {
        try self.init(bytes: Array(text.utf8), source: source, configuration: configuration, vocabulary: vocabulary)
    }

    /// A corpus from raw bytes: UTF-8 text at character and word level, anything at byte level.
    public init(bytes: [UInt8], source: String, configuration: Configuration, vocabulary: Vocabulary? = nil) throws {
        try configuration.validate()
        if let vocabulary, vocabulary.level != configuration.level {
            throw TextCorpusError.vocabularyMismatch(source: source, detail:
                "the given vocabulary is \(vocabulary.level.rawValue) level, but \(configuration.level.rawValue) level was requested")
        }
        guard !bytes.isEmpty else { throw TextCorpusError.empty(source: source) }

        let level = configuration.level
        var text = ""
        if level != .byte {
            if let failure = UTF8Validation.firstInvalidSequence(in: bytes) {
                throw TextCorpusError.invalidUTF8(source: source, byteOffset: failure.byteOffset, line: failure.line)
            }
            text = String(decoding: bytes, as: UTF8.self)
        }

        func validationCount(_ n: Int) -> Int { Int((Double(n) * configuration.validationFraction).rounded(.down)) }

        let vocab: Vocabulary
        let ids: [Int]
        switch level {
        case .byte:
            vocab = vocabulary ?? .bytes
            ids = bytes.map { Int($0) }
        case .character:
            vocab = vocabulary ?? .characters(of: text)
            do {
                ids = try vocab.encode(text)
            } catch let error as VocabularyError {
                throw TextCorpusError.vocabularyMismatch(source: source, detail: error.errorDescription ?? "\(error)")
            }
        case .word:
            let pieces = WordTokenizer.tokenize(text)
            if let vocabulary {
                vocab = vocabulary
            } else {
                var counts: [[UInt8]: Int] = [:]
                for piece in pieces.prefix(pieces.count - validationCount(pieces.count)) { counts[piece, default: 0] += 1 }
                vocab = try Vocabulary.words(counts: counts, maxSize: configuration.maxVocabularySize)
            }
            ids = vocab.wordIDs(of: pieces)
        }

        let trainingCount = ids.count - validationCount(ids.count)
        let training = Array(ids[..<trainingCount])
        let validation = Array(ids[trainingCount...])
        let required = configuration.minimumTokens
        if training.count < required {
            throw TextCorpusError.tooShort(source: source, part: .training, tokens: training.count, required: required,
                                           batchSize: configuration.batchSize, sequenceLength: configuration.sequenceLength)
        }
        if configuration.validationFraction > 0, validation.count < required {
            throw TextCorpusError.tooShort(source: source, part: .validation, tokens: validation.count, required: required,
                                           batchSize: configuration.batchSize, sequenceLength: configuration.sequenceLength)
        }
        self.source = source
        self.configuration = configuration
        self.vocabulary = vocab
        self.training = training
        self.validation = validation
    }

    /// A batcher over the training part with the configured batchSize and sequenceLength, at `position`.
    public func trainingBatcher(position: StreamBatcher.Position = .init()) throws -> StreamBatcher {
        try StreamBatcher(tokens: training, batchSize: configuration.batchSize,
                          sequenceLength: configuration.sequenceLength, position: position)
    }

    /// The validation part as evaluation batches covering every position once; `nil` without a validation part.
    public func validationBatches() -> EvaluationBatches? {
        validation.isEmpty ? nil : EvaluationBatches(tokens: validation, batchSize: configuration.batchSize,
                                                     sequenceLength: configuration.sequenceLength)
    }

    /// A 64-bit FNV-1a hash of the level, the vocabulary's tokens and both parts' ids. A checkpoint
    /// can store it to check, on resume, that the same text is split and encoded the same way.
    public var fingerprint: UInt64 {
        var hash = Fingerprint()
        for byte in vocabulary.level.rawValue.utf8 { hash.mix(UInt64(byte)) }
        hash.mix(vocabulary.count)
        for token in vocabulary.tokens { hash.mix(token) }
        hash.mix(training.count)
        for id in training { hash.mix(id) }
        hash.mix(validation.count)
        for id in validation { hash.mix(id) }
        return hash.value
    }
}

extension Vocabulary {
    /// Word level: the ids of tokenised pieces (`<unk>` for pieces outside the vocabulary).
    func wordIDs(of pieces: [[UInt8]]) -> [Int] {
        precondition(level == .word, "Vocabulary.wordIDs: word level only")
        return pieces.map { wordID(of: $0) }
    }
}
