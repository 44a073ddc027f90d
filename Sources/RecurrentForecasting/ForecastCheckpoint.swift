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

    private struct FormatHeader: Decodable {
        var format: String?
        var formatVersion: Int?
    }

    /// Writes `forecaster` to `directory` (created if needed).
    /// - Throws: `FileWriteError` when a file cannot be written.
    public static func save(_ forecaster: Forecaster, to directory: URL, split: SeriesSplit? = nil,
                            test: ForecastComparison? = nil) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw FileWriteError(path: directory.path, reason: "creating directory: \(error.localizedDescription)")
        }
        try forecaster.model.save(to: directory.appendingPathComponent(modelFile), metadata: ["format": format])
        let contents = Contents(format: format, formatVersion: formatVersion, configuration: forecaster.configuration,
                                normalizer: forecaster.normalizer, season: forecaster.season, interval: forecaster.interval,
                                split: split, test: test)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(contents), to: directory.appendingPathComponent(configurationFile))
    }

    /// Loads the forecaster saved in `directory`.
    /// - Throws: `CheckpointError` naming the missing or bad file.
    public static func load(from directory: URL) throws -> (forecaster: Forecaster, contents: Contents) {
        let directory = directory.standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else {
            throw CheckpointError.notFound(path: directory.path)
        }
        let configurationURL = isDirectory.boolValue ? directory.appendingPathComponent(configurationFile) : directory
        let folder = configurationURL.deletingLastPathComponent()
        let modelURL = folder.appendingPathComponent(modelFile)
        guard FileManager.default.fileExists(atPath: configurationURL.path) else {
            throw CheckpointError.missingFile(path: configurationURL.path)
        }
        let data: Data
        do { data = try Data(contentsOf: configurationURL) } catch {
            throw CheckpointError.malformed(path: configurationURL.path, reason: "cannot read it (\(error.localizedDescription))")
        }
        let header: FormatHeader
        do { header = try JSONDecoder().decode(FormatHeader.self, from: data) } catch {
            throw CheckpointError.malformed(path: configurationURL.path, reason: "not JSON (\(describe(error)))")
        }
        guard header.format == format, let version = header.formatVersion else {
            throw CheckpointError.unsupportedVersion(path: configurationURL.path,
                                                     found: header.format.map { "'\($0)'" } ?? "none", supported: formatVersion)
        }
        guard version == formatVersion else {
            throw CheckpointError.unsupportedVersion(path: configurationURL.path, found: "version \(version)", supported: formatVersion)
        }
        let contents: Contents
        do {
            contents = try JSONDecoder().decode(Contents.self, from: data)
            try contents.configuration.validate()
            let n = contents.normalizer
            guard n.means.count == contents.configuration.model.channelCount, n.scales.count == n.means.count,
                  (n.means + n.scales).allSatisfy(\.isFinite), n.scales.allSatisfy({ $0 > 0 }) else {
                throw CheckpointError.malformed(path: configurationURL.path, reason: "the normaliser does not fit the model")
            }
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError.malformed(path: configurationURL.path, reason: describe(error))
        }
        var scratch = RandomGenerator(seed: 0)
        let model = try ForecastModel(contents.configuration.model, using: &scratch)
        guard FileManager.default.fileExists(atPath: modelURL.path) else { throw CheckpointError.missingFile(path: modelURL.path) }
        let weights: [String: Tensor]
        do { weights = try SafetensorsFile(contentsOf: modelURL).tensors() } catch {
            throw CheckpointError.malformed(path: modelURL.path, reason: describe(error))
        }
        do { try model.loadStateDict(weights, strict: true) } catch {
            throw CheckpointError.weightsMismatch(path: modelURL.path, reason: describe(error))
        }
        model.isTraining = false
        let forecaster = Forecaster(configuration: contents.configuration, model: model, normalizer: contents.normalizer,
                                    season: contents.season, interval: contents.interval)
        return (forecaster, contents)
    }

    private static func describe(_ error: Error) -> String {
        if let error = error as? DecodingError {
            switch error {
            case .keyNotFound(let key, _): return "missing field '\(key.stringValue)'"
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
                let path = context.codingPath.map(\.stringValue).joined(separator: ".")
                return path.isEmpty ? context.debugDescription : "field '\(path)': \(context.debugDescription)"
            @unknown default: return "\(error)"
            }
        }
        return (error as? LocalizedError)?.errorDescription ?? "\(error)"
    }
}
