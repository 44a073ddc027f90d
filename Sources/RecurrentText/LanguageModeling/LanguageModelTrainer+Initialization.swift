import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentFormats

extension LanguageModelTrainer {
    /// A new run's model after PyTorch's default draw: the configured initialisation scheme and forget
    /// bias (drawing from `rng` only for `.orthogonal`, so a default run is unchanged bit for bit), then
    /// the embedding's freezing.
    static func prepare(_ model: LanguageModel, for configuration: TrainingConfiguration,
                        using rng: inout RandomGenerator) throws {
        try initialize(model, scheme: configuration.initialization ?? .pytorch, forgetBias: configuration.forgetBias,
                       using: &rng)
        model.embedding.weight.requiresGrad = configuration.freezeEmbeddings != true
    }

    /// Copies pretrained word vectors into the embedding rows of the corpus's vocabulary (see
    /// `Embedding.load(_:vocabulary:source:)`) and records `source` in the configuration (and so in
    /// every checkpoint). Only before the first step of a new run: a resumed run has its weights.
    /// - Throws: `ConfigurationError` when the run has started or was resumed, or the vectors' dimension
    ///   is not the embedding size.
    @discardableResult
    public func loadPretrainedEmbeddings(_ vectors: WordVectors, source: String) throws -> PretrainedEmbeddingReport {
        try ConfigurationError.require(!isResumed && state.step == 0, "pretrainedEmbeddings",
                                       "can be loaded only before the first step of a new run")
        let report = try model.embedding.load(vectors, vocabulary: corpus.vocabulary, source: source)
        configuration.pretrainedEmbeddings = source
        return report
    }
}
