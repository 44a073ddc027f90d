import Foundation
import RecurrentCore
import RecurrentLayers
import RecurrentFormats
import RecurrentOptim

/// A trained forecaster on disk. The directory holds:
///
/// | file | contents |
/// | --- | --- |
/// | `config.json` | `format`, `formatVersion`, the `ForecastConfiguration`, the normaliser (training-split statistics), the season, the prediction interval, the split and the test scores |
/// | `model.safetensors` | the weights under their state-dict names (`rnn.weight_ih_l0`, `head.weight`, ... or `narx.hidden.weight`, ...), F32 |
///
/// Both files are written atomically (the weights first, so a `config.json` is never newer than its
/// weights). Loading checks both and reports the first problem as a one-line `CheckpointError`.
public enum ForecastCheckpoint {
    /// The `format` value of `config.json`.
    public static let format = "recurrent.forecast-checkpoint"
    public static let formatVersion = 1
    public static let configurationFile = "config.json"
    public static let modelFile = "model.safetensors"

    /// The contents of `config.json`.
    public struct Contents: Codable, Sendable {
        public var format: String
        public var formatVersion: Int
        public var configuration: ForecastConfiguration
        public var normalizer: SeriesNormalizer
        public var season: SeasonEstimate
        public var interval: PredictionInterval?
        /// The split of the training data and the test scores (informational).
        public var split: SeriesSplit?
        public var test: ForecastComparison?
    }

    /// Writes `forecaster` to `directory` (created if needed).
    /// - Throws: `FileWriteError` when a file cannot be written.
    public static func save(_ forecaster: Forecaster, to directory: URL, split: SeriesSplit? = nil,
                            test: ForecastComparison? = nil) throws {
        let contents = Contents(format: format, formatVersion: formatVersion, configuration: forecaster.configuration,
                                normalizer: forecaster.normalizer, season: forecaster.season, interval: forecaster.interval,
                                split: split, test: test)
        try writeModelCheckpoint(forecaster.model, contents: contents, to: directory, configurationFile: configurationFile,
                                 modelFile: modelFile, format: format)
    }

    /// Loads the forecaster saved in `directory`: checks `config.json` (`Contents.validate()`), then
    /// the weights' names and shapes against the configured model before building it, and every
    /// weight for finiteness.
    /// - Throws: `CheckpointError` naming the missing or bad file.
    public static func load(from directory: URL) throws -> (forecaster: Forecaster, contents: Contents) {
        let (contents, configurationURL, modelURL) = try ModelCheckpointFiles.readConfiguration(
            Contents.self, at: directory, configurationFile: configurationFile, modelFile: modelFile, format: format,
            formatVersion: formatVersion)
        do { try contents.validate() } catch {
            throw CheckpointError.malformed(path: configurationURL.path, reason: CheckpointError.describe(error))
        }
        let model = try ModelCheckpointFiles.loadModel(weightsAt: modelURL, configurationURL: configurationURL,
                                                       expecting: contents.configuration.model.parameterShapes) {
            var scratch = RandomGenerator(seed: 0)
            return try ForecastModel(contents.configuration.model, using: &scratch)
        }
        let forecaster = Forecaster(configuration: contents.configuration, model: model, normalizer: contents.normalizer,
                                    season: contents.season, interval: contents.interval)
        return (forecaster, contents)
    }
}

extension ForecastCheckpoint.Contents {
    /// Throws a `ConfigurationError` naming the first field of `config.json` that cannot be used: the
    /// configuration's own rules, a normaliser that does not fit the channels (or is not finite, or
    /// has a scale that is not positive), a season below 1, or a prediction interval whose level is
    /// not in (0, 1) or whose offsets are not finite, one per horizon step, lower ≤ 0 ≤ upper.
    public func validate() throws {
        try configuration.validate()
        let channels = configuration.model.channelCount, n = normalizer
        try ConfigurationError.require(n.means.count == channels && n.scales.count == channels, "normalizer",
                                       "needs \(channels) means and scales (one per channel), got \(n.means.count) and \(n.scales.count)")
        try ConfigurationError.require(n.means.allSatisfy(\.isFinite), "normalizer.means", "must be finite")
        try ConfigurationError.require(n.scales.allSatisfy { $0.isFinite && $0 > 0 }, "normalizer.scales", "must be positive and finite")
        try ConfigurationError.require(season.period >= 1, "season.period", "must be positive, got \(season.period)")
        guard let interval else { return }
        try ConfigurationError.require(interval.level > 0 && interval.level < 1, "interval.level",
                                       "must be in (0, 1), got \(interval.level)")
        let horizon = configuration.model.horizon
        try ConfigurationError.require(interval.lower.count == horizon && interval.upper.count == horizon, "interval",
                                       "needs \(horizon) lower and upper offsets (one per horizon step), got \(interval.lower.count) and \(interval.upper.count)")
        try ConfigurationError.require(zip(interval.lower, interval.upper).allSatisfy { $0.isFinite && $1.isFinite && $0 <= 0 && 0 <= $1 },
                                       "interval", "offsets must be finite with lower ≤ 0 ≤ upper")
    }
}
