import Foundation
import RecurrentCore

/// A safetensors file, validated on opening and read lazily tensor by tensor.
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of UTF-8 JSON mapping each tensor
/// name to `{"dtype", "shape", "data_offsets": [begin, end]}` (plus an optional `__metadata__`
/// object of strings), then the data buffer; offsets count from the start of the buffer and the
/// data is little-endian, row-major.
///
/// Opening checks every entry (`SafetensorsHeader`: dtype, shape, offsets, bounds, byte lengths,
/// overlaps), so a file that opens can be read in full; malformed input throws `SafetensorsError`
/// and never traps. Gaps between tensors in the buffer are tolerated.
public struct SafetensorsFile: Sendable {
    /// The largest header accepted, in bytes.
    public static let maximumHeaderLength = SafetensorsHeader.maximumLength

    /// The validated header: names, dtypes, shapes and where each tensor's bytes are.
    public let header: SafetensorsHeader
    /// The data buffer (up to the end of the last tensor).
    private let buffer: Data

    /// The `__metadata__` object (empty when absent).
    public var metadata: [String: String] { header.metadata }
    /// The tensor names, sorted.
    public var names: [String] { header.names }

    /// Opens and validates the file at `url`: reads the header, hands it to `checkHeader` (which
    /// may throw, for example when the names or shapes are not the ones a model needs), and only
    /// then reads the tensors' bytes. Only a regular file is opened (`InputFile`). The file is read
    /// into memory once (not memory-mapped), so another process truncating or rewriting it
    /// afterwards cannot crash the reader.
    /// - Throws: `SafetensorsError`, or what `checkHeader` throws.
    public init(contentsOf url: URL, checkHeader: (SafetensorsHeader) throws -> Void = { _ in }) throws {
        let path = url.path
        let file: InputFile
        do { file = try InputFile(url) } catch let error as InputFileError {
            throw SafetensorsError.cannotRead(path: path, reason: error.reason)
        }
        func read(_ offset: Int, _ count: Int) throws -> Data {
            do { return try file.read(offset: offset, count: count) } catch let error as InputFileError {
                throw SafetensorsError.cannotRead(path: path, reason: error.reason)
            }
        }
        let length = try SafetensorsHeader.headerLength(prefix: read(0, min(8, file.size)), fileSize: file.size)
        let header = try SafetensorsHeader(bytes: [UInt8](read(8, length)), bufferSize: file.size - 8 - length)
        try checkHeader(header)
        let buffer = try read(8 + length, header.dataEnd)
        guard buffer.count == header.dataEnd else {
            throw SafetensorsError.cannotRead(path: path, reason: "the file shrank while it was being read")
        }
        self.header = header
        self.buffer = buffer
    }

    /// Validates the safetensors bytes in `data`.
    public init(data: Data) throws {
        let length = try SafetensorsHeader.headerLength(prefix: data.prefix(8), fileSize: data.count)
        let start = data.startIndex
        header = try SafetensorsHeader(bytes: [UInt8](data[(start + 8)..<(start + 8 + length)]),
                                       bufferSize: data.count - 8 - length)
        buffer = data[(start + 8 + length)..<(start + 8 + length + header.dataEnd)]
    }

    // MARK: - Reading

    /// The dtype and shape of tensor `name`, or `nil` when there is no such tensor.
    public func info(_ name: String) -> (dtype: SafetensorsDType, shape: [Int])? { header.info(name) }

    private func entry(_ name: String) throws -> SafetensorsHeader.Entry {
        guard let entry = header.entries[name] else { throw SafetensorsError.tensorNotFound(name: name) }
        return entry
    }

    /// Calls `body` with the bytes of `entry`.
    private func withBytes<R>(of entry: SafetensorsHeader.Entry, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        buffer.withUnsafeBytes { all in body(UnsafeRawBufferPointer(rebasing: all[entry.begin..<entry.end])) }
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
