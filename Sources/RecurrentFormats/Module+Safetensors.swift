import Foundation
import RecurrentCore
import RecurrentLayers

extension Module {
    /// Saves the parameters to a safetensors file under their PyTorch state-dict names (F32),
    /// written atomically. `metadata` goes to the file's `__metadata__`.
    /// - Throws: `FileWriteError` when the file cannot be written.
    public func save(to url: URL, metadata: [String: String] = [:]) throws {
        try Safetensors.write(stateDict(), metadata: metadata, to: url)
    }

    /// Loads parameters from a safetensors file written by `save(to:)` or by PyTorch
    /// (`safetensors.torch.save_file(model.state_dict(), ...)`). Any dtype is converted to Float32.
    /// Strict: the file must hold exactly this module's parameters with the same shapes; on error
    /// the module is unchanged.
    /// - Throws: `SafetensorsError` when the file cannot be read or is malformed; `StateDictError`
    ///   naming the parameter when an entry is missing, unexpected, or of another shape.
    public func load(from url: URL) throws {
        let file = try SafetensorsFile(contentsOf: url)
        try loadStateDict(file.tensors(), strict: true)
    }
}

/// Writing a checkpoint directory of one model: `directory` (created if needed) gets the weights as
/// `modelFile` (safetensors, `format` in its metadata), then `contents` as pretty JSON in
/// `configurationFile` — both atomically and in that order, so a configuration is never newer than
/// its weights (forecast, classify and translate checkpoints).
/// - Throws: `FileWriteError` when a file cannot be written.
package func writeModelCheckpoint<Contents: Encodable>(_ module: any Module, contents: Contents, to directory: URL,
                                                        configurationFile: String, modelFile: String, format: String) throws {
    do {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
        throw FileWriteError(path: directory.path, reason: "creating directory: \(error.localizedDescription)")
    }
    try module.save(to: directory.appendingPathComponent(modelFile), metadata: ["format": format])
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try AtomicFile.write(try encoder.encode(contents), to: directory.appendingPathComponent(configurationFile))
}
