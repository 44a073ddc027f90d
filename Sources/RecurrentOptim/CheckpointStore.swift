import Foundation
import RecurrentCore
import RecurrentFormats
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Which checkpoint of a run a pointer names.
public enum CheckpointPointer: String, Sendable, CaseIterable {
    /// The most recent checkpoint.
    case latest
    /// The checkpoint with the lowest validation loss.
    case best
}

/// A step of writing a checkpoint, reported to `CheckpointStore.faultInjection` right after it is done.
public enum CheckpointWriteStage: Equatable, Sendable, CustomStringConvertible {
    /// The run and `checkpoints` directories exist.
    case preparedDirectories
    /// The new checkpoint's temporary directory `checkpoints/.step-….tmp-…` was created.
    case createdTemporaryDirectory
    /// One file of the checkpoint was written completely into the temporary directory.
    case wroteFile(String)
    /// The temporary directory was renamed to its final name `checkpoints/step-…`.
    case renamedDirectory
    /// The `latest` (or `best`) pointer now names the new checkpoint.
    case updatedPointer(CheckpointPointer)
    /// An entry no pointer refers to (an older checkpoint or leftovers of an interrupted write) was removed.
    case removedEntry(String)
    /// `metrics.csv` was rewritten.
    case wroteMetrics
    /// `loss.svg` was rewritten.
    case wrotePlot

    public var description: String {
        switch self {
        case .preparedDirectories: return "prepared directories"
        case .createdTemporaryDirectory: return "created temporary directory"
        case .wroteFile(let name): return "wrote \(name)"
        case .renamedDirectory: return "renamed directory"
        case .updatedPointer(let pointer): return "updated \(pointer.rawValue)"
        case .removedEntry(let name): return "removed \(name)"
        case .wroteMetrics: return "wrote metrics.csv"
        case .wrotePlot: return "wrote loss.svg"
        }
    }
}

/// The checkpoints of one training run, in a run directory (every trainer of the package keeps
/// its resumable state this way; the language-model trainer adds `metrics.csv` and `loss.svg`,
/// see `write(files:step:isBest:history:)` in RecurrentText):
///
/// ```
/// <run>/checkpoints/latest     pointer file: the name of the latest checkpoint directory, one line
/// <run>/checkpoints/best       pointer file: the checkpoint with the lowest validation loss
/// <run>/checkpoints/step-00000400/   a complete checkpoint (TrainingCheckpoint, ResumableCheckpoint)
/// ```
///
/// A checkpoint is several files, written so that a crash at any instant leaves `latest` and `best`
/// pointing at complete checkpoints:
/// 1. every file goes into a new temporary directory `checkpoints/.step-….tmp-<pid>-<random>`, each
///    written atomically and flushed (`AtomicFile`); when a file cannot be written (a full disk),
///    the temporary directory is removed again and the write fails;
/// 2. the directory is flushed and renamed to a name that no pointer uses (`step-00000400`, or
///    `step-00000400-2` ... if that exists), and `checkpoints/` is flushed;
/// 3. if the checkpoint is the new best, the `best` pointer, then the `latest` pointer, is replaced
///    atomically (`AtomicFile`: a temporary file renamed over the old one). `best` goes first so that
///    whenever `latest` exists, `best` does too (with a validation part); a crash between the two
///    leaves `best` one checkpoint ahead of `latest`, which is harmless: training is deterministic,
///    so the run resumed from `latest` reaches the same checkpoint again and re-points `best` to it;
/// 4. every entry that no pointer names is removed: older checkpoints and the leftovers of an
///    interrupted write (temporary directories and files). An entry is first renamed to a hidden
///    `.trash-…` name, so that a half-deleted checkpoint never keeps a `step-…` name.
///
/// Before step 3 the old pointers still name the previous, complete checkpoints; after it they name
/// the new one. One writer per run directory. `faultInjection` lets tests stop the write after any stage.
public final class CheckpointStore {
    /// The run directory (`--out`).
    public let runDirectory: URL
    /// `<run>/checkpoints`.
    public var checkpointsDirectory: URL { runDirectory.appendingPathComponent("checkpoints", isDirectory: true) }

    /// Test hook: called after each stage of a checkpoint write; throwing aborts the write there,
    /// as a crash or a full disk would (the temporary directory is left behind, as after a crash).
    public var faultInjection: ((CheckpointWriteStage) throws -> Void)?

    public init(runDirectory: URL) {
        self.runDirectory = runDirectory.standardizedFileURL
    }

    /// Checks, without writing anything, that the run directory can be created or written: it is a
    /// directory if it exists, and its nearest existing ancestor is a writable directory.
    /// - Throws: `ConfigurationError` for the argument `outputDirectory`.
    public func checkWritable() throws {
        let manager = FileManager.default
        var url = runDirectory
        while true {
            var isDirectory: ObjCBool = false
            if manager.fileExists(atPath: url.path, isDirectory: &isDirectory) {
                try ConfigurationError.require(isDirectory.boolValue, "outputDirectory",
                                               "'\(url.path)' exists and is not a directory")
                try ConfigurationError.require(access(url.path, W_OK) == 0, "outputDirectory",
                                               "'\(url.path)' is not writable")
                return
            }
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { return }
            url = parent
        }
    }

    /// Refuses a directory that already holds a run (a `latest` pointer), for a run that would start afresh there.
    /// - Throws: `CheckpointError.outputDirectoryInUse`.
    public func requireNoRun() throws {
        if FileManager.default.fileExists(atPath: pointerURL(.latest).path) {
            throw CheckpointError.outputDirectoryInUse(path: runDirectory.path)
        }
    }

    /// The pointer file of `pointer`.
    public func pointerURL(_ pointer: CheckpointPointer) -> URL {
        checkpointsDirectory.appendingPathComponent(pointer.rawValue)
    }

    /// The checkpoint directory `pointer` names, or nil when the pointer file does not exist.
    /// - Throws: `CheckpointError.malformed` when the pointer file is unreadable or names no directory.
    public func checkpoint(_ pointer: CheckpointPointer) throws -> URL? {
        let url = pointerURL(pointer)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try Self.followPointer(at: url)
    }

    /// The checkpoint directory named by the pointer file at `url` (one line: a directory name in
    /// the same directory as the pointer).
    package static func followPointer(at url: URL) throws -> URL {
        let data: Data
        do { data = try InputFile.read(url, limit: InputFile.pointerByteLimit) } catch let error as InputFileError {
            throw CheckpointError.malformed(path: url.path, reason: "cannot read the pointer file (\(error.reason))")
        }
        let name = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."), name.count < 256 else {
            throw CheckpointError.malformed(path: url.path, reason:
                "the pointer must name a checkpoint directory, found \(ErrorMessage.excerpt(name.debugDescription))")
        }
        let target = url.deletingLastPathComponent().appendingPathComponent(name, isDirectory: true)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: target.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CheckpointError.malformed(path: url.path, reason: "it names '\(name)', which is not a directory")
        }
        return target
    }

    /// Writes a checkpoint made of `files` (name and bytes) for `step`, makes it `latest` and, if
    /// `isBest`, `best`, and removes every checkpoint no pointer names. Returns the new checkpoint's
    /// directory.
    /// - Throws: `FileWriteError` when something cannot be written (the pointers then still name the
    ///   previous checkpoints), or what `faultInjection` throws.
    @discardableResult
    public func write(files: [(name: String, data: Data)], step: Int, isBest: Bool) throws -> URL {
        let manager = FileManager.default
        let checkpoints = checkpointsDirectory
        do {
            try manager.createDirectory(at: checkpoints, withIntermediateDirectories: true)
        } catch {
            throw FileWriteError(path: checkpoints.path, reason: "creating the directory: \(error.localizedDescription)")
        }
        try faultInjection?(.preparedDirectories)

        let baseName = "step-" + Self.padded(step)
        let temporary = checkpoints.appendingPathComponent(".\(baseName).tmp-\(getpid())-\(Self.randomSuffix())", isDirectory: true)
        guard mkdir(temporary.path, 0o755) == 0 else { throw Self.systemError(temporary.path, "creating the directory") }
        try faultInjection?(.createdTemporaryDirectory)
        do {
            for (name, data) in files {
                try AtomicFile.write(data, to: temporary.appendingPathComponent(name))
                try faultInjection?(.wroteFile(name))
            }
        } catch let error as FileWriteError {
            try? manager.removeItem(at: temporary)   // a real failure, not a crash: leave nothing half-written
            throw error
        }
        Self.synchronize(temporary.path)

        var name = baseName
        var suffix = 2
        while manager.fileExists(atPath: checkpoints.appendingPathComponent(name).path) {
            name = "\(baseName)-\(suffix)"
            suffix += 1
        }
        let final = checkpoints.appendingPathComponent(name, isDirectory: true)
        guard rename(temporary.path, final.path) == 0 else { throw Self.systemError(final.path, "renaming the temporary directory") }
        Self.synchronize(checkpoints.path)
        try faultInjection?(.renamedDirectory)

        if isBest {
            try AtomicFile.write(Data((name + "\n").utf8), to: pointerURL(.best))
            try faultInjection?(.updatedPointer(.best))
        }
        try AtomicFile.write(Data((name + "\n").utf8), to: pointerURL(.latest))
        try faultInjection?(.updatedPointer(.latest))

        try prune()
        return final
    }

    /// Removes every entry of `checkpoints/` that is not a pointer file or a directory a pointer
    /// names: older checkpoints and leftovers of interrupted writes.
    public func prune() throws {
        let manager = FileManager.default
        let checkpoints = checkpointsDirectory
        var keep: Set<String> = Set(CheckpointPointer.allCases.map(\.rawValue))
        for pointer in CheckpointPointer.allCases {
            if let target = try? checkpoint(pointer) { keep.insert(target.lastPathComponent) }
        }
        guard let entries = try? manager.contentsOfDirectory(atPath: checkpoints.path) else { return }
        for entry in entries.sorted() where !keep.contains(entry) {
            let path = checkpoints.appendingPathComponent(entry).path
            let trash = entry.hasPrefix(".trash-") ? path
                : checkpoints.appendingPathComponent(".trash-\(entry)-\(Self.randomSuffix())").path
            if trash != path { guard rename(path, trash) == 0 else { continue } }
            try? manager.removeItem(atPath: trash)
            try faultInjection?(.removedEntry(entry))
        }
    }

    // MARK: - Helpers

    static func padded(_ step: Int) -> String {
        let digits = String(step)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    static func randomSuffix() -> String { String(UInt64.random(in: 0...UInt64.max), radix: 16) }

    static func systemError(_ path: String, _ step: String) -> FileWriteError {
        FileWriteError(path: path, reason: "\(step): \(String(cString: strerror(errno)))")
    }

    /// Flushes a directory's entries to disk (best effort).
    static func synchronize(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor >= 0 {
            _ = fsync(descriptor)
            close(descriptor)
        }
    }
}
