/// Strict UTF-8 validation (RFC 3629): rejects overlong forms, surrogates (U+D800–U+DFFF),
/// code points above U+10FFFF and truncated sequences.
enum UTF8Validation {
    /// Where the first invalid byte sequence starts.
    struct Failure: Equatable {
        /// Byte offset of the first byte of the invalid sequence (from 0).
        var byteOffset: Int
        /// The line it is on (from 1), counting `\n` bytes before it.
        var line: Int
    }

    /// `nil` when `bytes` is valid UTF-8, otherwise the position of the first invalid sequence.
    static func firstInvalidSequence(in bytes: UnsafeBufferPointer<UInt8>) -> Failure? {
        let n = bytes.count
        var i = 0
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 { i += 1; continue }
            // The allowed range of the second byte and the number of continuation bytes.
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch b0 {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return failure(at: i, in: bytes)
            }
            guard i + length <= n, bytes[i + 1] >= low, bytes[i + 1] <= high else { return failure(at: i, in: bytes) }
            for k in 2..<length where bytes[i + k] & 0xC0 != 0x80 { return failure(at: i, in: bytes) }
            i += length
        }
        return nil
    }

    static func firstInvalidSequence(in bytes: [UInt8]) -> Failure? {
        bytes.withUnsafeBufferPointer { firstInvalidSequence(in: $0) }
    }

    private static func failure(at offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Failure {
        var line = 1
        for k in 0..<offset where bytes[k] == 0x0A { line += 1 }
        return Failure(byteOffset: offset, line: line)
    }
}
