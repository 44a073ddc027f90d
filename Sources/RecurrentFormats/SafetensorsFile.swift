import Foundation
import RecurrentCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A safetensors file, validated on opening and read lazily tensor by tensor.
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of UTF-8 JSON mapping each tensor
/// name to `{"dtype", "shape", "data_offsets": [begin, end]}` (plus an optional `__metadata__`
/// object of strings), then the data buffer; offsets count from the start of the buffer and the
/// data is little-endian, row-major.
///
/// Opening checks every entry (dtype, shape, offsets, bounds, byte lengths, overlaps), so a file
/// that opens can be read in full; malformed input throws `SafetensorsError` and never traps.
/// Gaps between tensors in the buffer are tolerated.
public struct SafetensorsFile: Sendable {
    /// The largest header accepted, in bytes.
    public static let maximumHeaderLength = 100_000_000

    struct Entry: Sendable {
        var dtype: SafetensorsDType
        var shape: [Int]
        var elementCount: Int
        /// Byte range relative to the start of the data buffer.
        var begin: Int
        var end: Int
    }

    /// The whole file.
    private let data: Data
    /// Offset of the data buffer within `data`.
    private let bufferStart: Int
    private let entries: [String: Entry]

    /// The `__metadata__` object (empty when absent).
    public var metadata: [String: String]
    /// The tensor names, sorted.
    public var names: [String]

    /// Opens and validates the file at `url`. The file is read into memory once (not memory-mapped),
    /// so another process truncating or rewriting it afterwards cannot crash the reader.
    public init(contentsOf url: URL) throws {
        try self.init(data: Self.contents(of: url))
    }

    private static func contents(of url: URL) throws -> Data {
        let path = url.path
        func failure(_ reason: String) -> SafetensorsError { .cannotRead(path: path, reason: reason) }
        func systemReason() -> String { String(cString: strerror(errno)) }

        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(systemReason()) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure(systemReason()) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw failure("not a regular file") }
        let size = Int(status.st_size)
        var data = Data(count: size)
        var filled = 0
        try data.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) in
            while filled < size {
                let count = read(descriptor, buffer.baseAddress! + filled, size - filled)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw failure(systemReason())
                }
                if count == 0 { break }   // the file shrank while being read: validation judges what is there
                filled += count
            }
        }
        return filled == size ? data : data.prefix(filled)
    }

    /// Validates the safetensors bytes in `data`.
    public init(data: Data) throws {
        let total = data.count
        guard total >= 8 else { throw SafetensorsError.fileTooShort(byteCount: total) }
        let headerLength: UInt64 = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(Self.maximumHeaderLength) else {
            throw SafetensorsError.headerLengthAboveLimit(headerLength: headerLength, limit: Self.maximumHeaderLength)
        }
        guard headerLength <= UInt64(total - 8) else {
            throw SafetensorsError.headerLengthExceedsFile(headerLength: headerLength, available: total - 8)
        }
        let n = Int(headerLength)
        let headerBytes: [UInt8] = data.withUnsafeBytes { Array($0[8..<(8 + n)]) }
        guard String(validating: headerBytes, as: UTF8.self) != nil else { throw SafetensorsError.headerNotUTF8 }
        guard case .object(let members) = try HeaderJSONParser.parse(headerBytes) else {
            throw SafetensorsError.headerNotObject
        }

        let bufferSize = total - 8 - n
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

        self.data = data
        self.bufferStart = 8 + n
        self.entries = entries
        self.metadata = metadata
        self.names = entries.keys.sorted()
    }

    private static func parseMetadata(_ value: JSONValue) throws -> [String: String] {
        guard case .object(let pairs) = value else {
            throw SafetensorsError.invalidMetadata(reason: "must be an object of strings, got \(value.kind)")
        }
        var result: [String: String] = [:]
        for (key, item) in pairs {
            guard case .string(let text) = item else {
                throw SafetensorsError.invalidMetadata(reason: "value of '\(key)' must be a string, got \(item.kind)")
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

    // MARK: - Reading

    /// The dtype and shape of tensor `name`, or `nil` when there is no such tensor.
    public func info(_ name: String) -> (dtype: SafetensorsDType, shape: [Int])? {
        entries[name].map { ($0.dtype, $0.shape) }
    }

    private func entry(_ name: String) throws -> Entry {
        guard let entry = entries[name] else { throw SafetensorsError.tensorNotFound(name: name) }
        return entry
    }

    /// Calls `body` with the bytes of `entry`.
    private func withBytes<R>(of entry: Entry, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        data.withUnsafeBytes { all in
            body(UnsafeRawBufferPointer(rebasing: all[(bufferStart + entry.begin)..<(bufferStart + entry.end)]))
        }
    }

    /// Tensor `name` converted to Float32, whatever its dtype (integers and booleans become their
    /// value; F64 rounds to nearest).
    public func tensor(_ name: String) throws -> Tensor {
        let entry = try entry(name)
        let n = entry.elementCount
        return withBytes(of: entry) { raw in
            Tensor(shape: entry.shape) { out in
                Self.convertToFloat(raw, dtype: entry.dtype, count: n, into: out)
            }
        }
    }

    /// Every tensor, converted to Float32, by name (ready for `loadStateDict`).
    public func tensors() throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for name in names { result[name] = try tensor(name) }
        return result
    }

    /// Integer tensor `name` (I64, I32, I16, I8, U64, U32, U16, U8 or BOOL as 0/1), read exactly.
    public func integers(_ name: String) throws -> (shape: [Int], values: [Int]) {
        let entry = try entry(name)
        guard !entry.dtype.isFloatingPoint else {
            throw SafetensorsError.notAnIntegerTensor(name: name, dtype: entry.dtype)
        }
        let n = entry.elementCount
        var fits = true
        let values: [Int] = withBytes(of: entry) { raw in
            [Int](unsafeUninitializedCapacity: n) { out, initialized in
                fits = Self.convertToInt(raw, dtype: entry.dtype, count: n, into: out)
                initialized = n
            }
        }
        guard fits else { throw SafetensorsError.integerOutOfRange(name: name) }
        return (entry.shape, values)
    }

    // MARK: - Conversions

    @inline(__always)
    private static func load<T: FixedWidthInteger>(_ raw: UnsafeRawBufferPointer, _ i: Int, as: T.Type) -> T {
        T(littleEndian: raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
    }

    private static func convertToFloat(_ raw: UnsafeRawBufferPointer, dtype: SafetensorsDType, count n: Int,
                                       into out: UnsafeMutableBufferPointer<Float>) {
        switch dtype {
        case .F32:
            for i in 0..<n { out[i] = Float(bitPattern: load(raw, i, as: UInt32.self)) }
        case .F64:
            for i in 0..<n { out[i] = Float(Double(bitPattern: load(raw, i, as: UInt64.self))) }
        case .F16:
            for i in 0..<n { out[i] = FloatBits.float(fromHalf: load(raw, i, as: UInt16.self)) }
        case .BF16:
            for i in 0..<n { out[i] = FloatBits.float(fromBFloat16: load(raw, i, as: UInt16.self)) }
        case .F8_E5M2:
            for i in 0..<n { out[i] = FloatBits.float(fromE5M2: raw[i]) }
        case .F8_E4M3:
            for i in 0..<n { out[i] = FloatBits.float(fromE4M3: raw[i]) }
        case .I64: for i in 0..<n { out[i] = Float(load(raw, i, as: Int64.self)) }
        case .I32: for i in 0..<n { out[i] = Float(load(raw, i, as: Int32.self)) }
        case .I16: for i in 0..<n { out[i] = Float(load(raw, i, as: Int16.self)) }
        case .I8: for i in 0..<n { out[i] = Float(Int8(bitPattern: raw[i])) }
        case .U64: for i in 0..<n { out[i] = Float(load(raw, i, as: UInt64.self)) }
        case .U32: for i in 0..<n { out[i] = Float(load(raw, i, as: UInt32.self)) }
        case .U16: for i in 0..<n { out[i] = Float(load(raw, i, as: UInt16.self)) }
        case .U8: for i in 0..<n { out[i] = Float(raw[i]) }
        case .BOOL: for i in 0..<n { out[i] = raw[i] != 0 ? 1 : 0 }
        }
    }

    /// Writes `n` integers into `out`; returns false when a U64 value exceeds `Int.max` (the rest
    /// of `out` is still initialised).
    private static func convertToInt(_ raw: UnsafeRawBufferPointer, dtype: SafetensorsDType, count n: Int,
                                     into out: UnsafeMutableBufferPointer<Int>) -> Bool {
        var fits = true
        switch dtype {
        case .I64: for i in 0..<n { out.initializeElement(at: i, to: Int(load(raw, i, as: Int64.self))) }
        case .I32: for i in 0..<n { out.initializeElement(at: i, to: Int(load(raw, i, as: Int32.self))) }
        case .I16: for i in 0..<n { out.initializeElement(at: i, to: Int(load(raw, i, as: Int16.self))) }
        case .I8: for i in 0..<n { out.initializeElement(at: i, to: Int(Int8(bitPattern: raw[i]))) }
        case .U64:
            for i in 0..<n {
                let value = load(raw, i, as: UInt64.self)
                if value > UInt64(Int.max) { fits = false }
                out.initializeElement(at: i, to: Int(truncatingIfNeeded: value))
            }
        case .U32: for i in 0..<n { out.initializeElement(at: i, to: Int(load(raw, i, as: UInt32.self))) }
        case .U16: for i in 0..<n { out.initializeElement(at: i, to: Int(load(raw, i, as: UInt16.self))) }
        case .U8: for i in 0..<n { out.initializeElement(at: i, to: Int(raw[i])) }
        case .BOOL: for i in 0..<n { out.initializeElement(at: i, to: raw[i] != 0 ? 1 : 0) }
        case .F64, .F32, .F16, .BF16, .F8_E5M2, .F8_E4M3:
            preconditionFailure("SafetensorsFile.convertToInt: floating-point dtype \(dtype)")
        }
        return fits
    }
}
