import Foundation
import Recurrent

/// Why a PyTorch fixture could not be used.
public struct PyTorchFixtureError: Error, LocalizedError {
    public var fixture: String
    public var reason: String
    public var errorDescription: String? { "fixture \(fixture): \(reason)" }
}

/// One PyTorch parity fixture from `../shared/fixtures/pytorch` (format described in its README.md):
/// parameters under `model.<name>`, inputs, reference outputs, gradients under `grad.<name>`, and a
/// JSON `config` in the metadata.
public struct PyTorchFixture {
    /// The file name without `.safetensors` (e.g. `lstm_2layer_state`).
    public let name: String
    /// The opened file.
    public let file: SafetensorsFile
    /// `__metadata__["config"]` parsed as JSON (`module`, `kwargs`, `seq_len`, `batch`, ...).
    public let config: [String: Any]

    /// The PyTorch constructor arguments (`config["kwargs"]`; empty for models without them).
    public var kwargs: [String: Any] { config["kwargs"] as? [String: Any] ?? [:] }

    /// Opens the fixture at `url` and parses its config.
    public init(contentsOf url: URL) throws {
        let name = url.deletingPathExtension().lastPathComponent
        let file = try SafetensorsFile(contentsOf: url)
        guard let text = file.metadata["config"] else {
            throw PyTorchFixtureError(fixture: name, reason: "no config in __metadata__")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)), let config = object as? [String: Any] else {
            throw PyTorchFixtureError(fixture: name, reason: "config is not a JSON object")
        }
        self.name = name
        self.file = file
        self.config = config
    }

    /// Every `*.safetensors` fixture in `SharedData.pytorchFixtures`, sorted by name.
    public static func all() throws -> [PyTorchFixture] {
        let directory = SharedData.pytorchFixtures
        let urls = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "safetensors" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        return try urls.map { try PyTorchFixture(contentsOf: $0) }
    }

    /// The fixture named `name` (file stem) in `SharedData.pytorchFixtures`.
    public static func named(_ name: String) throws -> PyTorchFixture {
        try PyTorchFixture(contentsOf: SharedData.pytorchFixtures.appendingPathComponent("\(name).safetensors"))
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
