import Foundation

/// Builds safetensors bytes by hand: the 8-byte little-endian length of `header`, the header, then `buffer`.
func safetensorsBytes(header: String, buffer: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
    let headerBytes = Array(header.utf8)
    return safetensorsBytes(headerBytes: headerBytes, buffer: buffer, declaredLength: declaredLength)
}

func safetensorsBytes(headerBytes: [UInt8], buffer: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
    var data = Data()
    let length = declaredLength ?? UInt64(headerBytes.count)
    withUnsafeBytes(of: length.littleEndian) { data.append(contentsOf: $0) }
    data.append(contentsOf: headerBytes)
    data.append(contentsOf: buffer)
    return data
}

/// Little-endian bytes of fixed-width integers.
func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

/// A fresh empty directory under the system temporary directory.
func makeTemporaryDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("recurrent-formats-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
