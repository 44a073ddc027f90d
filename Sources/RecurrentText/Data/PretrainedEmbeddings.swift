import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentFormats

/// What `Embedding.load(_:vocabulary:)` found.
public struct PretrainedEmbeddingReport: Codable, Equatable, Sendable {
    /// Vocabulary tokens whose row was copied from the vectors (exactly or by lower case).
    public var found: Int
    /// Of `found`, the tokens matched only through their lower-case form (GloVe's vocabularies are lower case).
    public var foundByLowercase: Int
    /// Vocabulary tokens that kept their initialisation.
    public var missing: Int
    /// The vocabulary's size: `found + missing`.
    public var vocabularySize: Int

    public init(found: Int, foundByLowercase: Int, missing: Int, vocabularySize: Int) {
        self.found = found
        self.foundByLowercase = foundByLowercase
        self.missing = missing
        self.vocabularySize = vocabularySize
    }
}

extension Embedding {
    /// Copies pretrained vectors into the rows of the vocabulary's tokens; rows of tokens the vectors
    /// lack keep their values. A token is looked up as it is, then in lower case ("The" takes the
    /// vector of "the" when the file has no "The"). `<unk>` (row 0 at word level) takes the file's
    /// `<unk>` vector if it has one.
    /// - Throws: `ConfigurationError` naming `embeddingSize` when the vectors' dimension differs from
    ///   the embedding's, or `vocabulary` when it does not have one token per row.
    @discardableResult
    public func load(_ vectors: WordVectors, vocabulary: Vocabulary, source: String = "the vectors") throws
        -> PretrainedEmbeddingReport {
        try ConfigurationError.require(vectors.dimension == dimension, "embeddingSize",
                                       "is \(dimension), but \(source) holds vectors of dimension \(vectors.dimension)")
        try ConfigurationError.require(vocabulary.count == count, "vocabulary",
                                       "has \(vocabulary.count) tokens for an embedding of \(count) rows")
        var found = 0, byLowercase = 0
        var table = weight.value
        let d = dimension
        table.scalars.withUnsafeMutableBufferPointer { rows in
            for (id, token) in vocabulary.tokens.enumerated() {
                var row = vectors.index(of: token)
                if row == nil, case let lower = token.lowercased(), lower != token, let r = vectors.index(of: lower) {
                    row = r
                    byLowercase += 1
                }
                guard let row else { continue }
                found += 1
                let vector = vectors.vector(at: row)
                for (j, x) in vector.enumerated() { rows[id * d + j] = x }
            }
        }
        weight.value = table
        return PretrainedEmbeddingReport(found: found, foundByLowercase: byLowercase, missing: count - found,
                                         vocabularySize: count)
    }
}
