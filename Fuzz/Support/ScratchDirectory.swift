import Foundation

/// A temporary directory for one fuzzing process: the fuzzed bytes are written to a file in it and
/// read back by the loader the command-line tool calls, so the target runs the real file path
/// (existence checks, reading, UTF-8 checks), not a shortcut.
///
/// A checkpoint target starts from a copy of a committed checkpoint (`Fuzz/Fixtures/<name>`) and
/// overwrites one of its files with each input. The directory is removed at exit.
public final class ScratchDirectory: @unchecked Sendable {
    public let url: URL

    /// An empty directory, or a copy of `Fuzz/Fixtures/<fixture>` when `fixture` is given; in memory
    /// (`/dev/shm`) where there is one, since rewriting a file on a disk file system can wait for the disk.
    public init(fixture: String? = nil) {
        let parent = FileManager.default.fileExists(atPath: "/dev/shm") ? URL(fileURLWithPath: "/dev/shm")
            : FileManager.default.temporaryDirectory
        let template = parent.appendingPathComponent("recurrent-fuzz-XXXXXX").path
        var path = Array(template.utf8CString)
        guard let made = path.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!).map { String(cString: $0) } }) else {
            fatalError("ScratchDirectory: cannot create \(template): \(String(cString: strerror(errno)))")
        }
        url = URL(fileURLWithPath: made, isDirectory: true)
        Self.register(url)
        guard let fixture else { return }
        let source = Self.fixtures.appendingPathComponent(fixture)
        do {
            for name in try FileManager.default.contentsOfDirectory(atPath: source.path) {
                try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: url.appendingPathComponent(name))
            }
        } catch {
            fatalError("ScratchDirectory: cannot copy the fixture \(source.path): \(error)")
        }
    }

    /// `Fuzz/Fixtures` of the checkout this target was built from.
    public static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// Writes `data` as a new file `name` (removing the old one) and returns its URL. Plain `write(2)`:
    /// `Data.write(to:)` syncs the file to disk, and ext4 flushes a file truncated and rewritten on
    /// close, either of which would cost milliseconds per input.
    @discardableResult
    public func write(_ data: Data, as name: String) -> URL {
        let file = url.appendingPathComponent(name)
        unlink(file.path)
        let descriptor = open(file.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { fatalError("ScratchDirectory: cannot open \(file.path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var written = 0
            while written < bytes.count {
                let count = Foundation.write(descriptor, bytes.baseAddress! + written, bytes.count - written)
                guard count > 0 else { fatalError("ScratchDirectory: cannot write \(file.path): \(String(cString: strerror(errno)))") }
                written += count
            }
        }
        return file
    }

    /// The file `name` of the directory.
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    nonisolated(unsafe) private static var created: [URL] = []

    private static func register(_ url: URL) {
        if created.isEmpty { atexit { for url in ScratchDirectory.created { try? FileManager.default.removeItem(at: url) } } }
        created.append(url)
    }
}
