import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file could not be written. The message names the file and the operating system's reason.
public struct FileWriteError: Error, LocalizedError, Equatable, Sendable {
    /// The destination path.
    public var path: String
    /// The failing step and the system's reason ("creating temporary file: No such file or directory").
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var errorDescription: String? { "cannot write '\(path)': \(reason)" }
}

/// Whole-file writes that either fully replace the destination or leave it untouched.
public enum AtomicFile {
    /// Writes `data` to `url` atomically: the bytes go to a uniquely named temporary file in the
    /// same directory (`.<name>.tmp-<pid>-<random>`), are flushed to disk with `fsync`, and the
    /// temporary is renamed over the destination. On any failure the temporary is removed and an
    /// existing destination keeps its old contents. New files get mode 0644 (less the umask).
    public static func write(_ data: Data, to url: URL) throws {
        let destination = url.standardizedFileURL
        let path = destination.path
        let directory = destination.deletingLastPathComponent().path
        let name = destination.lastPathComponent
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let temporary = (directory as NSString).appendingPathComponent(".\(name).tmp-\(getpid())-\(suffix)")

        func failure(_ step: String, _ code: Int32) -> FileWriteError {
            FileWriteError(path: path, reason: "\(step): \(String(cString: strerror(code)))")
        }

        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("creating temporary file", errno) }
        var closed = false
        var renamed = false
        defer {
            if !closed { close(descriptor) }
            if !renamed { unlink(temporary) }
        }

        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < bytes.count {
                let written = systemWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure("writing temporary file", errno)
                }
                offset += written
            }
        }
        guard fsync(descriptor) == 0 else { throw failure("flushing temporary file", errno) }
        closed = true
        guard close(descriptor) == 0 else { throw failure("closing temporary file", errno) }
        guard rename(temporary, path) == 0 else { throw failure("renaming temporary file over destination", errno) }
        renamed = true
        // Make the rename itself durable; failure here does not undo the (complete) write.
        let directoryDescriptor = open(directory, O_RDONLY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// The POSIX `write(2)`, named apart from `AtomicFile.write`.
    @inline(__always)
    private static func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(fd, buffer, count)
        #elseif canImport(Musl)
        return Musl.write(fd, buffer, count)
        #else
        return Darwin.write(fd, buffer, count)
        #endif
    }
}
