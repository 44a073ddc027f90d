/// The element types of the safetensors format, under the names used in a file's header.
///
/// Every type can be read as Float32 (`SafetensorsFile.tensor(_:)`); the integer types and `BOOL`
/// can also be read exactly as `Int` (`SafetensorsFile.integers(_:)`). The writer produces `F32`
/// and `I64`.
public enum SafetensorsDType: String, CaseIterable, Sendable {
    case F64, F32, F16, BF16
    case F8_E5M2, F8_E4M3
    case I64, I32, I16, I8
    case U64, U32, U16, U8
    case BOOL

    /// The size of one element in bytes.
    public var byteSize: Int {
        switch self {
        case .F64, .I64, .U64: return 8
        case .F32, .I32, .U32: return 4
        case .F16, .BF16, .I16, .U16: return 2
        case .F8_E5M2, .F8_E4M3, .I8, .U8, .BOOL: return 1
        }
    }

    /// Whether the type holds floating-point numbers (as opposed to integers or booleans).
    public var isFloatingPoint: Bool {
        switch self {
        case .F64, .F32, .F16, .BF16, .F8_E5M2, .F8_E4M3: return true
        case .I64, .I32, .I16, .I8, .U64, .U32, .U16, .U8, .BOOL: return false
        }
    }
}

/// Bit-level conversions of the narrow floating-point formats to Float32.
enum FloatBits {
    /// IEEE 754 binary16 (1 sign, 5 exponent, 10 mantissa bits) to Float32; exact for every input,
    /// including subnormals, infinities and NaN (the payload is kept in the high mantissa bits).
    @inline(__always)
    static func float(fromHalf bits: UInt16) -> Float {
        let sign = UInt32(bits >> 15) << 31
        let exponent = UInt32((bits >> 10) & 0x1F)
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 {
            // Zero or subnormal: mantissa × 2⁻²⁴, exactly representable in Float32.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | ((exponent + (127 - 15)) << 23) | (mantissa << 13))
    }

    /// bfloat16 (the upper half of a Float32) to Float32.
    @inline(__always)
    static func float(fromBFloat16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// float8 E5M2 (the upper byte of a binary16) to Float32.
    @inline(__always)
    static func float(fromE5M2 bits: UInt8) -> Float {
        float(fromHalf: UInt16(bits) << 8)
    }

    /// float8 E4M3FN (bias 7, no infinities, NaN when all exponent and mantissa bits are set) to Float32.
    @inline(__always)
    static func float(fromE4M3 bits: UInt8) -> Float {
        let negative = bits & 0x80 != 0
        let exponent = Int((bits >> 3) & 0x0F)
        let mantissa = Float(bits & 0x07)
        let magnitude: Float
        if exponent == 0x0F && bits & 0x07 == 0x07 {
            magnitude = .nan
        } else if exponent == 0 {
            magnitude = mantissa * 0x1p-9
        } else {
            magnitude = (1 + mantissa / 8) * Float(sign: .plus, exponent: exponent - 7, significand: 1)
        }
        return negative ? -magnitude : magnitude
    }
}
