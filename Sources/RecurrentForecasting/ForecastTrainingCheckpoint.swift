import Foundation
import RecurrentCore
import RecurrentOptim

/// Where a forecasting run stands after an epoch (a resumable checkpoint's `state.json`).
public struct ForecastTrainingState: ResumableTrainingState, Equatable, Sendable {
    public static var checkpointFormat: String { "recurrent.forecast-training-checkpoint" }
    /// Batches and epochs done; the batch-order generator continues the initialisation's.
    public var progress: TrainingProgress
    /// The training origins in the order of the last epoch; each epoch shuffles this order again.
    public var order: [Int]
    /// The epoch with the lowest validation loss so far (0: none yet) and that loss.
    public var bestEpoch: Int
    public var bestLoss: Double?
}

/// A resumable checkpoint of `ForecastTrainer` (`<run>/checkpoints/step-…`, see `ResumableCheckpoint`;
/// `data` holds `csv`, the file the series was read from).
public typealias ForecastTrainingCheckpoint = ResumableCheckpoint<ForecastConfiguration, ForecastTrainingState>

extension ForecastSeries {
    /// A `Fingerprint` of the channel names and every value: what a checkpoint stores to check, on
    /// resume, that the series is the one it trained on.
    public var fingerprint: UInt64 {
        var hash = Fingerprint()
        hash.mix(channelCount)
        hash.mix(count)
        for name in names { hash.mix(name) }
        for channel in channels { for value in channel { hash.mix(value) } }
        return hash.value
    }
}
