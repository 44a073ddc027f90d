/// Decodes a stream of bytes as UTF-8 one byte at a time, for showing byte-level samples as they are
/// generated.
///
/// Each call returns the text that the byte completes: `""` while a multi-byte character is still
/// incomplete, the character once its last byte arrives, and U+FFFD (the replacement character) for
/// each maximal invalid subsequence, as the Unicode standard recommends. The concatenation of every
/// `decode(_:)` result followed by `finish()` equals `String(decoding: allBytes, as: UTF8.self)`.
///
/// This is for display only; write the raw bytes where exact output matters.
public struct UTF8StreamDecoder: Sendable, Equatable {
    /// The bits of the scalar decoded so far.
    private var scalar: UInt32 = 0
    /// Continuation bytes still needed (0: between characters).
    private var remaining = 0
    /// The range the next continuation byte must fall in (narrower after E0, ED, F0 and F4).
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    public init() {}

    /// Whether a multi-byte character has started but is not complete.
    public var hasPendingBytes: Bool { remaining > 0 }

    /// Feeds one byte and returns the text it completes (possibly empty).
    public mutating func decode(_ byte: UInt8) -> String {
        var prefix = ""
        if remaining > 0 {
            if byte >= lower && byte <= upper {
                scalar = (scalar << 6) | UInt32(byte & 0x3F)
                remaining -= 1
                lower = 0x80
                upper = 0xBF
                if remaining > 0 { return "" }
                // The ranges above exclude surrogates and values past U+10FFFF, so this cannot fail.
                return Unicode.Scalar(scalar).map { String($0) } ?? "\u{FFFD}"
            }
            // The pending bytes are a maximal invalid subpart: one replacement, then read `byte` afresh.
            prefix = "\u{FFFD}"
            reset()
        }
        switch byte {
        case 0x00...0x7F:
            return prefix + String(Unicode.Scalar(byte))
        case 0xC2...0xDF:
            start(byte & 0x1F, remaining: 1)
        case 0xE0:
            start(byte & 0x0F, remaining: 2, lower: 0xA0)
        case 0xED:
            start(byte & 0x0F, remaining: 2, upper: 0x9F)
        case 0xE1...0xEF:
            start(byte & 0x0F, remaining: 2)
        case 0xF0:
            start(byte & 0x07, remaining: 3, lower: 0x90)
        case 0xF4:
            start(byte & 0x07, remaining: 3, upper: 0x8F)
        case 0xF1...0xF3:
            start(byte & 0x07, remaining: 3)
        default:
            // A stray continuation byte, or C0, C1, F5...FF, which never occur in UTF-8.
            return prefix + "\u{FFFD}"
        }
        return prefix
    }

    /// Ends the stream: U+FFFD when an incomplete character is pending, else `""`.
    public mutating func finish() -> String {
        defer { reset() }
        return remaining > 0 ? "\u{FFFD}" : ""
    }

    private mutating func start(_ bits: UInt8, remaining: Int, lower: UInt8 = 0x80, upper: UInt8 = 0xBF) {
        scalar = UInt32(bits)
        self.remaining = remaining
        self.lower = lower
        self.upper = upper
    }

    private mutating func reset() {
        scalar = 0
        remaining = 0
        lower = 0x80
        upper = 0xBF
    }
}
