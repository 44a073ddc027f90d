import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim

/// The loss of a language model over a whole token stream.
public struct LanguageModelEvaluation: Codable, Equatable, Sendable {
    /// The mean cross-entropy per predicted token, in nats (natural log).
    public var loss: Double
    /// The same loss in bits: `loss / ln 2` (bits per character at character level).
    public var bitsPerToken: Double
    /// How many predictions were averaged: `tokens.count − 1`.
    public var predictions: Int

    public init(loss: Double, predictions: Int) {
        self.loss = loss
        self.bitsPerToken = loss / M_LN2
        self.predictions = predictions
    }
}

extension LanguageModel {
    /// The mean next-token cross-entropy of this model over `tokens`, every prediction counted once.
    ///
    /// The stream is cut by `EvaluationBatches` into `batchSize` contiguous rows read window by
    /// window (`(batchSize, sequenceLength)` batches); the hidden state is carried from each window to
    /// the next, starting from the zero state, so every row is read as one long sequence. The result
    /// does not depend on `sequenceLength` (only on `batchSize`, which decides where rows start with a
    /// zero state). Runs in evaluation mode (no dropout) without recording gradients; the model's
    /// training mode is restored afterwards.
    ///
    /// - Throws: `ConfigurationError` when a size is not positive or above `SizeLimits.maximumDimension`,
    ///   the stream has fewer than 2 tokens,
    ///   or a token id is outside `0..<vocabularySize`.
    public func evaluate(tokens: [Int], batchSize: Int, sequenceLength: Int) throws -> LanguageModelEvaluation {
        try ConfigurationError.requireSize(batchSize, "batchSize")
        try ConfigurationError.requireSize(sequenceLength, "sequenceLength")
        try ConfigurationError.require(tokens.count >= 2, "tokens", "evaluation needs at least 2 tokens, got \(tokens.count)")
        let vocabularySize = configuration.vocabularySize
        if let bad = tokens.first(where: { $0 < 0 || $0 >= vocabularySize }) {
            throw ConfigurationError(argument: "tokens", reason: "id \(bad) is outside the model's vocabulary 0..<\(vocabularySize)")
        }
        let batches = EvaluationBatches(tokens: tokens, batchSize: batchSize, sequenceLength: sequenceLength)
        let wasTraining = isTraining
        isTraining = false
        defer { isTraining = wasTraining }
        var total = 0.0
        GradientMode.withoutGradients {
            var state: RecurrentLayerState? = nil
            for batch in batches {
                let (logits, next) = self(batch.inputs, batchSize: batch.batchSize, sequenceLength: batch.sequenceLength,
                                          state: state)
                let sum = crossEntropy(logits: logits, targets: batch.targets, ignoreIndex: TextBatch.ignoreIndex,
                                       reduction: .sum)
                total += Double(sum.value.scalar)
                state = next
            }
        }
        return LanguageModelEvaluation(loss: total / Double(batches.targetTotal), predictions: batches.targetTotal)
    }
}
