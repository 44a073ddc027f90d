import Foundation
import RecurrentCore
import RecurrentLayers
import RecurrentFormats

/// The progress part of a `ResumableCheckpoint`: what a trainer needs besides the weights and the
/// optimizer state to continue exactly where it stopped (its `state.json`).
public protocol ResumableTrainingState: Codable {
    /// The `format` of the checkpoint's `config.json` ("recurrent.forecast-training-checkpoint").
    static var checkpointFormat: String { get }
    /// The counters, the data-order generator and the divergence rule.
    var progress: TrainingProgress { get }
}

extension ResumableTrainingState {
    /// Optimizer steps done; names the checkpoint (`step-00000400`).
    public var step: Int { progress.step }
    /// Epochs done (see `TrainingProgress.epoch`).
    public var epoch: Int { progress.epoch }
}

/// What every resumable trainer counts and draws: steps, epochs, the generator of the data order,
/// and the state of the divergence rule.
public struct TrainingProgress: Codable, Equatable, Sendable {
    /// Optimizer steps done.
    public var step: Int
    /// Epochs done (the translation trainer: epochs begun).
    public var epoch: Int
    /// The generator of the data order.
    @HexEncoded public var generator: RandomGenerator
    /// The divergence rule's state.
    public var divergence: DivergenceMonitor

    public init(step: Int = 0, epoch: Int = 0, generator: RandomGenerator, divergence: DivergenceMonitor = DivergenceMonitor()) {
        self.step = step
        self.epoch = epoch
        self.generator = generator
        self.divergence = divergence
    }
}

/// A checkpoint of the forecasting, classification or translation trainer, from which the run
/// continues bit for bit (`--resume`). It is a directory `<run>/checkpoints/step-…` written by
/// `CheckpointStore` (so that a crash never leaves `latest` naming an incomplete one):
///
/// | file | contents |
/// | --- | --- |
/// | `config.json` | `format`, `formatVersion`, the trainer's configuration, the data fingerprint (16 hexadecimal digits), how the data was read (`data`: file paths and reading options, to read it again on resume), the step |
/// | `model.safetensors` | the current weights under the model's state-dict names (F32) |
/// | `optimizer.safetensors` | the optimizer's state dict (PyTorch's names: `state.<i>.exp_avg`, ..., `param_groups.0.lr`) |
/// | `best.safetensors` | the weights of the best evaluation so far (absent before the first) |
/// | `state.json` | the trainer's `State`: position in the data, random generators, the best so far, the divergence rule's state |
///
/// Loading checks every file (format and version, JSON, tensors present and finite, the step in
/// both JSON files) and reports the first problem as a one-line `CheckpointError`; `restore`
/// checks the weights against the model, `checkResume` the configuration and the data.
public struct ResumableCheckpoint<Configuration: Codable, State: ResumableTrainingState> {
    /// The files of a checkpoint directory.
    public typealias File = ResumableCheckpointFile

    /// The format version this build writes and reads.
    public static var formatVersion: Int { 1 }

    /// The checkpoint directory and its run directory.
    public let directory: URL
    public let runDirectory: URL
    public var configuration: Configuration
    /// A `Fingerprint` of the training data.
    public var dataFingerprint: UInt64
    /// How the data was read (the caller's file paths and reading options).
    public var data: [String: String]
    public var state: State
    public var weights: [String: Tensor]
    public var optimizerState: [String: Tensor]
    public var bestWeights: [String: Tensor]?

    /// The contents of `config.json`.
    private struct ConfigurationFile: Codable {
        var format: String
        var formatVersion: Int
        var configuration: Configuration
        var dataFingerprint: String
        var data: [String: String]
        var step: Int
    }

    /// The files of a checkpoint (name and bytes), for `CheckpointStore.write(files:step:isBest:)`.
    public static func files(configuration: Configuration, dataFingerprint: UInt64, data: [String: String],
                             state: State, weights: [(name: String, tensor: Tensor)],
                             optimizerState: [(name: String, tensor: Tensor)],
                             bestWeights: [(name: String, tensor: Tensor)]?) throws -> [(name: String, data: Data)] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let header = ConfigurationFile(format: State.checkpointFormat, formatVersion: formatVersion, configuration: configuration,
                                       dataFingerprint: Fingerprint.hexadecimal(dataFingerprint), data: data, step: state.step)
        var files: [(name: String, data: Data)] = [
            (File.model, try Safetensors.encode(weights, metadata: ["format": "pt"])),
            (File.optimizer, try Safetensors.encode(optimizerState)),
        ]
        if let bestWeights { files.append((File.best, try Safetensors.encode(bestWeights, metadata: ["format": "pt"]))) }
        files.append((File.state, try encoder.encode(state)))
        files.append((File.configuration, try encoder.encode(header)))
        return files
    }

    /// Loads the checkpoint at `url`: a run directory (its `latest` checkpoint) or a checkpoint directory.
    /// - Throws: `CheckpointError` naming the missing or bad file.
    public static func load(from url: URL) throws -> Self {
        let url = url.standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CheckpointError.notFound(path: url.path)
        }
        if FileManager.default.fileExists(atPath: url.appendingPathComponent(File.configuration).path),
           url.deletingLastPathComponent().lastPathComponent == "checkpoints" {
            return try Self(directory: url, runDirectory: url.deletingLastPathComponent().deletingLastPathComponent())
        }
        guard let latest = try CheckpointStore(runDirectory: url).checkpoint(.latest) else {
            throw CheckpointError.noCheckpoint(path: url.path, pointer: CheckpointPointer.latest.rawValue)
        }
        return try Self(directory: latest, runDirectory: url)
    }

    private init(directory: URL, runDirectory: URL) throws {
        self.directory = directory
        self.runDirectory = runDirectory
        let (file, configurationURL, _) = try ModelCheckpointFiles.readConfiguration(
            ConfigurationFile.self, at: directory, configurationFile: File.configuration, modelFile: File.model,
            format: State.checkpointFormat, formatVersion: Self.formatVersion)
        guard let fingerprint = UInt64(file.dataFingerprint, radix: 16) else {
            throw CheckpointError.malformed(path: configurationURL.path, reason: "dataFingerprint is not hexadecimal")
        }
        configuration = file.configuration
        dataFingerprint = fingerprint
        data = file.data
        let stateURL = directory.appendingPathComponent(File.state)
        let stateData = try ModelCheckpointFiles.readJSON(at: stateURL)
        do { state = try JSONDecoder().decode(State.self, from: stateData) } catch {
            throw CheckpointError.malformed(path: stateURL.path, reason: CheckpointError.describe(error))
        }
        guard state.step == file.step, state.step >= 0 else {
            throw CheckpointError.invalidState(path: stateURL.path, reason: "step \(state.step) differs from config.json's step \(file.step)")
        }
        weights = try ModelCheckpointFiles.readTensors(at: directory.appendingPathComponent(File.model))
        optimizerState = try ModelCheckpointFiles.readTensors(at: directory.appendingPathComponent(File.optimizer))
        let bestURL = directory.appendingPathComponent(File.best)
        bestWeights = FileManager.default.fileExists(atPath: bestURL.path) ? try ModelCheckpointFiles.readTensors(at: bestURL) : nil
    }

    /// Loads the saved weights into `model` and the optimizer state into `optimizer` (which must be
    /// over `model`'s parameters, of the kind and configuration the run trained with).
    /// - Throws: `CheckpointError.weightsMismatch` or `.optimizerStateMismatch`; nothing changes then
    ///   in the model, the optimizer may be left partly restored.
    public func restore(_ model: any Module, optimizer: any Optimizer) throws {
        do { try model.loadStateDict(weights, strict: true) } catch {
            throw CheckpointError.weightsMismatch(path: directory.appendingPathComponent(File.model).path,
                                                  reason: CheckpointError.describe(error))
        }
        do { try optimizer.loadStateDict(optimizerState) } catch {
            throw CheckpointError.optimizerStateMismatch(path: directory.appendingPathComponent(File.optimizer).path,
                                                         reason: CheckpointError.describe(error))
        }
    }

    /// `bestWeights`, after checking that they are `model`'s weights (names and shapes).
    /// - Throws: `CheckpointError.weightsMismatch`.
    public func checkedBestWeights(for model: any Module) throws -> [String: Tensor]? {
        guard let bestWeights else { return nil }
        let shapes = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor.shape) })
        guard Set(bestWeights.keys) == Set(shapes.keys), bestWeights.allSatisfy({ shapes[$0.key] == $0.value.shape }) else {
            throw CheckpointError.weightsMismatch(path: directory.appendingPathComponent(File.best).path,
                                                  reason: "the names or shapes differ from the model's \(shapes.count) weights")
        }
        return bestWeights
    }

    /// Checks that a run may continue from this checkpoint with configuration `given` (the saved one
    /// with the caller's changes) on data with `dataFingerprint` (`checkConfiguration`, `checkData`).
    public func checkResume(configuration given: Configuration, mayChange: Set<String>, dataFingerprint: UInt64,
                            dataDescription: String) throws {
        try checkConfiguration(given, mayChange: mayChange)
        try checkData(fingerprint: dataFingerprint, description: dataDescription)
    }

    /// - Parameter mayChange: the configuration's JSON paths that may differ (stopping limits).
    /// - Throws: `CheckpointError.configurationChanged` naming the first other field that differs.
    public func checkConfiguration(_ given: Configuration, mayChange: Set<String>) throws {
        if let conflict = ResumeConflict.first(saved: configuration, given: given, mayChange: mayChange) { throw conflict.error }
    }

    /// - Parameter description: names the data in the error (a file path).
    /// - Throws: `CheckpointError.dataMismatch` when the data is not the data the checkpoint trained on.
    public func checkData(fingerprint: UInt64, description: String) throws {
        guard fingerprint == dataFingerprint else {
            throw CheckpointError.dataMismatch(path: directory.path, reason: "'\(description)' is not the data it was trained on")
        }
    }
}

/// The file names of a `ResumableCheckpoint` directory.
public enum ResumableCheckpointFile {
    public static let configuration = "config.json"
    public static let model = "model.safetensors"
    public static let optimizer = "optimizer.safetensors"
    public static let best = "best.safetensors"
    public static let state = "state.json"
}
