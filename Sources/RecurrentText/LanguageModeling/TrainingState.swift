import Foundation
import RecurrentCore
import RecurrentOptim

/// The bookkeeping of a training run that is not weights or optimizer state: where the data stream
/// is, how long it has trained, the random generators, the best validation loss and the metrics so
/// far, and the state of the divergence rule. Saved as a checkpoint's `state.json`; together with the weights, the optimizer state and the
/// carried hidden state it lets a resumed run continue bit for bit.
public struct TrainingState: Codable, Equatable, Sendable {
    /// Optimizer steps done.
    public var step: Int
    /// The next training batch's epoch and window.
    public var position: StreamBatcher.Position
    /// Training time so far in seconds (see `TrainingConfiguration.timeBudget`).
    public var trainingSeconds: Double
    /// The lowest validation loss so far and the step it was measured at.
    public var bestValidationLoss: Double?
    public var bestStep: Int?
    /// The generator that dropout draws its masks from (the model's `dropoutGenerator` while training).
    public var dropoutGenerator: RandomGenerator
    /// The generator handed to the sample hook at each evaluation.
    public var samplingGenerator: RandomGenerator
    /// One row per evaluation, oldest first (`metrics.csv`).
    public var history: [TrainingMetricsRow]
    /// The divergence rule's state after `step` (nil in checkpoints written before it was saved:
    /// the resumed run then takes its first step as the start).
    public var divergence: DivergenceMonitor?

    public init(step: Int = 0, position: StreamBatcher.Position = .init(), trainingSeconds: Double = 0,
                bestValidationLoss: Double? = nil, bestStep: Int? = nil, dropoutGenerator: RandomGenerator,
                samplingGenerator: RandomGenerator, history: [TrainingMetricsRow] = []) {
        self.step = step
        self.position = position
        self.trainingSeconds = trainingSeconds
        self.bestValidationLoss = bestValidationLoss
        self.bestStep = bestStep
        self.dropoutGenerator = dropoutGenerator
        self.samplingGenerator = samplingGenerator
        self.history = history
    }

    private enum CodingKeys: String, CodingKey {
        case step, position, trainingSeconds, bestValidationLoss, bestStep, dropoutGenerator, samplingGenerator, history, divergence
    }

    // Generators are written as four 16-digit hexadecimal words, so that no JSON reader can round them.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        step = try container.decode(Int.self, forKey: .step)
        position = try container.decode(StreamBatcher.Position.self, forKey: .position)
        trainingSeconds = try container.decode(Double.self, forKey: .trainingSeconds)
        bestValidationLoss = try container.decodeIfPresent(Double.self, forKey: .bestValidationLoss)
        bestStep = try container.decodeIfPresent(Int.self, forKey: .bestStep)
        dropoutGenerator = try container.decode(HexEncoded.self, forKey: .dropoutGenerator).wrappedValue
        samplingGenerator = try container.decode(HexEncoded.self, forKey: .samplingGenerator).wrappedValue
        history = try container.decode([TrainingMetricsRow].self, forKey: .history)
        divergence = try container.decodeIfPresent(DivergenceMonitor.self, forKey: .divergence)
        guard step >= 0, trainingSeconds >= 0, trainingSeconds.isFinite else {
            throw DecodingError.dataCorruptedError(forKey: .step, in: container,
                debugDescription: "step and trainingSeconds must be non-negative")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(step, forKey: .step)
        try container.encode(position, forKey: .position)
        try container.encode(trainingSeconds, forKey: .trainingSeconds)
        try container.encodeIfPresent(bestValidationLoss, forKey: .bestValidationLoss)
        try container.encodeIfPresent(bestStep, forKey: .bestStep)
        try container.encode(HexEncoded(wrappedValue: dropoutGenerator), forKey: .dropoutGenerator)
        try container.encode(HexEncoded(wrappedValue: samplingGenerator), forKey: .samplingGenerator)
        try container.encode(history, forKey: .history)
        try container.encodeIfPresent(divergence, forKey: .divergence)
    }
}
