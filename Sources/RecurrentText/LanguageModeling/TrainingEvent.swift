import Foundation
import RecurrentCore

/// What a `LanguageModelTrainer` reports while it trains, for a command line or any other observer.
/// The library prints nothing; the caller decides what to show.
///
/// Order: `started`, then `step` after every optimizer step, `evaluated` after every evaluation
/// (every `evaluateEvery` steps and when training stops), `checkpointWritten` after each checkpoint
/// (when there is an output directory), and `finished` once at the end.
public enum TrainingEvent: Sendable {
    case started(TrainingStart)
    case step(TrainingStepReport)
    case evaluated(TrainingEvaluationReport)
    case checkpointWritten(CheckpointReport)
    case finished(TrainingSummary)
}

/// Sent when `train` begins.
public struct TrainingStart: Sendable {
    /// True when the trainer continues from a checkpoint.
    public var resumed: Bool
    /// Steps already done (0 for a new run).
    public var step: Int
    /// Windows (batches, steps) per epoch.
    public var windowsPerEpoch: Int
    /// Tokens per step, batchSize · sequenceLength.
    public var tokensPerStep: Int
    /// The number of scalar weights of the model.
    public var parameterCount: Int
    /// Tokens in the training and validation parts.
    public var trainingTokens: Int
    public var validationTokens: Int
}

/// Sent after every optimizer step. Cheap to build: nothing here needs an extra pass over the data.
public struct TrainingStepReport: Sendable {
    /// The epoch this step belonged to, from 0.
    public var epoch: Int
    /// Steps done in total (from 1 after the first step).
    public var step: Int
    /// The window of this step within its epoch, from 0, and the number of windows per epoch.
    public var window: Int
    public var windowsPerEpoch: Int
    /// The mean cross-entropy of this step's batch (nats per token), before the update.
    public var trainLoss: Float
    /// The learning rate used by this step.
    public var learningRate: Float
    /// Training tokens per second of training time, over the whole run so far.
    public var tokensPerSecond: Double
    /// Training time so far in seconds (see `TrainingConfiguration.timeBudget`), including before a resume.
    public var trainingSeconds: Double
    /// How far the run is towards its nearest stopping limit, in `[0, 1]` (the largest of
    /// steps / maxSteps, epochs done / epochs, training time / timeBudget); for an ETA.
    public var fractionComplete: Double
}

/// Sent after every evaluation. Encodes to JSON with snake-case keys (`val_loss`, `val_bpc`, ...).
public struct TrainingEvaluationReport: Codable, Sendable {
    /// Steps done in total.
    public var step: Int
    /// Epochs done, with the fraction of the current one (`epoch + window / windowsPerEpoch`).
    public var epoch: Double
    /// The mean training loss of the steps since the previous evaluation (nats per token).
    public var trainLoss: Double
    /// The validation loss (nats per token) and in bits per token; nil without a validation part.
    public var validationLoss: Double?
    public var validationBitsPerToken: Double?
    /// True when this is the lowest validation loss so far (this checkpoint becomes `best`).
    public var isBest: Bool
    /// The lowest validation loss so far, including this one.
    public var bestValidationLoss: Double?
    /// The learning rate of the last step.
    public var learningRate: Float
    /// Training tokens per second of training time, over the whole run.
    public var tokensPerSecond: Double
    /// Training time so far in seconds.
    public var trainingSeconds: Double
    /// Wall-clock seconds the evaluation itself took (not counted as training time).
    public var evaluationSeconds: Double
    /// The text returned by the trainer's `sampleHook`, if one is set.
    public var sample: String?

    enum CodingKeys: String, CodingKey {
        case step, epoch
        case trainLoss = "train_loss"
        case validationLoss = "val_loss"
        case validationBitsPerToken = "val_bpc"
        case isBest = "is_best"
        case bestValidationLoss = "best_val_loss"
        case learningRate = "lr"
        case tokensPerSecond = "tokens_per_s"
        case trainingSeconds = "seconds"
        case evaluationSeconds = "eval_seconds"
        case sample
    }
}

/// Sent after a checkpoint has been written completely.
public struct CheckpointReport: Sendable {
    /// The checkpoint's directory (`<out>/checkpoints/step-…`).
    public var directory: URL
    public var step: Int
    /// True when the checkpoint is also the new `best`.
    public var isBest: Bool
}

/// Why training stopped.
public enum StopReason: String, Codable, Sendable {
    case epochs, timeBudget = "time_budget", maxSteps = "max_steps", requested
}

/// The result of `train`, also sent as the `finished` event. Encodes to JSON with the keys of
/// `recurrent train --json`: `val_loss` (nats per token), `val_bpc`, `tokens_per_s`, `steps`, `seconds`, ...
public struct TrainingSummary: Codable, Sendable {
    /// The validation loss at the end (nats per token) and in bits; nil without a validation part.
    public var validationLoss: Double?
    public var validationBitsPerToken: Double?
    /// The lowest validation loss of the run and its step.
    public var bestValidationLoss: Double?
    public var bestStep: Int?
    /// The mean training loss since the previous evaluation.
    public var trainLoss: Double?
    /// Training tokens per second of training time.
    public var tokensPerSecond: Double
    /// Steps done in total (including before a resume).
    public var steps: Int
    /// Epochs done, with the fraction of the current one.
    public var epochs: Double
    /// Training time in seconds (see `TrainingConfiguration.timeBudget`), including before a resume.
    public var seconds: Double
    /// Wall-clock seconds of this call to `train`, including evaluations and checkpoints.
    public var wallSeconds: Double
    public var stopReason: StopReason
    /// The last checkpoint's directory, when there is an output directory.
    public var checkpoint: String?

    enum CodingKeys: String, CodingKey {
        case validationLoss = "val_loss"
        case validationBitsPerToken = "val_bpc"
        case bestValidationLoss = "best_val_loss"
        case bestStep = "best_step"
        case trainLoss = "train_loss"
        case tokensPerSecond = "tokens_per_s"
        case steps, epochs, seconds
        case wallSeconds = "wall_seconds"
        case stopReason = "stop_reason"
        case checkpoint
    }
}

/// One row of `metrics.csv`: the state of the run at one evaluation.
public struct TrainingMetricsRow: Codable, Equatable, Sendable {
    public var step: Int
    /// Epochs done, with the fraction of the current one.
    public var epoch: Double
    /// The mean training loss since the previous evaluation (nats per token).
    public var trainLoss: Double
    public var validationLoss: Double?
    public var validationBitsPerToken: Double?
    public var tokensPerSecond: Double
    /// Training time so far in seconds.
    public var trainingSeconds: Double
    public var learningRate: Float

    public init(step: Int, epoch: Double, trainLoss: Double, validationLoss: Double?, validationBitsPerToken: Double?,
                tokensPerSecond: Double, trainingSeconds: Double, learningRate: Float) {
        self.step = step
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.validationLoss = validationLoss
        self.validationBitsPerToken = validationBitsPerToken
        self.tokensPerSecond = tokensPerSecond
        self.trainingSeconds = trainingSeconds
        self.learningRate = learningRate
    }

    /// The header line of `metrics.csv`.
    public static let csvHeader = "step,epoch,train_loss,val_loss,val_bpc,tokens_per_s,elapsed_s,learning_rate"

    /// This row as a CSV line (empty fields for a missing validation loss).
    public var csvLine: String {
        func number(_ value: Double?, _ digits: Int) -> String {
            guard let value, value.isFinite else { return value.map { "\($0)" } ?? "" }
            return String(format: "%.\(digits)f", value)
        }
        return [String(step), number(epoch, 4), number(trainLoss, 6), number(validationLoss, 6),
                number(validationBitsPerToken, 6), number(tokensPerSecond, 1), number(trainingSeconds, 6),
                "\(learningRate)"].joined(separator: ",")
    }
}
