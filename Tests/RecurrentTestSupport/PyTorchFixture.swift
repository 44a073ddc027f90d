import Foundation
import Recurrent

/// Why a PyTorch fixture, or a folder of them, could not be used.
public struct PyTorchFixtureError: Error, LocalizedError, CustomStringConvertible, Equatable {
    /// What the error is about: `fixture NAME`, or the folder (`RECURRENT_FIXTURES=DIR`).
    public var subject: String
    public var reason: String
    public var description: String { "\(subject): \(reason)" }
    public var errorDescription: String? { description }

    public init(subject: String, reason: String) {
        self.subject = subject
        self.reason = reason
    }
}

/// One PyTorch parity fixture (format in `Tests/Fixtures/pytorch/README.md`): parameters under
/// `model.<name>`, inputs, reference outputs, gradients under `grad.<name>`, and a JSON `config` in
/// the metadata. The committed fixtures are made by `scripts/reference/pytorch_fixtures.py`; the
/// environment variable `RECURRENT_FIXTURES=DIR` adds every fixture of another folder of that format.
public struct PyTorchFixture {
    /// The environment variable naming an extra folder of fixtures.
    public static let extraFolderVariable = "RECURRENT_FIXTURES"

    /// The file name without `.safetensors` (e.g. `lstm_2layer_state`).
    public let name: String
    /// How test messages name the fixture: `name` for a committed fixture, the path without
    /// `.safetensors` for one from an extra folder (whose names may repeat the committed ones).
    public let label: String
    /// The opened file.
    public let file: SafetensorsFile
    /// `__metadata__["config"]` parsed as JSON (`module`, `kwargs`, `seq_len`, `batch`, ...).
    public let config: [String: Any]

    /// The PyTorch constructor arguments (`config["kwargs"]`; empty for models without them).
    public var kwargs: [String: Any] { config["kwargs"] as? [String: Any] ?? [:] }

    /// Opens the fixture at `url` and parses its config; `label` defaults to the file stem.
    public init(contentsOf url: URL, label: String? = nil) throws {
        let name = url.deletingPathExtension().lastPathComponent
        let label = label ?? name
        let file = try SafetensorsFile(contentsOf: url)
        guard let text = file.metadata["config"] else {
            throw PyTorchFixtureError(subject: "fixture \(label)", reason: "no config in __metadata__")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)), let config = object as? [String: Any] else {
            throw PyTorchFixtureError(subject: "fixture \(label)", reason: "config is not a JSON object")
        }
        self.name = name
        self.label = label
        self.file = file
        self.config = config
    }

    /// The folder named by `RECURRENT_FIXTURES` in `environment`, or `nil` when it is unset or empty.
    public static func extraFolder(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        guard let path = environment[extraFolderVariable], !path.isEmpty else { return nil }
        return URL(fileURLWithPath: path)
    }

    /// Every fixture to test: the committed ones (`RepositoryPaths.pytorchFixtures`), then those of
    /// the `RECURRENT_FIXTURES` folder if set, each folder's files sorted by name. A folder that is
    /// missing or holds no `.safetensors` file throws: an extra folder that adds nothing is a mistake.
    public static func all(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [PyTorchFixture] {
        var fixtures = try committed()
        if let folder = extraFolder(environment: environment) {
            let subject = "\(extraFolderVariable)=\(folder.path)"
            fixtures += try fixtureFiles(in: folder, subject: subject).map {
                try PyTorchFixture(contentsOf: $0, label: $0.deletingPathExtension().path)
            }
        }
        return fixtures
    }

    /// The committed fixtures (`RepositoryPaths.pytorchFixtures`), sorted by name.
    public static func committed() throws -> [PyTorchFixture] {
        let folder = RepositoryPaths.pytorchFixtures
        return try fixtureFiles(in: folder, subject: "fixture folder \(folder.path)").map { try PyTorchFixture(contentsOf: $0) }
    }

    /// The committed fixture named `name` (file stem).
    public static func named(_ name: String) throws -> PyTorchFixture {
        try PyTorchFixture(contentsOf: RepositoryPaths.pytorchFixtures.appendingPathComponent("\(name).safetensors"))
    }

    /// The `*.safetensors` files directly in `folder`, sorted by name; `subject` names the folder in errors.
    static func fixtureFiles(in folder: URL, subject: String) throws -> [URL] {
        let contents: [URL]
        do {
            contents = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        } catch {
            throw PyTorchFixtureError(subject: subject, reason: "not a readable folder")
        }
        let files = contents.filter { $0.pathExtension == "safetensors" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        guard !files.isEmpty else { throw PyTorchFixtureError(subject: subject, reason: "no .safetensors fixture in this folder") }
        return files
    }

    /// Tensor `name` as Float32 (int64 token ids become floats; use `file.integers` for exact ids).
    public func tensor(_ name: String) throws -> Tensor { try file.tensor(name) }

    /// The state dict: entries starting with `prefix`, with the prefix removed (`grad.*` entries excluded).
    public func parameters(prefix: String = "model.") -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for name in file.names where name.hasPrefix(prefix) && !name.hasPrefix("grad.") {
            if let tensor = try? file.tensor(name) { result[String(name.dropFirst(prefix.count))] = tensor }
        }
        return result
    }

    /// The reference gradient `grad.<name>` (e.g. `gradient(of: "model.weight_ih_l0")`, `gradient(of: "input")`).
    public func gradient(of name: String) throws -> Tensor { try file.tensor("grad." + name) }
}
