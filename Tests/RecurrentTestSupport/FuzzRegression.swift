import Foundation

/// The inputs on which a fuzz target found a crash, hang or leak (`Fuzz/Regressions/<target>/`, see
/// docs/fuzzing.md), and the checkpoint fixtures the config targets write them beside, for the unit
/// tests that reproduce each finding in the normal suite.
public enum FuzzRegression {
    /// `Fuzz/` of the repository.
    public static let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz")

    /// `Fuzz/Regressions/<target>/<name>`.
    public static func url(_ target: String, _ name: String) -> URL {
        fuzzDirectory.appendingPathComponent("Regressions").appendingPathComponent(target).appendingPathComponent(name)
    }

    /// The names of the regression inputs of every target, as `target/name`, sorted.
    public static func all() throws -> [String] {
        let root = fuzzDirectory.appendingPathComponent("Regressions")
        let manager = FileManager.default
        guard manager.fileExists(atPath: root.path) else { return [] }
        return try manager.contentsOfDirectory(atPath: root.path).flatMap { target in
            try manager.contentsOfDirectory(atPath: root.appendingPathComponent(target).path).map { "\(target)/\($0)" }
        }.sorted()
    }

    /// A copy of the checkpoint `Fuzz/Fixtures/<fixture>` in a new temporary directory, with the
    /// regression input `target/name` written over its file `replacing` (unchanged when nil);
    /// returns the directory.
    public static func checkpoint(fixture: String, replacing file: String?, with target: String, _ name: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-regression-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: fuzzDirectory.appendingPathComponent("Fixtures").appendingPathComponent(fixture),
                                         to: directory)
        if let file { try Data(contentsOf: url(target, name)).write(to: directory.appendingPathComponent(file)) }
        return directory
    }
}

extension FuzzRegression {
    /// Writes the regression input `target/name` as `file` of a copy of the checkpoint fixture
    /// `fixture` and loads it with `load`; returns the error's one-line message with `<dir>` for the
    /// copy's directory, or nil when it loaded. Throws when the unchanged fixture does not load.
    public static func checkpointError(fixture: String, replacing file: String, with target: String, _ name: String,
                                       load: (URL) throws -> Void) throws -> String? {
        let pristine = try checkpoint(fixture: fixture, replacing: nil, with: target, name)
        defer { try? FileManager.default.removeItem(at: pristine) }
        try load(pristine)
        let directory = try checkpoint(fixture: fixture, replacing: file, with: target, name)
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            try load(directory)
            return nil
        } catch {
            return ((error as? LocalizedError)?.errorDescription ?? "\(error)")
                .replacingOccurrences(of: directory.standardizedFileURL.path, with: "<dir>")
        }
    }
}
