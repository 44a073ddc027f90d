import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file a user named, opened for reading only when it is a regular file, and read within a size
/// limit — the one way every reader of the package opens its input (checkpoint JSON and safetensors,
/// CSV tables, parallel and labelled text, word vectors).
///
/// `Data(contentsOf:)` blocks forever on a FIFO nobody writes to, reads a device until memory runs
/// out, and reads a file of any size. Here the path is checked with `stat` first (a directory, FIFO,
/// device or socket is refused by name), then opened with `O_NONBLOCK` (so a FIFO swapped in after the
/// check cannot block the open either) and checked again on the open descriptor; its size is compared
/// with the caller's limit before anything is allocated.
///
/// Lives in RecurrentCore because every module that reads files depends on it.
public final class InputFile {
    /// The limit for the JSON files of a checkpoint (`config.json`, `vocabulary.json`, `state.json`):
    /// 64 MiB, room for a vocabulary of millions of words.
    public static let jsonByteLimit = 64 << 20
    /// The limit for a pointer file (`checkpoints/latest`): one line.
    public static let pointerByteLimit = 4_096

    /// The kinds of file system entries, as `stat` reports them.
    public enum Kind: String, Sendable {
        case regular = "a regular file"
        case directory = "a directory"
        case fifo = "a FIFO (named pipe)"
        case characterDevice = "a character device"
        case blockDevice = "a block device"
        case socket = "a socket"
        case other = "a special file"
    }

    /// The path as given.
    public let path: String
    /// The file's size in bytes when it was opened.
    public let size: Int
    private let descriptor: Int32

    /// What is at `url` (symbolic links followed), or nil when nothing is.
    public static func kind(of url: URL) -> Kind? {
        var status = stat()
        guard stat(url.path, &status) == 0 else { return nil }
        return kind(status.st_mode)
    }

    private static func kind(_ mode: mode_t) -> Kind {
        switch mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFIFO: return .fifo
        case S_IFCHR: return .characterDevice
        case S_IFBLK: return .blockDevice
        case S_IFSOCK: return .socket
        default: return .other
        }
    }

    /// Opens the regular file at `url`.
    /// - Parameter limit: the largest size accepted, in bytes.
    /// - Throws: `InputFileError` when nothing is there, it is not a regular file, it is larger than
    ///   `limit`, or it cannot be opened.
    public init(_ url: URL, limit: Int = .max) throws {
        path = url.path
        guard let kind = Self.kind(of: url) else {
            throw InputFileError(path: path, problem: errno == ENOENT ? .notFound : .unreadable(Self.systemReason()))
        }
        guard kind == .regular else { throw InputFileError(path: path, problem: .notRegular(kind)) }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw InputFileError(path: path, problem: .unreadable(Self.systemReason())) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = Self.systemReason()
            close(descriptor)
            throw InputFileError(path: path, problem: .unreadable(reason))
        }
        let openedKind = Self.kind(status.st_mode)
        guard openedKind == .regular else {
            close(descriptor)
            throw InputFileError(path: path, problem: .notRegular(openedKind))
        }
        let size = Int(status.st_size)
        guard size <= limit else {
            close(descriptor)
            throw InputFileError(path: path, problem: .tooLarge(size: size, limit: limit))
        }
        self.descriptor = descriptor
        self.size = size
    }

    deinit { close(descriptor) }

    /// Reads the whole regular file at `url` if it holds at most `limit` bytes.
    /// - Throws: `InputFileError`.
    public static func read(_ url: URL, limit: Int) throws -> Data {
        let file = try InputFile(url, limit: limit)
        return try file.read(offset: 0, count: file.size)
    }

    /// `count` bytes from `offset` (fewer when the file has shrunk since it was opened).
    /// - Precondition: `offset` and `count` are not negative.
    /// - Throws: `InputFileError` when reading fails.
    public func read(offset: Int, count: Int) throws -> Data {
        precondition(offset >= 0 && count >= 0, "InputFile.read: negative offset or count")
        var data = Data(count: count)
        var filled = 0
        try data.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) in
            while filled < count {
                let result = pread(descriptor, buffer.baseAddress! + filled, count - filled, off_t(offset + filled))
                if result < 0 {
                    if errno == EINTR { continue }
                    throw InputFileError(path: path, problem: .unreadable(Self.systemReason()))
                }
                if result == 0 { break }   // the file shrank: the caller judges what is there
                filled += result
            }
        }
        return filled == count ? data : data.prefix(filled)
    }

    private static func systemReason() -> String { String(cString: strerror(errno)) }
}

/// Why an input file cannot be read. The message is one line naming the file.
public struct InputFileError: Error, LocalizedError, Equatable, Sendable {
    public enum Problem: Equatable, Sendable {
        /// Nothing exists at the path.
        case notFound
        /// A directory, FIFO, device or socket.
        case notRegular(InputFile.Kind)
        /// Larger than the reader's limit.
        case tooLarge(size: Int, limit: Int)
        /// The system refused (permissions, I/O error); the system's message.
        case unreadable(String)
    }

    public var path: String
    public var problem: Problem

    public init(path: String, problem: Problem) {
        self.path = path
        self.problem = problem
    }

    /// The problem as a clause, for readers that put it into their own messages.
    public var reason: String {
        switch problem {
        case .notFound: return "no such file"
        case .notRegular(let kind): return "it is \(kind.rawValue), not a regular file"
        case let .tooLarge(size, limit): return "it is \(size) bytes, more than the limit of \(limit) bytes"
        case .unreadable(let message): return message
        }
    }

    public var errorDescription: String? { "cannot read '\(path)': \(reason)" }
}
