import Foundation
import RecurrentCore

/// Writing safetensors files (reading is `SafetensorsFile`).
///
/// Float tensors are stored as `F32`, integer arrays as `I64`, both little-endian. The output is
/// deterministic: the same entries and metadata give the same bytes whatever order they are passed
/// in. The header lists `__metadata__` first (keys sorted, omitted when empty), then the `I64`
/// entries sorted by name, then the `F32` entries sorted by name, with the data in the same order
/// (so every tensor is aligned to its element size); it is padded with spaces to a multiple of 8 bytes.
public enum Safetensors {
    /// An integer array to store as `I64` (for example data positions in a checkpoint).
    public typealias IntegerEntry = (name: String, shape: [Int], values: [Int])

    /// The bytes of a safetensors file holding `tensors` (F32), `integers` (I64) and `metadata`.
    /// - Throws: `SafetensorsError.duplicateName` when two entries share a name,
    ///   `.invalidName` for the reserved name `__metadata__`, `.invalidIntegerEntry` when an
    ///   integer entry's values do not fill its shape.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)],
                              integers: [IntegerEntry] = [],
                              metadata: [String: String] = [:]) throws -> Data {
        var seen = Set<String>()
        for name in tensors.map(\.name) + integers.map(\.name) {
            guard name != "__metadata__" else { throw SafetensorsError.invalidName(name, reason: "the name is reserved for metadata") }
            guard seen.insert(name).inserted else { throw SafetensorsError.duplicateName(name) }
        }
        for entry in integers {
            guard entry.shape.allSatisfy({ $0 >= 0 }) else {
                throw SafetensorsError.invalidIntegerEntry(name: entry.name, reason: "negative dimension in shape \(entry.shape)")
            }
            var count = 1
            for extent in entry.shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: extent)
                guard !overflow else {
                    throw SafetensorsError.invalidIntegerEntry(name: entry.name, reason: "shape \(entry.shape) is too large")
                }
                count = product
            }
            guard count == entry.values.count else {
                throw SafetensorsError.invalidIntegerEntry(
                    name: entry.name, reason: "shape \(entry.shape) needs \(count) values, got \(entry.values.count)")
            }
        }

        let sortedIntegers = integers.sorted { $0.name < $1.name }
        let sortedTensors = tensors.sorted { $0.name < $1.name }

        // Header.
        var members: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(HeaderJSONWriter.quoted($0)):\(HeaderJSONWriter.quoted(metadata[$0]!))" }
            members.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        func describe(_ name: String, _ dtype: SafetensorsDType, _ shape: [Int], byteCount: Int) -> String {
            defer { offset += byteCount }
            let dims = shape.map(String.init).joined(separator: ",")
            return "\(HeaderJSONWriter.quoted(name)):{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(dims)],\"data_offsets\":[\(offset),\(offset + byteCount)]}"
        }
        for entry in sortedIntegers {
            members.append(describe(entry.name, .I64, entry.shape, byteCount: entry.values.count * 8))
        }
        for entry in sortedTensors {
            members.append(describe(entry.name, .F32, entry.tensor.shape, byteCount: entry.tensor.count * 4))
        }
        var header = Array("{\(members.joined(separator: ","))}".utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))
        let bufferSize = offset

        // Bytes.
        var data = Data(count: 8 + header.count + bufferSize)
        data.withUnsafeMutableBytes { (out: UnsafeMutableRawBufferPointer) in
            out.storeBytes(of: UInt64(header.count).littleEndian, toByteOffset: 0, as: UInt64.self)
            header.withUnsafeBytes { out.baseAddress!.advanced(by: 8).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            var position = 8 + header.count
            for entry in sortedIntegers {
                for value in entry.values {
                    out.storeBytes(of: Int64(value).littleEndian, toByteOffset: position, as: Int64.self)
                    position += 8
                }
            }
            for entry in sortedTensors {
                entry.tensor.scalars.withUnsafeBufferPointer { scalars in
                    for value in scalars {
                        out.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: position, as: UInt32.self)
                        position += 4
                    }
                }
            }
            precondition(position == out.count, "Safetensors.encode: wrote \(position) of \(out.count) bytes")
        }
        return data
    }

    /// Writes `tensors` (F32), `integers` (I64) and `metadata` to `url` atomically (see `AtomicFile`).
    /// - Throws: `SafetensorsError` for invalid entries, `FileWriteError` when the file cannot be written.
    public static func write(_ tensors: [(name: String, tensor: Tensor)],
                             integers: [IntegerEntry] = [],
                             metadata: [String: String] = [:],
                             to url: URL) throws {
        try AtomicFile.write(encode(tensors, integers: integers, metadata: metadata), to: url)
    }
}
