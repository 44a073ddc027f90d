import Foundation
import RecurrentCore
import RecurrentOptim

extension ParallelCorpus {
    /// A `Fingerprint` of the level and every pair: what a checkpoint stores to check, on resume,
    /// that the corpus is the one it trained on.
    public var fingerprint: UInt64 {
        var hash = Fingerprint()
        hash.mix(level.rawValue)
        hash.mix(pairs.count)
        for pair in pairs {
            hash.mix(pair.source)
            hash.mix(pair.target)
        }
        return hash.value
    }
}

/// Where a translation run stands after a step (a resumable checkpoint's `state.json`).
public struct TranslationTrainingState: ResumableTrainingState, Equatable, Sendable {
    public static var checkpointFormat: String { "recurrent.translation-training-checkpoint" }

    /// Steps done, epochs begun; `progress.generator` is the batch-order generator as it was
    /// before the current epoch's shuffle, so that the order is drawn again on resume.
    public var progress: TrainingProgress
    /// Pairs of the current epoch's order already used.
    public var position: Int
    /// The losses summed since the last report, and how many (the next report's mean).
    public var lossSum: Float
    public var lossCount: Int
    /// The mean loss of the last report (nil before the first).
    public var lastLoss: Float?
}

/// A resumable checkpoint of `TranslationTrainer` (`<run>/checkpoints/step-…`, see
/// `ResumableCheckpoint`; `data` holds `pairs`, the file the corpus was read from).
public typealias TranslationTrainingCheckpoint = ResumableCheckpoint<TranslationConfiguration, TranslationTrainingState>
