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

    /// Loads the forecaster saved in `directory`.
    /// - Throws: `CheckpointError` naming the missing or bad file.
    public static func load(from directory: URL) throws -> (forecaster: Forecaster, contents: Contents) {
        let (contents, configurationURL, modelURL) = try ModelCheckpointFiles.readConfiguration(
            Contents.self, at: directory, configurationFile: configurationFile, modelFile: modelFile, format: format,
            formatVersion: formatVersion)
        do {
            try contents.configuration.validate()
            let n = contents.normalizer
            guard n.means.count == contents.configuration.model.channelCount, n.scales.count == n.means.count,
                  (n.means + n.scales).allSatisfy(\.isFinite), n.scales.allSatisfy({ $0 > 0 }) else {
                throw CheckpointError.malformed(path: configurationURL.path, reason: "the normaliser does not fit the model")
            }
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError.malformed(path: configurationURL.path, reason: CheckpointError.describe(error))
        }
        var scratch = RandomGenerator(seed: 0)
        let model = try ForecastModel(contents.configuration.model, using: &scratch)
        guard FileManager.default.fileExists(atPath: modelURL.path) else { throw CheckpointError.missingFile(path: modelURL.path) }
        let weights: [String: Tensor]
        do { weights = try SafetensorsFile(contentsOf: modelURL).tensors() } catch {
            throw CheckpointError.malformed(path: modelURL.path, reason: CheckpointError.describe(error))
        }
        do { try model.loadStateDict(weights, strict: true) } catch {
            throw CheckpointError.weightsMismatch(path: modelURL.path, reason: CheckpointError.describe(error))
        }
        model.isTraining = false
        let forecaster = Forecaster(configuration: contents.configuration, model: model, normalizer: contents.normalizer,
                                    season: contents.season, interval: contents.interval)
        return (forecaster, contents)
    }

}
