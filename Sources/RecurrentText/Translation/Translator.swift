import Foundation
import RecurrentCore
import RecurrentLayers
import RecurrentFormats

/// A trained `EncoderDecoder` with its source and target vocabularies: text in, text out.
///
/// The model's target vocabulary is the `TranslationVocabulary`'s, so `<s>` (id 1) starts decoding and
/// `</s>` (id 2) ends it. Decoding is `EncoderDecoder.greedyDecode` (beam width 1) or
/// `EncoderDecoder.beamSearch` (the most probable finished hypothesis).
public final class Translator {
    public let model: EncoderDecoder
    public let sourceVocabulary: TranslationVocabulary
    public let targetVocabulary: TranslationVocabulary
    /// Decoding stops after this many output tokens (the output is then marked unfinished); at most
    /// `maximumOutputLength`.
    public var maxOutputLength: Int

    /// The largest `maxOutputLength`: 10,000 tokens (decoding time grows with it).
    public static let maximumOutputLength = 10_000

    /// - Precondition: the vocabularies' sizes are the model's and its go/end tokens are `<s>`/`</s>`.
    public init(model: EncoderDecoder, sourceVocabulary: TranslationVocabulary, targetVocabulary: TranslationVocabulary,
                maxOutputLength: Int) {
        let c = model.configuration
        precondition(c.sourceVocabularySize == sourceVocabulary.count && c.targetVocabularySize == targetVocabulary.count
                     && c.goToken == TranslationVocabulary.startID && c.endToken == TranslationVocabulary.endID,
                     "Translator: the vocabularies do not fit the model")
        precondition(maxOutputLength >= 0 && maxOutputLength <= Self.maximumOutputLength,
                     "Translator: maxOutputLength must be in 0...\(Self.maximumOutputLength), got \(maxOutputLength)")
        self.model = model
        self.sourceVocabulary = sourceVocabulary
        self.targetVocabulary = targetVocabulary
        self.maxOutputLength = maxOutputLength
    }

    /// The model configuration for two vocabularies (specials and sizes filled in).
    public static func modelConfiguration(source: TranslationVocabulary, target: TranslationVocabulary,
                                          embeddingSize: Int, hiddenSize: Int, cell: EncoderDecoder.Cell, attention: Bool,
                                          reverseSource: Bool = false) -> EncoderDecoder.Configuration {
        EncoderDecoder.Configuration(sourceVocabularySize: source.count, targetVocabularySize: target.count,
                                     embeddingSize: embeddingSize, hiddenSize: hiddenSize, cell: cell, attention: attention,
                                     reverseSource: reverseSource, goToken: TranslationVocabulary.startID,
                                     endToken: TranslationVocabulary.endID)
    }

    /// One translated source.
    public struct Translation: Sendable {
        /// The source's tokens as read (before mapping unknown ones to `<unk>`).
        public var sourceTokens: [String]
        /// How many source tokens the vocabulary lacks (read as `<unk>`).
        public var unknownSourceTokens: Int
        /// The output tokens without `<s>`/`</s>`.
        public var tokens: [String]
        public var text: String
        /// False when decoding stopped at `maxOutputLength` without `</s>`.
        public var finished: Bool
        public var logProbability: Float
        /// `(decodedSteps, sourceLength)` attention weights (rows: output tokens, then `</s>` if
        /// finished; columns: source tokens in reading order); nil without attention.
        public var attention: Tensor?
    }

    /// Translates `sources` (each with at least one token at the vocabulary's level) greedily
    /// (`beamWidth` 1, in batches of 64) or by beam search (one source at a time).
    /// - Precondition: `beamWidth ≥ 1`; every source has a token.
    public func translate(_ sources: [String], beamWidth: Int = 1) -> [Translation] {
        precondition(beamWidth >= 1, "Translator: beamWidth must be at least 1, got \(beamWidth)")
        let tokenized = sources.map { sourceVocabulary.level.tokens(of: $0) }
        for (i, tokens) in tokenized.enumerated() {
            precondition(!tokens.isEmpty, "Translator: source \(i) has no token")
        }
        let ids = tokenized.map { sourceVocabulary.encode(tokens: $0) }
        var decoded = [EncoderDecoder.Decoded]()
        decoded.reserveCapacity(sources.count)
        if beamWidth == 1 {
            var start = 0
            while start < ids.count {
                let end = min(start + 64, ids.count)
                decoded += model.greedyDecode(sources: Array(ids[start..<end]), maxLength: maxOutputLength)
                start = end
            }
        } else {
            for source in ids {
                // Beam search finishes every hypothesis with </s> by maxLength, so there is always one.
                decoded.append(model.beamSearch(source: source, beamWidth: beamWidth, maxLength: maxOutputLength)[0])
            }
        }
        return zip(tokenized, zip(ids, decoded)).map { tokens, pair in
            let (ids, d) = pair
            let output = targetVocabulary.tokenStrings(d.tokens)
            return Translation(sourceTokens: tokens, unknownSourceTokens: ids.filter { $0 == TranslationVocabulary.unknownID }.count,
                               tokens: output, text: targetVocabulary.level.join(output), finished: d.finished,
                               logProbability: d.logProbability, attention: d.attention)
        }
    }

    /// Exact match and corpus BLEU-4 of the translations of `pairs` against their targets.
    public func evaluate(_ pairs: [TranslationPair], beamWidth: Int = 1) -> TranslationScores {
        let translations = translate(pairs.map(\.source), beamWidth: beamWidth)
        return TranslationScores(hypotheses: translations.map(\.tokens),
                                 references: pairs.map { targetVocabulary.level.tokens(of: $0.target) })
    }

    /// The attention weights of one translation as a heatmap (rows: output tokens and `</s>`; columns:
    /// source tokens; a space is shown as `␣`).
    /// - Throws: `TranslationError.noAttention` when the model has no attention.
    public func attentionHeatmap(of translation: Translation, title: String? = nil) throws -> SVGHeatmap {
        guard let weights = translation.attention else { throw TranslationError.noAttention }
        let rows = weights.shape[0], columns = weights.shape[1]
        func label(_ token: String) -> String { token == " " ? "␣" : token }
        let rowLabels = (translation.tokens + [TranslationVocabulary.endToken]).prefix(rows).map(label)
        let source = sourceVocabulary.level.join(translation.sourceTokens)
        return try SVGHeatmap(title: title ?? "Attention while translating \u{201C}\(source)\u{201D}",
                              values: (0..<rows).map { i in (0..<columns).map { Double(weights[i, $0]) } },
                              rowLabels: rowLabels, columnLabels: translation.sourceTokens.map(label),
                              xLabel: "source token j", yLabel: "output step i")
    }
}

/// Exact match and BLEU of hypotheses against references (token lists at the model's level).
public struct TranslationScores: Codable, Equatable, Sendable {
    public var count: Int
    /// Hypotheses equal to their reference token for token.
    public var exactMatches: Int
    /// `exactMatches / count` (0 for no pairs).
    public var exactMatch: Double
    /// Corpus BLEU-4 (see `BLEU`) on the level's tokens: words, or characters at character level.
    public var bleu: Double

    public init(hypotheses: [[String]], references: [[String]]) {
        count = hypotheses.count
        exactMatches = zip(hypotheses, references).filter { $0 == $1 }.count
        exactMatch = count == 0 ? 0 : Double(exactMatches) / Double(count)
        bleu = count == 0 ? 0 : BLEU(hypotheses: hypotheses, references: references).score
    }
}

/// A translation request that cannot be served.
public enum TranslationError: Error, LocalizedError, Equatable, Sendable {
    /// An attention heatmap was asked of a model without attention.
    case noAttention
    /// A source to translate has no token (`line` from 1 in its input).
    case emptySource(input: String, line: Int)

    public var errorDescription: String? {
        switch self {
        case .noAttention:
            return "the model has no attention (trained with --no-attention), so there is no heatmap to draw"
        case let .emptySource(input, line):
            return "\(input), line \(line): empty source"
        }
    }
}
