import Foundation
import RecurrentCore

/// The validated header of a safetensors file: every tensor's name, dtype, shape and byte range, and
/// the `__metadata__` strings — everything about the file but the tensors' values.
///
/// `SafetensorsFile` parses it before it reads any tensor data, so a reader can compare the declared
/// names and shapes with what it expects (`SafetensorsFile(contentsOf:checkHeader:)`) and refuse a
/// file before allocating anything for its data.
public struct SafetensorsHeader: Sendable {
    /// The largest header accepted, in bytes.
    public static let maximumLength = 100_000_000

    struct Entry: Sendable {
        var dtype: SafetensorsDType
        var shape: [Int]
        var elementCount: Int
        /// Byte range relative to the start of the data buffer.
        var begin: Int
        var end: Int
    }

    let entries: [String: Entry]
    /// The `__metadata__` object (empty when absent).
    public let metadata: [String: String]
    /// The tensor names, sorted.
    public let names: [String]
    /// The end of the last tensor's bytes in the data buffer: how much of it a reader needs.
    public let dataEnd: Int

    /// The dtype and shape of tensor `name`, or `nil` when there is no such tensor.
    public func info(_ name: String) -> (dtype: SafetensorsDType, shape: [Int])? {
        entries[name].map { ($0.dtype, $0.shape) }
    }

    /// The header length N from the first (up to 8) bytes of a file of `fileSize` bytes, checked
    /// against the limit and the file size.
    static func headerLength(prefix: Data, fileSize: Int) throws -> Int {
        guard prefix.count >= 8, fileSize >= 8 else { throw SafetensorsError.fileTooShort(byteCount: min(prefix.count, fileSize)) }
        let length: UInt64 = prefix.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length <= UInt64(maximumLength) else {
            throw SafetensorsError.headerLengthAboveLimit(headerLength: length, limit: maximumLength)
        }
        guard length <= UInt64(fileSize - 8) else {
            throw SafetensorsError.headerLengthExceedsFile(headerLength: length, available: fileSize - 8)
        }
        return Int(length)
    }

    /// Parses and checks the header JSON `bytes` of a file whose data buffer holds `bufferSize` bytes.
    init(bytes: [UInt8], bufferSize: Int) throws {
        guard String(validating: bytes, as: UTF8.self) != nil else { throw SafetensorsError.headerNotUTF8 }
        guard case .object(let members) = try HeaderJSONParser.parse(bytes) else {
            throw SafetensorsError.headerNotObject
        }
        var metadata: [String: String] = [:]
        var entries: [String: Entry] = [:]
        for (name, value) in members {
            if name == "__metadata__" {
                metadata = try Self.parseMetadata(value)
            } else {
                entries[name] = try Self.parseEntry(name: name, value, bufferSize: bufferSize)
            }
        }
        // Overlaps: sort by start, then each non-empty range must begin at or after the previous end.
        let ordered = entries.filter { $0.value.end > $0.value.begin }
            .sorted { ($0.value.begin, $0.key) < ($1.value.begin, $1.key) }
        if ordered.count > 1 {
            for i in 1..<ordered.count where ordered[i].value.begin < ordered[i - 1].value.end {
                throw SafetensorsError.overlappingTensors(ordered[i - 1].key, ordered[i].key)
            }
        }
        self.entries = entries
        self.metadata = metadata
        self.names = entries.keys.sorted()
        self.dataEnd = entries.values.map(\.end).max() ?? 0
    }

    private static func parseMetadata(_ value: JSONValue) throws -> [String: String] {
        guard case .object(let pairs) = value else {
            throw SafetensorsError.invalidMetadata(reason: "must be an object of strings, got \(value.kind)")
        }
        var result: [String: String] = [:]
        for (key, item) in pairs {
            guard case .string(let text) = item else {
                throw SafetensorsError.invalidMetadata(reason: "value of '\(ErrorMessage.excerpt(key))' must be a string, got \(item.kind)")
            }
            result[key] = text
        }
        return result
    }

    private static func parseEntry(name: String, _ value: JSONValue, bufferSize: Int) throws -> Entry {
        guard case .object(let fields) = value else { throw SafetensorsError.entryNotObject(name: name) }
        func field(_ key: String) throws -> JSONValue {
            guard let found = fields.first(where: { $0.key == key }) else {
                throw SafetensorsError.missingField(name: name, field: key)
            }
            return found.value
        }

        let dtypeValue = try field("dtype")
        guard case .string(let dtypeName) = dtypeValue else {
            throw SafetensorsError.unknownDType(name: name, dtype: dtypeValue.kind)
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw SafetensorsError.unknownDType(name: name, dtype: dtypeName)
        }

        let shapeValue = try field("shape")
        guard case .array(let dims) = shapeValue else {
            throw SafetensorsError.invalidShape(name: name, reason: "expected an array, got \(shapeValue.kind)")
        }
        var shape: [Int] = []
        var elementCount = 1
        for dim in dims {
            guard case .value(let extent) = dim.integer, extent >= 0 else {
                throw SafetensorsError.invalidShape(name: name, reason: "dimension \(dim.kind) is not a non-negative integer")
            }
            shape.append(extent)
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: extent)
            guard !overflow else { throw SafetensorsError.invalidShape(name: name, reason: "element count overflows") }
            elementCount = product
        }
        let (byteCount, overflow) = elementCount.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw SafetensorsError.invalidShape(name: name, reason: "byte count overflows") }

        let offsetsValue = try field("data_offsets")
        guard case .array(let offsets) = offsetsValue, offsets.count == 2 else {
            throw SafetensorsError.invalidDataOffsets(name: name, reason: "expected two integers, got \(offsetsValue.kind)")
        }
        guard case .value(let begin) = offsets[0].integer, case .value(let end) = offsets[1].integer,
              begin >= 0, end >= 0 else {
            throw SafetensorsError.invalidDataOffsets(
                name: name, reason: "expected two non-negative integers, got [\(offsets[0].kind), \(offsets[1].kind)]")
        }
        guard begin <= end else {
            throw SafetensorsError.invalidDataOffsets(name: name, reason: "begin \(begin) is after end \(end)")
        }
        guard end <= bufferSize else {
            throw SafetensorsError.dataOutOfBounds(name: name, end: end, bufferSize: bufferSize)
        }
        guard end - begin == byteCount else {
            throw SafetensorsError.byteLengthMismatch(name: name, expected: byteCount, found: end - begin)
        }
        return Entry(dtype: dtype, shape: shape, elementCount: elementCount, begin: begin, end: end)
    }
}
