import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Another training run holds the lock of the output directory.
public struct RunDirectoryBusyError: Error, LocalizedError, Equatable, Sendable {
    /// The run directory.
    public var path: String
    /// The process id the holder wrote into the lock file, when it could be read.
    public var holder: Int32?

    public init(path: String, holder: Int32?) {
        self.path = path
        self.holder = holder
    }

    public var errorDescription: String? {
        "'\(path)' is in use by another training run\(holder.map { " (process \($0))" } ?? ""); "
            + "wait for it to finish or choose another output directory"
    }
}

/// An exclusive lock on a run directory, held by the one trainer that writes into it.
///
/// Taking the lock creates the directory if needed, then takes `flock(LOCK_EX | LOCK_NB)` on the
/// file `<directory>/.lock` and writes the process id into it. A second trainer — another process,
/// or another lock in this one — is refused at once with `RunDirectoryBusyError`. The operating
/// system releases a `flock` when its holder ends in any way, `kill -9` included, so a killed run
/// never leaves the directory locked: its `.lock` file stays behind and is simply locked again.
///
/// `release()` (also run by `deinit`) removes the lock file while still holding it, then unlocks.
/// A trainer that opened the old file just before the removal and locks it afterwards sees that
/// the path no longer names the file it locked and starts again, so two holders never coexist.
/// When the lock created the directory and the run left no file in it (it failed before its first
/// write), `release()` removes the directory again: a failed run leaves nothing behind.
public final class RunDirectoryLock {
    /// The lock file's name inside the run directory.
    public static let fileName = ".lock"

    /// The locked directory.
    public let directory: URL
    /// `<directory>/.lock`.
    public var lockFile: URL { directory.appendingPathComponent(Self.fileName) }

    private var descriptor: Int32
    /// The outermost directory that did not exist before the lock created it.
    private let createdDirectory: URL?

    /// Takes the lock of `directory`, creating it (and missing parents) first.
    /// - Throws: `RunDirectoryBusyError` when another run holds it; `FileWriteError` when the
    ///   directory or the lock file cannot be created or locked.
    public init(directory: URL) throws {
        let directory = directory.standardizedFileURL
        self.directory = directory
        let path = directory.appendingPathComponent(Self.fileName).path
        var created: URL? = nil
        for _ in 0..<100 {
            let made = try Self.createDirectory(directory)
            created = created ?? made
            let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            if descriptor < 0 {
                if errno == ENOENT { continue }   // the directory was removed in between
                throw Self.failure(path, "creating the lock file")
            }
            if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                let holder = Self.readHolder(descriptor)
                close(descriptor)
                if code == EWOULDBLOCK { throw RunDirectoryBusyError(path: directory.path, holder: holder) }
                throw FileWriteError(path: path, reason: "locking the file: \(String(cString: strerror(code)))")
            }
            // The file locked must still be the one the path names (see the type's comment).
            var opened = stat(), named = stat()
            guard fstat(descriptor, &opened) == 0, stat(path, &named) == 0,
                  opened.st_dev == named.st_dev, opened.st_ino == named.st_ino else {
                close(descriptor)
                continue
            }
            let text = Array("\(getpid())\n".utf8)
            _ = ftruncate(descriptor, 0)
            _ = text.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
            self.descriptor = descriptor
            self.createdDirectory = created
            return
        }
        throw FileWriteError(path: path, reason: "the lock file keeps being replaced")
    }

    deinit { release() }

    /// Whether this object still holds the lock.
    public var isHeld: Bool { descriptor >= 0 }

    /// Removes the lock file and unlocks; then, if the lock created the directory and no file was
    /// written into it (only empty directories, if anything, are left), removes the directory.
    /// Calling it again does nothing.
    public func release() {
        guard descriptor >= 0 else { return }
        unlink(lockFile.path)
        close(descriptor)
        descriptor = -1
        if let createdDirectory { _ = Self.removeIfHoldsNoFiles(createdDirectory) }
    }

    // MARK: - Helpers

    /// Creates `directory` with its missing parents; returns the outermost one created, nil when it existed.
    private static func createDirectory(_ directory: URL) throws -> URL? {
        let manager = FileManager.default
        var outermostMissing: URL? = nil
        var url = directory
        while true {
            var isDirectory: ObjCBool = false
            if manager.fileExists(atPath: url.path, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else {
                    throw FileWriteError(path: directory.path, reason: "'\(url.path)' exists and is not a directory")
                }
                break
            }
            outermostMissing = url
            let parent = url.deletingLastPathComponent()
            if parent.path == url.path { break }
            url = parent
        }
        guard outermostMissing != nil else { return nil }
        do {
            try manager.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw FileWriteError(path: directory.path, reason: "creating the directory: \(error.localizedDescription)")
        }
        return outermostMissing
    }

    /// The process id written in the lock file, if it holds one.
    private static func readHolder(_ descriptor: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Removes `url` when it is a tree of directories without a single file; returns whether it did.
    private static func removeIfHoldsNoFiles(_ url: URL) -> Bool {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: url.path) else { return false }
        for entry in entries {
            let child = url.appendingPathComponent(entry)
            var status = stat()
            // lstat: a symbolic link counts as a file, never as a directory to descend into.
            guard lstat(child.path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR, removeIfHoldsNoFiles(child) else { return false }
        }
        return rmdir(url.path) == 0
    }

    private static func failure(_ path: String, _ step: String) -> FileWriteError {
        FileWriteError(path: path, reason: "\(step): \(String(cString: strerror(errno)))")
    }
}
