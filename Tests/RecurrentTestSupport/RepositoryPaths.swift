import Foundation

/// Locations of the data shared beside the repository (`../shared`): datasets, fixtures, lecture notes.
public enum SharedData {
    /// The repository root, found from this file's path.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared` beside the repository (override with the environment variable RECURRENT_SHARED).
    public static var directory: URL {
        if let path = ProcessInfo.processInfo.environment["RECURRENT_SHARED"] { return URL(fileURLWithPath: path) }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    /// `../shared/fixtures/pytorch`.
    public static var pytorchFixtures: URL { directory.appendingPathComponent("fixtures/pytorch") }

    /// `../shared/data`.
    public static var data: URL { directory.appendingPathComponent("data") }
}
