import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentFormats
import RecurrentOptim

/// A complete, validated checkpoint of a language-model training run.
///
/// A checkpoint directory (`<run>/checkpoints/step-00000400`) holds:
///
/// | file | contents |
/// | --- | --- |
/// | `config.json` | `format`, `formatVersion`, the `TrainingConfiguration` (with the model's configuration and the vocabulary level), the corpus fingerprint and source, the step |
/// | `vocabulary.json` | the `Vocabulary` (`Vocabulary.jsonData()`) |
/// | `model.safetensors` | the weights under PyTorch's state-dict names (F32); loads into the matching `torch.nn` module |
/// | `optimizer.safetensors` | the optimizer's state dict under `optimizer.` and the learning-rate scheduler's under `scheduler.` |
/// | `carried-state.safetensors` | the hidden state carried into the next window: `h` `(numLayers, batchSize, hiddenSize)` and, for LSTM, `c` (absent at the start of an epoch); with k2 > k1 also `history` `(batchSize, ≤ k2 − k1)`, the token ids the next window reruns |
/// | `state.json` | `TrainingState`: step, data position, training time, best validation loss, random generators, metrics history |
///
/// Loading checks every file and reports the first problem as a one-line `CheckpointError`.
public struct TrainingCheckpoint {
    /// The `format` value of `config.json`.
    public static let format = "recurrent.language-model-checkpoint"
    /// The format version this build writes and reads.
    public static let formatVersion = 1

    /// File names inside a checkpoint directory.
    public enum File {
        public static let configuration = "config.json"
        public static let vocabulary = "vocabulary.json"
        public static let model = "model.safetensors"
        public static let optimizer = "optimizer.safetensors"
        public static let carriedState = "carried-state.safetensors"
        public static let state = "state.json"
    }

    /// The checkpoint's directory.
    public let directory: URL
    /// The run directory it belongs to (`<run>` of `<run>/checkpoints/step-…`), or nil when the
    /// checkpoint is not inside a `checkpoints` directory.
    public let runDirectory: URL?
    /// The run's configuration; `configuration.model.vocabularySize` is the vocabulary's size.
    public let configuration: TrainingConfiguration
    /// The vocabulary the model's token ids refer to.
    public let vocabulary: Vocabulary
    /// `TextCorpus.fingerprint` of the text the run trained on.
    public let corpusFingerprint: UInt64
    /// Where that text came from (a path or label), for messages.
    public let corpusSource: String
    /// The model with the checkpoint's weights, in training mode.
    public let model: LanguageModel
    /// Step, data position, time, generators and metrics.
    public let state: TrainingState
    /// The optimizer (over `model`'s parameters) and scheduler with their saved state.
    let optimizer: any Optimizer
    let scheduler: LearningRateScheduler
    /// The hidden state carried into the next window, if any.
    let carriedState: RecurrentLayerState?
    /// Truncated BPTT with k2 > k1: the history tokens of the next window, `(batchSize, length)`
    /// row-major (empty otherwise).
    let carriedHistory: [Int]

    /// Loads and validates the checkpoint at `url`, which may be a checkpoint directory, a run
    /// directory (`--out`; the checkpoint `pointer` names is loaded), its `checkpoints` directory,
    /// or a pointer file.
    /// - Throws: `CheckpointError` naming the missing or bad file and the problem.
    public static func load(from url: URL, pointer: CheckpointPointer = .latest) throws -> TrainingCheckpoint {
        let (directory, run) = try resolve(url, pointer: pointer)
        return try TrainingCheckpoint(directory: directory, runDirectory: run)
    }

    /// The checkpoint directory that `url` designates, and its run directory.
    public static func resolve(_ url: URL, pointer: CheckpointPointer = .latest) throws -> (checkpoint: URL, run: URL?) {
        let url = url.standardizedFileURL
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: url.path, isDirectory: &isDirectory) else { throw CheckpointError.notFound(path: url.path) }
        func runDirectory(of checkpoint: URL) -> URL? {
            let parent = checkpoint.deletingLastPathComponent()
            return parent.lastPathComponent == "checkpoints" ? parent.deletingLastPathComponent() : nil
        }
        if !isDirectory.boolValue {
            let target = try CheckpointStore.followPointer(at: url)
            return (target, runDirectory(of: target))
        }
        if manager.fileExists(atPath: url.appendingPathComponent(File.configuration).path) {
            return (url, runDirectory(of: url))
        }
        for candidate in [url.appendingPathComponent("checkpoints").appendingPathComponent(pointer.rawValue),
                          url.appendingPathComponent(pointer.rawValue)] {
            var isPointerDirectory: ObjCBool = false
            if manager.fileExists(atPath: candidate.path, isDirectory: &isPointerDirectory), !isPointerDirectory.boolValue {
                let target = try CheckpointStore.followPointer(at: candidate)
                return (target, runDirectory(of: target))
            }
        }
        throw CheckpointError.noCheckpoint(path: url.path, pointer: pointer.rawValue)
    }

    /// The contents of `config.json`.
    struct ConfigurationFile: Codable {
        var format: String
        var formatVersion: Int
        var training: TrainingConfiguration
        /// `TextCorpus.fingerprint`, 16 hexadecimal digits.
        var corpusFingerprint: String
        var corpusSource: String
        var step: Int
    }

    private init(directory: URL, runDirectory: URL?) throws {
        self.directory = directory
        self.runDirectory = runDirectory
        func path(_ name: String) -> URL { directory.appendingPathComponent(name) }
        func read(_ name: String) throws -> Data { try ModelCheckpointFiles.readJSON(at: path(name)) }
        func decode<T: Decodable>(_ type: T.Type, _ name: String, _ data: Data) throws -> T {
            do { return try JSONDecoder().decode(type, from: data) } catch {
                throw CheckpointError.malformed(path: path(name).path, reason: Self.describe(error))
            }
        }

        // config.json: format and version first, then the configuration.
        let file = try ModelCheckpointFiles.readConfiguration(ConfigurationFile.self, at: directory, configurationFile: File.configuration,
                                                              modelFile: File.model, format: Self.format,
                                                              formatVersion: Self.formatVersion).contents
        let configurationPath = path(File.configuration).path
        do {
            try file.training.validate()
            try file.training.model.validate()
        } catch {
            throw CheckpointError.malformed(path: configurationPath, reason: Self.describe(error))
        }
        guard let fingerprint = UInt64(file.corpusFingerprint, radix: 16) else {
            throw CheckpointError.malformed(path: configurationPath, reason: "corpusFingerprint is not hexadecimal")
        }
        configuration = file.training
        corpusFingerprint = fingerprint
        corpusSource = file.corpusSource

        // vocabulary.json: must be the configured level and size.
        let vocabularyPath = path(File.vocabulary).path
        vocabulary = try decode(Vocabulary.self, File.vocabulary, try read(File.vocabulary))
        guard vocabulary.level == configuration.level else {
            throw CheckpointError.vocabularyMismatch(path: vocabularyPath, reason:
                "the vocabulary is \(vocabulary.level.rawValue) level, config.json says \(configuration.level.rawValue)")
        }
        guard vocabulary.count == configuration.model.vocabularySize else {
            throw CheckpointError.vocabularyMismatch(path: vocabularyPath, reason:
                "the vocabulary has \(vocabulary.count) tokens, the model has \(configuration.model.vocabularySize)")
        }

        // model.safetensors: exactly the weights of the configured model, checked before it is built.
        let modelConfiguration = file.training.model
        let model = try ModelCheckpointFiles.loadModel(weightsAt: path(File.model), configurationURL: path(File.configuration),
                                                       expecting: modelConfiguration.parameterShapes) {
            var scratch = RandomGenerator(seed: 0)
            return try LanguageModel(modelConfiguration, using: &scratch)
        }
        model.isTraining = true
        self.model = model

        // optimizer.safetensors: optimizer.* and scheduler.* entries.
        let optimizerPath = path(File.optimizer).path
        let entries = try ModelCheckpointFiles.readTensors(at: path(File.optimizer))
        var optimizerEntries: [String: Tensor] = [:], schedulerEntries: [String: Tensor] = [:]
        for (name, tensor) in entries {
            if name.hasPrefix("optimizer.") {
                optimizerEntries[String(name.dropFirst("optimizer.".count))] = tensor
            } else if name.hasPrefix("scheduler.") {
                schedulerEntries[String(name.dropFirst("scheduler.".count))] = tensor
            } else {
                throw CheckpointError.optimizerStateMismatch(path: optimizerPath, reason:
                    "entry '\(ErrorMessage.excerpt(name))' belongs to neither the optimizer nor the scheduler")
            }
        }
        do {
            let (optimizer, scheduler) = try LanguageModelTrainer.makeOptimizer(configuration, parameters: model.parameters)
            try optimizer.loadStateDict(optimizerEntries)
            try scheduler.loadStateDict(schedulerEntries)
            self.optimizer = optimizer
            self.scheduler = scheduler
        } catch {
            throw CheckpointError.optimizerStateMismatch(path: optimizerPath, reason: Self.describe(error))
        }

        // state.json and carried-state.safetensors.
        let statePath = path(File.state).path
        state = try decode(TrainingState.self, File.state, try read(File.state))
        guard state.step == file.step else {
            throw CheckpointError.invalidState(path: statePath, reason: "step \(state.step) differs from config.json's step \(file.step)")
        }
        guard state.position.epoch >= 0, state.position.window >= 0 else {
            throw CheckpointError.invalidState(path: statePath, reason: "the data position \(state.position) is negative")
        }
        // The next batch's epoch is the schedule's (or the one after, at an epoch boundary); resuming
        // steps the schedule up to it, so an epoch of 10^18 would loop for ever.
        guard state.position.epoch >= scheduler.lastEpoch, state.position.epoch <= scheduler.lastEpoch + 1 else {
            throw CheckpointError.invalidState(path: statePath, reason:
                "the data position's epoch \(state.position.epoch) does not follow the learning-rate schedule's epoch "
                    + "\(scheduler.lastEpoch) (optimizer.safetensors)")
        }
        let carriedPath = path(File.carriedState).path
        var carried = try ModelCheckpointFiles.readTensors(at: path(File.carriedState))
        let m = configuration.model
        // h is projSize wide with a projection, c always hiddenSize.
        let stateShapes = ["h": [m.numLayers, configuration.batchSize, m.recurrent.outputHiddenSize],
                           "c": [m.numLayers, configuration.batchSize, m.hiddenSize]]
        let expectedNames: Set<String> = m.recurrent.cell.hasCellState ? ["h", "c"] : ["h"]
        // Truncated BPTT with k2 > k1: the tokens of the next window's history.
        if let history = carried.removeValue(forKey: "history") {
            let (k1, k2) = configuration.truncation
            let V = m.vocabularySize
            guard history.shape.count == 2, history.shape[0] == configuration.batchSize, history.shape[1] <= k2 - k1,
                  history.scalars.allSatisfy({ $0 >= 0 && $0 < Float(V) && $0.rounded() == $0 }) else {
                throw CheckpointError.invalidState(path: carriedPath, reason:
                    "'history' must be (batchSize, ≤ k2 − k1) = (\(configuration.batchSize), ≤ \(max(0, k2 - k1))) token ids below \(V), got shape \(history.shape)")
            }
            carriedHistory = history.scalars.map { Int($0) }
        } else {
            carriedHistory = []
        }
        if carried.isEmpty {
            carriedState = nil
        } else {
            guard Set(carried.keys) == expectedNames else {
                throw CheckpointError.invalidState(path: carriedPath, reason:
                    "it holds \(carried.keys.sorted()), a \(m.cell.rawValue) state is \(expectedNames.sorted())")
            }
            for (name, tensor) in carried where tensor.shape != stateShapes[name] {
                throw CheckpointError.invalidState(path: carriedPath, reason:
                    "'\(name)' has shape \(tensor.shape), expected (numLayers, batchSize, \(name == "h" ? "outputHiddenSize" : "hiddenSize")) = \(stateShapes[name]!)")
            }
            carriedState = RecurrentLayerState(h: Variable(carried["h"]!), c: carried["c"].map { Variable($0) })
        }
    }

    /// An error's one-line description (decoding errors name the JSON path).
    static func describe(_ error: any Error) -> String { CheckpointError.describe(error) }
}
