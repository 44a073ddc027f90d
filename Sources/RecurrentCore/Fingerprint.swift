/// A 64-bit FNV-1a hash, fed value by value: what checkpoints store of their training data, so that
/// a resumed run can check it is given the same data (`TextCorpus.fingerprint` and the forecasting,
/// classification and translation data).
public struct Fingerprint: Sendable {
    /// The hash of everything mixed in so far.
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    /// Mixes in the eight bytes of `word`, least significant first.
    public mutating func mix(_ word: UInt64) {
        var v = word
        for _ in 0..<8 { value = (value ^ (v & 0xFF)) &* 0x0000_0100_0000_01B3; v >>= 8 }
    }

    /// Mixes in an integer.
    public mutating func mix(_ integer: Int) { mix(UInt64(bitPattern: Int64(integer))) }

    /// Mixes in a number by its bit pattern.
    public mutating func mix(_ number: Double) { mix(number.bitPattern) }

    /// Mixes in the UTF-8 bytes of `text`, then a terminator that no byte equals.
    public mutating func mix(_ text: String) {
        for byte in text.utf8 { mix(UInt64(byte)) }
        mix(UInt64(0xFFFF))
    }

    /// The value as 16 hexadecimal digits (how checkpoints write it).
    public var hexadecimal: String { Self.hexadecimal(value) }

    /// `value` as 16 hexadecimal digits.
    public static func hexadecimal(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
