import Foundation
import Recurrent
import XCTest

/// Reading every dtype from hand-built bytes with known values.
final class SafetensorsReadTests: XCTestCase {
    /// One tensor `x` of `dtype` and `shape` holding `buffer`.
    private func single(_ dtype: String, _ shape: [Int], _ buffer: [UInt8]) throws -> SafetensorsFile {
        let dims = shape.map(String.init).joined(separator: ",")
        let header = #"{"x":{"dtype":"\#(dtype)","shape":[\#(dims)],"data_offsets":[0,\#(buffer.count)]}}"#
        return try SafetensorsFile(data: safetensorsBytes(header: header, buffer: buffer))
    }

    private func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    func testF16BitConversion() throws {
        let halves: [UInt16] = [0x3C00, 0xC000, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0x3555, 0x7C00, 0xFC00, 0x8000, 0x0000, 0x7E00]
        let file = try single("F16", [12], littleEndianBytes(halves))
        XCTAssertEqual(file.info("x")?.dtype, .F16)
        let v = try file.tensor("x").scalars
        XCTAssertEqual(v[0], 1.0)
        XCTAssertEqual(v[1], -2.0)
        XCTAssertEqual(v[2], 0x1p-24)                       // smallest subnormal
        XCTAssertEqual(v[3], 1023 * 0x1p-24)                // largest subnormal
        XCTAssertEqual(v[4], 0x1p-14)                       // smallest normal
        XCTAssertEqual(v[5], 65504)                         // largest finite
        XCTAssertEqual(v[6], 0.333251953125)                // 1 + 0x155/1024, times 2^-2
        XCTAssertEqual(v[7], .infinity)
        XCTAssertEqual(v[8], -.infinity)
        XCTAssertEqual(v[9].bitPattern, (-0.0 as Float).bitPattern)
        XCTAssertEqual(v[10].bitPattern, 0)
        XCTAssertTrue(v[11].isNaN)
    }

    func testF16EveryBitPatternMatchesTheValueFormula() throws {
        // Every binary16 bit pattern against an independent route: the value formula in Double.
        let patterns = (0...UInt16.max).map { $0 }
        let v = try single("F16", [patterns.count], littleEndianBytes(patterns)).tensor("x").scalars
        for (bitsValue, value) in zip(patterns, v) {
            let sign: Double = bitsValue & 0x8000 != 0 ? -1 : 1
            let exponent = Int((bitsValue >> 10) & 0x1F)
            let mantissa = Double(bitsValue & 0x3FF)
            if exponent == 0x1F {
                if mantissa == 0 { XCTAssertEqual(Double(value), sign * .infinity) } else { XCTAssertTrue(value.isNaN) }
                continue
            }
            let expected = exponent == 0
                ? sign * mantissa * pow(2, -24)
                : sign * (1 + mantissa / 1024) * pow(2, Double(exponent - 15))
            XCTAssertEqual(Double(value), expected, "pattern \(String(bitsValue, radix: 16))")
            XCTAssertEqual(value.sign == .minus, sign < 0)
            #if !(os(macOS) && arch(x86_64))
            XCTAssertEqual(value, Float(Float16(bitPattern: bitsValue)))   // the standard library's conversion
            #endif
        }
    }

    func testBF16() throws {
        let file = try single("BF16", [5], littleEndianBytes([0x3F80, 0xC040, 0x7F80, 0x0001, 0x3E20] as [UInt16]))
        let v = try file.tensor("x").scalars
        XCTAssertEqual(v[0], 1.0)
        XCTAssertEqual(v[1], -3.0)
        XCTAssertEqual(v[2], .infinity)
        XCTAssertEqual(v[3], 0x1p-133)                      // subnormal
        XCTAssertEqual(v[4], 0.15625)
    }

    func testF8Formats() throws {
        let e5m2 = try single("F8_E5M2", [4], [0x3C, 0xC0, 0x7C, 0x01]).tensor("x").scalars
        XCTAssertEqual(e5m2, [1, -2, .infinity, 0x1p-16])
        let e4m3 = try single("F8_E4M3", [5], [0x38, 0xC0, 0x7E, 0x01, 0x7F]).tensor("x").scalars
        XCTAssertEqual(Array(e4m3[0..<4]), [1, -2, 448, 0x1p-9])
        XCTAssertTrue(e4m3[4].isNaN)
    }

    func testF32AndF64() throws {
        let f32 = try single("F32", [2, 2], littleEndianBytes(bits([1.5, -0.25, .greatestFiniteMagnitude, 0x1p-149])))
        let t = try f32.tensor("x")
        XCTAssertEqual(t.shape, [2, 2])
        XCTAssertEqual(t.scalars, [1.5, -0.25, .greatestFiniteMagnitude, 0x1p-149])

        let doubles: [Double] = [0.1, -2.5, 1e300, 3]
        let f64 = try single("F64", [4], littleEndianBytes(doubles.map(\.bitPattern))).tensor("x").scalars
        XCTAssertEqual(f64, [Float(0.1), -2.5, .infinity, 3])
        XCTAssertThrowsError(try single("F64", [4], littleEndianBytes(doubles.map(\.bitPattern))).integers("x")) {
            XCTAssertEqual($0 as? SafetensorsError, .notAnIntegerTensor(name: "x", dtype: .F64))
        }
    }

    func testSignedIntegers() throws {
        let i64 = try single("I64", [3], littleEndianBytes([-5, Int64.max, Int64.min] as [Int64]))
        XCTAssertEqual(try i64.integers("x").values, [-5, Int.max, Int.min])
        XCTAssertEqual(try i64.tensor("x").scalars[0], -5)
        let i32 = try single("I32", [1, 3], littleEndianBytes([-7, 100_000, Int32.min] as [Int32]))
        let (shape, values) = try i32.integers("x")
        XCTAssertEqual(shape, [1, 3])
        XCTAssertEqual(values, [-7, 100_000, Int(Int32.min)])
        XCTAssertEqual(try i32.tensor("x").scalars, [-7, 100_000, -2_147_483_648])
        XCTAssertEqual(try single("I16", [2], littleEndianBytes([-300, 12] as [Int16])).integers("x").values, [-300, 12])
        XCTAssertEqual(try single("I8", [3], [0xFF, 0x80, 0x7F]).integers("x").values, [-1, -128, 127])
        XCTAssertEqual(try single("I8", [3], [0xFF, 0x80, 0x7F]).tensor("x").scalars, [-1, -128, 127])
    }

    func testUnsignedIntegersAndBool() throws {
        XCTAssertEqual(try single("U8", [3], [0, 200, 255]).integers("x").values, [0, 200, 255])
        XCTAssertEqual(try single("U8", [3], [0, 200, 255]).tensor("x").scalars, [0, 200, 255])
        XCTAssertEqual(try single("U16", [1], littleEndianBytes([65535] as [UInt16])).integers("x").values, [65535])
        XCTAssertEqual(try single("U32", [1], littleEndianBytes([4_000_000_000] as [UInt32])).integers("x").values, [4_000_000_000])
        let u64 = try single("U64", [2], littleEndianBytes([7, UInt64.max] as [UInt64]))
        XCTAssertThrowsError(try u64.integers("x")) {
            XCTAssertEqual($0 as? SafetensorsError, .integerOutOfRange(name: "x"))
        }
        XCTAssertEqual(try u64.tensor("x").scalars, [7, 0x1p64])
        let bools = try single("BOOL", [2, 2], [0, 1, 1, 0])
        XCTAssertEqual(bools.info("x")?.dtype, .BOOL)
        XCTAssertEqual(try bools.integers("x").values, [0, 1, 1, 0])
        XCTAssertEqual(try bools.tensor("x").scalars, [0, 1, 1, 0])
    }

    func testDTypeSizes() {
        let sizes: [SafetensorsDType: Int] = [.F64: 8, .F32: 4, .F16: 2, .BF16: 2, .I64: 8, .I32: 4, .I16: 2, .I8: 1, .U8: 1, .BOOL: 1]
        for (dtype, size) in sizes { XCTAssertEqual(dtype.byteSize, size, dtype.rawValue) }
        XCTAssertTrue(SafetensorsDType.BF16.isFloatingPoint)
        XCTAssertFalse(SafetensorsDType.BOOL.isFloatingPoint)
    }

    func testMetadataNamesAndInfo() throws {
        let header = #"{"__metadata__":{"format":"pt","note":"a \"quoted\" \u00e9"},"b":{"dtype":"F32","shape":[],"data_offsets":[4,8]},"a":{"dtype":"U8","shape":[0,3],"data_offsets":[0,0]}}"#
        let file = try SafetensorsFile(data: safetensorsBytes(header: header, buffer: [0, 0, 0, 0] + littleEndianBytes([Float(2.5).bitPattern])))
        XCTAssertEqual(file.metadata, ["format": "pt", "note": "a \"quoted\" é"])
        XCTAssertEqual(file.names, ["a", "b"])
        XCTAssertEqual(file.info("b")?.shape, [])
        XCTAssertEqual(try file.tensor("b"), Tensor(2.5))
        XCTAssertEqual(try file.tensor("a").shape, [0, 3])
        XCTAssertEqual(try file.integers("a").values, [])
        XCTAssertNil(file.info("c"))
        XCTAssertEqual(try file.tensors(), ["b": Tensor(2.5), "a": Tensor(zeros: [0, 3])])
    }

    func testReadsFromADataSlice() throws {
        // A Data whose indices do not start at zero.
        let bytes = Data([9, 9, 9]) + safetensorsBytes(header: #"{"x":{"dtype":"I16","shape":[1],"data_offsets":[0,2]}}"#, buffer: [0xFE, 0xFF])
        let file = try SafetensorsFile(data: bytes[3...])
        XCTAssertEqual(try file.integers("x").values, [-2])
    }
}
