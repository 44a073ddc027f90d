import Foundation
import RecurrentCore

/// Why a checkpoint cannot be loaded, or cannot be used to resume a run. Every message is one line
/// that names the file or directory concerned.
public enum CheckpointError: Error, LocalizedError, Equatable, Sendable {
    /// Nothing exists at the path.
    case notFound(path: String)
    /// The directory is neither a checkpoint (no `config.json`) nor a run directory with a
    /// `checkpoints/latest` (or `best`) pointer.
    case noCheckpoint(path: String, pointer: String)
    /// A file every checkpoint has is absent.
    case missingFile(path: String)
    /// A file cannot be read or parsed; `reason` says why.
    case malformed(path: String, reason: String)
    /// `config.json` is from another program or a format version this build cannot read.
    case unsupportedVersion(path: String, found: String, supported: Int)
    /// The weights do not fit the model that `config.json` describes (a `StateDictError`).
    case weightsMismatch(path: String, reason: String)
    /// A tensor of the file holds NaN or an infinity (`reason` says which value and where).
    case nonFinite(path: String, tensor: String, reason: String)
    /// The vocabulary does not fit the model, or the text being resumed on is not the text the
    /// checkpoint was trained on.
    case vocabularyMismatch(path: String, reason: String)
    /// The optimizer or scheduler state does not fit the optimizer and model (an `OptimizerStateError`).
    case optimizerStateMismatch(path: String, reason: String)
    /// The training state (data position, carried hidden state, random generators) is invalid.
    case invalidState(path: String, reason: String)
    /// Resuming with a configuration field changed that must stay as the checkpoint has it.
    case configurationChanged(field: String, saved: String, given: String)
    /// A new (not resumed) run would write into a directory that already holds a run.
    case outputDirectoryInUse(path: String)
    /// The data a run is resumed on is not the data its checkpoint was trained on.
    case dataMismatch(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .notFound(path):
            return "checkpoint '\(path)' does not exist"
        case let .noCheckpoint(path, pointer):
            return "'\(path)' is not a checkpoint: it has no config.json and no checkpoints/\(pointer)"
        case let .missingFile(path):
            return "checkpoint file '\(path)' is missing"
        case let .malformed(path, reason):
            return "checkpoint file '\(path)' is malformed: \(Self.oneLine(reason))"
        case let .unsupportedVersion(path, found, supported):
            return "checkpoint '\(path)' has format \(ErrorMessage.excerpt(found, maximumLength: 80)); this version of recurrent reads format version \(supported)"
        case let .weightsMismatch(path, reason):
            return "checkpoint weights '\(path)' do not match its config.json: \(Self.oneLine(reason))"
        case let .nonFinite(path, tensor, reason):
            return "checkpoint file '\(path)': tensor '\(ErrorMessage.excerpt(tensor))' \(Self.oneLine(reason)); every value must be finite"
        case let .vocabularyMismatch(path, reason):
            return "checkpoint '\(path)': vocabulary mismatch: \(Self.oneLine(reason))"
        case let .optimizerStateMismatch(path, reason):
            return "checkpoint optimizer state '\(path)' does not match the model: \(Self.oneLine(reason))"
        case let .invalidState(path, reason):
            return "checkpoint training state '\(path)' is invalid: \(Self.oneLine(reason))"
        case let .configurationChanged(field, saved, given):
            return "cannot resume with \(field) = \(given): the checkpoint was trained with \(field) = \(saved)"
        case let .outputDirectoryInUse(path):
            return "'\(path)' already holds a training run; resume it or choose another output directory"
        case let .dataMismatch(path, reason):
            return "cannot resume from checkpoint '\(path)': \(Self.oneLine(reason))"
        }
    }

    package static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
