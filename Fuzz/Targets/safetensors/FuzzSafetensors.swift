import FuzzSupport
import RecurrentFormats

/// A safetensors file from memory (`SafetensorsFile(data:)`, what every checkpoint load runs on the
/// file's bytes): the header (length, JSON, entries, offsets, overlaps), then every tensor read as
/// Float32 and as integers, the way `tensors()`, `integers(_:)` and `loadStateDict` read them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let file = try? SafetensorsFile(data: FuzzDriver.data(bytes, count)) else { return 0 }
    for name in file.names {
        _ = file.info(name)
        _ = try? file.tensor(name)
        _ = try? file.integers(name)
    }
    _ = try? file.tensors()
    _ = file.metadata
    return 0
}
