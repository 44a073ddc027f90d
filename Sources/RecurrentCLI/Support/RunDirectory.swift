import Foundation
import Recurrent

/// Runs a training command's `body` holding the lock of its run directory (`RunDirectoryLock`): a
/// second trainer started on the same directory is refused with one line, and a run that fails
/// before writing any file leaves no new directory behind.
func withRunDirectoryLock<T>(_ directory: URL, _ body: () throws -> T) throws -> T {
    let lock = try RunDirectoryLock(directory: directory)
    defer { lock.release() }
    return try body()
}
