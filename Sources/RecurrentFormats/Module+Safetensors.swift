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
