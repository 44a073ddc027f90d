import Foundation
import RecurrentCore
import RecurrentOptim

/// Where a forecasting run stands after an epoch (a resumable checkpoint's `state.json`).
public struct ForecastTrainingState: ResumableTrainingState, Equatable, Sendable {
    /// Optimizer steps (batches) done.
    public var step: Int
    /// Epochs done.
    public var epoch: Int
    /// The training origins in the order of the last epoch; each epoch shuffles this order again.
    public var order: [Int]
    /// The generator of the batch order (after the model's initialisation drew from it).
    @HexEncoded public var generator: RandomGenerator
    /// The epoch with the lowest validation loss so far (0: none yet) and that loss.
    public var bestEpoch: Int
    public var bestLoss: Double?
    /// The divergence rule's state.
    public var divergence: DivergenceMonitor
}

/// A resumable checkpoint of `ForecastTrainer` (`<run>/checkpoints/step-…`, see `ResumableCheckpoint`;
/// `data` holds `csv`, the file the series was read from).
public typealias ForecastTrainingCheckpoint = ResumableCheckpoint<ForecastConfiguration, ForecastTrainingState>

extension ResumableCheckpoint where Configuration == ForecastConfiguration, State == ForecastTrainingState {
    /// The `format` of a forecasting run's `config.json`.
    public static var forecastFormat: String { "recurrent.forecast-training-checkpoint" }

    /// Loads the latest checkpoint of the run directory `url` (or the checkpoint directory `url`).
    /// - Throws: `CheckpointError` naming the missing or bad file.
    public static func load(from url: URL) throws -> Self { try load(from: url, format: forecastFormat) }
}

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
