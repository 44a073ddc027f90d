import FuzzSupport
import RecurrentFormats

private let scratch = ScratchDirectory()

/// A safetensors file, from memory (`SafetensorsFile(data:)`) and as a file (`SafetensorsFile(contentsOf:)`,
/// what every checkpoint load runs: the length prefix, the header read on its own and validated — JSON,
/// entries, offsets, bounds, overlaps — then the tensors' bytes), then every tensor read as Float32 and
/// as integers, the way `tensors()`, `integers(_:)` and `loadStateDict` read them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = FuzzDriver.data(bytes, count)
    readEverything(try? SafetensorsFile(data: data))
    readEverything(try? SafetensorsFile(contentsOf: scratch.write(data, as: "weights.safetensors")))
    return 0
}

private func readEverything(_ file: SafetensorsFile?) {
    guard let file else { return }
    for name in file.names {
        _ = file.info(name)
        _ = try? file.tensor(name)
        _ = try? file.integers(name)
    }
    _ = try? file.tensors()
    _ = file.metadata
}
