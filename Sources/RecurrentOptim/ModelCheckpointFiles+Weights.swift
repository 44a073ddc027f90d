import Foundation
import RecurrentCore
import RecurrentLayers
import RecurrentFormats

/// Reading the safetensors files of a checkpoint directory, with the checks every model kind needs
/// (language model, forecast, classify, translate):
///
/// 1. only a regular file is opened (`InputFile` through `SafetensorsFile`);
/// 2. the names and shapes its header declares are compared with the ones the checkpoint's
///    configuration implies (`parameterShapes` of the model's configuration, computed without
///    allocating) before any tensor data is read and before the model is built — a `config.json`
///    whose `hiddenSize` was raised to 8,000 or 10⁹ is refused at once instead of allocating the model
///    first;
/// 3. every value must be finite (`requireFinite`).
///
/// Every failure is a one-line `CheckpointError` naming the file.
extension ModelCheckpointFiles {
    /// The tensors of the checkpoint file at `url`, converted to Float32.
    /// - Parameter expected: when given, the file must hold exactly these names with these shapes.
    /// - Throws: `CheckpointError.missingFile`, `.malformed` (not a valid safetensors file),
    ///   `.weightsMismatch` (names or shapes other than `expected`), `.nonFinite`.
    package static func readTensors(at url: URL, expecting expected: [(name: String, shape: [Int])]? = nil) throws -> [String: Tensor] {
        guard InputFile.kind(of: url) != nil else { throw CheckpointError.missingFile(path: url.path) }
        let tensors: [String: Tensor]
        do {
            tensors = try SafetensorsFile(contentsOf: url) { header in
                if let expected { try requireShapes(of: header, expected, path: url.path) }
            }.tensors()
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError.malformed(path: url.path, reason: CheckpointError.describe(error))
        }
        try requireFinite(tensors, path: url.path)
        return tensors
    }

    /// Throws `CheckpointError.weightsMismatch` unless `header` declares exactly the names and shapes of `expected`.
    static func requireShapes(of header: SafetensorsHeader, _ expected: [(name: String, shape: [Int])], path: String) throws {
        for (name, shape) in expected {
            guard let found = header.info(name)?.shape else {
                throw CheckpointError.weightsMismatch(path: path, reason: StateDictError.missing(name: name).description)
            }
            guard found == shape else {
                throw CheckpointError.weightsMismatch(path: path, reason:
                    StateDictError.shapeMismatch(name: name, expected: shape, found: found).description)
            }
        }
        let known = Set(expected.map(\.name))
        if let extra = header.names.first(where: { !known.contains($0) }) {
            throw CheckpointError.weightsMismatch(path: path, reason: StateDictError.unexpected(name: extra).description)
        }
    }

    /// The model of a checkpoint directory, in evaluation mode: reads the weights at `url` expecting
    /// `shapes` (see `readTensors`), then builds the model with `build` and loads them.
    /// - Throws: `CheckpointError` (`build`'s errors become `.malformed` naming `configurationURL`).
    package static func loadModel<Model: Module>(weightsAt url: URL, configurationURL: URL,
                                                 expecting shapes: [(name: String, shape: [Int])],
                                                 build: () throws -> Model) throws -> Model {
        let weights = try readTensors(at: url, expecting: shapes)
        let model: Model
        do { model = try build() } catch {
            throw CheckpointError.malformed(path: configurationURL.path, reason: CheckpointError.describe(error))
        }
        do { try model.loadStateDict(weights, strict: true) } catch {
            throw CheckpointError.weightsMismatch(path: url.path, reason: CheckpointError.describe(error))
        }
        model.isTraining = false
        return model
    }
}
