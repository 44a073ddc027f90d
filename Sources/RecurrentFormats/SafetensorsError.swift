import Foundation
import RecurrentCore

/// Why a safetensors file could not be read or written. Every message is one line and names the
/// tensor, field or file concerned.
public enum SafetensorsError: Error, LocalizedError, Equatable, Sendable {
    /// The file could not be opened or read.
    case cannotRead(path: String, reason: String)
    /// Fewer than the 8 bytes of the header-length prefix.
    case fileTooShort(byteCount: Int)
    /// The header length prefix points past the end of the file.
    case headerLengthExceedsFile(headerLength: UInt64, available: Int)
    /// The header length prefix is above the reader's limit.
    case headerLengthAboveLimit(headerLength: UInt64, limit: Int)
    /// The header bytes are not valid UTF-8.
    case headerNotUTF8
    /// The header is not valid JSON.
    case headerNotJSON(reason: String)
    /// The header is JSON but not an object.
    case headerNotObject
    /// The same key appears twice in the header (a tensor name or a field).
    case duplicateKey(String)
    /// A tensor's header entry is not a JSON object.
    case entryNotObject(name: String)
    /// A tensor's header entry lacks `dtype`, `shape` or `data_offsets`.
    case missingField(name: String, field: String)
    /// The `dtype` is not a string or not a known type name.
    case unknownDType(name: String, dtype: String)
    /// The `shape` is not an array of non-negative integers, or its element count overflows.
    case invalidShape(name: String, reason: String)
    /// The `data_offsets` are not two non-negative integers with begin ≤ end.
    case invalidDataOffsets(name: String, reason: String)
    /// The tensor's bytes end beyond the data buffer.
    case dataOutOfBounds(name: String, end: Int, bufferSize: Int)
    /// The byte range length differs from element count × element size.
    case byteLengthMismatch(name: String, expected: Int, found: Int)
    /// Two tensors' byte ranges overlap.
    case overlappingTensors(String, String)
    /// `__metadata__` is not an object of strings.
    case invalidMetadata(reason: String)
    /// No tensor of that name in the file.
    case tensorNotFound(name: String)
    /// `integers(_:)` was asked for a floating-point tensor.
    case notAnIntegerTensor(name: String, dtype: SafetensorsDType)
    /// An unsigned 64-bit value does not fit in `Int`.
    case integerOutOfRange(name: String)
    /// The writer was given two entries with the same name.
    case duplicateName(String)
    /// The writer was given a name it cannot store.
    case invalidName(String, reason: String)
    /// The writer was given an integer entry whose values do not fill its shape.
    case invalidIntegerEntry(name: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case .cannotRead(let path, let reason):
            return "safetensors: cannot read '\(path)': \(reason)"
        case .fileTooShort(let count):
            return "safetensors: file is \(count) bytes, shorter than the 8-byte header length"
        case .headerLengthExceedsFile(let length, let available):
            return "safetensors: header length \(length) exceeds the \(available) bytes after the length prefix"
        case .headerLengthAboveLimit(let length, let limit):
            return "safetensors: header length \(length) is above the limit of \(limit) bytes"
        case .headerNotUTF8:
            return "safetensors: header is not valid UTF-8"
        case .headerNotJSON(let reason):
            return "safetensors: header is not valid JSON: \(reason)"
        case .headerNotObject:
            return "safetensors: header is not a JSON object"
        case .duplicateKey(let key):
            return "safetensors: header has the key '\(ErrorMessage.excerpt(key))' twice"
        case .entryNotObject(let name):
            return "safetensors: entry for tensor '\(ErrorMessage.excerpt(name))' is not a JSON object"
        case .missingField(let name, let field):
            return "safetensors: tensor '\(ErrorMessage.excerpt(name))' has no '\(ErrorMessage.excerpt(field))'"
        case .unknownDType(let name, let dtype):
            return "safetensors: tensor '\(ErrorMessage.excerpt(name))' has unknown dtype \(ErrorMessage.excerpt(dtype))"
        case .invalidShape(let name, let reason):
            return "safetensors: tensor '\(ErrorMessage.excerpt(name))' has an invalid shape: \(reason)"
        case .invalidDataOffsets(let name, let reason):
            return "safetensors: tensor '\(ErrorMessage.excerpt(name))' has invalid data_offsets: \(reason)"
        case .dataOutOfBounds(let name, let end, let size):
            return "safetensors: tensor '\(ErrorMessage.excerpt(name))' ends at byte \(end), beyond the \(size)-byte data buffer"
        case .byteLengthMismatch(let name, let expected, let found):
            return "safetensors: tensor '\(ErrorMessage.excerpt(name))' needs \(expected) bytes for its shape and dtype, data_offsets give \(found)"
        case .overlappingTensors(let a, let b):
            return "safetensors: tensors '\(ErrorMessage.excerpt(a))' and '\(ErrorMessage.excerpt(b))' overlap in the data buffer"
        case .invalidMetadata(let reason):
            return "safetensors: invalid __metadata__: \(reason)"
        case .tensorNotFound(let name):
            return "safetensors: no tensor named '\(ErrorMessage.excerpt(name))'"
        case .notAnIntegerTensor(let name, let dtype):
            return "safetensors: tensor '\(ErrorMessage.excerpt(name))' has floating-point dtype \(dtype.rawValue), not an integer dtype"
        case .integerOutOfRange(let name):
            return "safetensors: tensor '\(ErrorMessage.excerpt(name))' holds a value too large for Int"
        case .duplicateName(let name):
            return "safetensors: two tensors are named '\(ErrorMessage.excerpt(name))'"
        case .invalidName(let name, let reason):
            return "safetensors: cannot store a tensor named '\(ErrorMessage.excerpt(name))': \(reason)"
        case .invalidIntegerEntry(let name, let reason):
            return "safetensors: integer tensor '\(ErrorMessage.excerpt(name))': \(reason)"
        }
    }
}
