import Foundation
import RecurrentCore
import RecurrentOptim

/// What a classification run trains: the classifier's shape with its vocabulary and labels, and how
/// it trains (the configuration of a `TextClassificationTrainingCheckpoint`).
public struct TextClassificationRun: Codable, Equatable, Sendable {
    public var model: TextClassifierConfiguration
    public var vocabulary: ClassificationVocabulary
    public var labels: [String]
    public var maxLength: Int?
    public var training: TextClassificationTrainingConfiguration
}

/// Where a classification run stands after an epoch (a resumable checkpoint's `state.json`).
public struct TextClassificationTrainingState: ResumableTrainingState, Equatable, Sendable {
    public static var checkpointFormat: String { "recurrent.classify-training-checkpoint" }

    /// The best epoch so far (by validation accuracy, then loss).
    public struct Best: Codable, Equatable, Sendable {
        public var epoch: Int
        public var accuracy: Double
        public var loss: Double
    }

    /// Batches and epochs done, the batch-order generator.
    public var progress: TrainingProgress
    /// The dropout masks' generators: the pooled vector's and the stacked layers'.
    @HexEncoded public var pooledDropout: RandomGenerator
    @HexEncoded public var layerDropout: RandomGenerator
    /// nil without a validation set.
    public var best: Best?
}

/// A resumable checkpoint of `TextClassificationTrainer` (`<run>/checkpoints/step-…`, see
/// `ResumableCheckpoint`; `data` holds how the CLI read and split the texts).
public typealias TextClassificationTrainingCheckpoint = ResumableCheckpoint<TextClassificationRun, TextClassificationTrainingState>

extension TextClassificationDataset {
    /// A `Fingerprint` of the labels and every example's token ids and class: what a checkpoint
    /// stores to check, on resume, that the training and validation sets are the same.
    static func fingerprint(_ training: TextClassificationDataset, _ validation: TextClassificationDataset?) -> UInt64 {
        var hash = Fingerprint()
        for data in [training, validation] {
            guard let data else { hash.mix(-1); continue }
            hash.mix(data.labels.count)
            for label in data.labels { hash.mix(label) }
            hash.mix(data.count)
            for example in data.examples {
                hash.mix(example.label)
                hash.mix(example.ids.count)
                for id in example.ids { hash.mix(id) }
            }
        }
        return hash.value
    }
}
