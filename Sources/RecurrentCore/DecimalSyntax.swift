/// The numbers the data readers accept: plain decimal notation, `[+-]digits[.digits][e[+-]digits]`
/// (also `.5` and `5.`).
///
/// Swift's `Double(String)` and C's `strtod`/`strtof` also read hexadecimal floats (`0x10` is 16,
/// `0x1p3` is 8), `inf`, `infinity` and `nan` in any case: a CSV cell `0x10` would silently become 16.
/// The CSV tables of `recurrent forecast` and the word-vector files check a cell with `matches` before
/// converting it, so anything else is reported as not a number (missing-value markers such as `NaN` or
/// `NA` are recognised by the CSV reader before this check).
public enum DecimalSyntax {
    /// Whether `bytes` (UTF-8) is a number in plain decimal notation, nothing before or after it.
    public static func matches<Bytes: Collection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        var index = bytes.startIndex
        func skipSign() {
            if index != bytes.endIndex, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index = bytes.index(after: index)
            }
        }
        func digits() -> Int {
            var count = 0
            while index != bytes.endIndex, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                index = bytes.index(after: index)
                count += 1
            }
            return count
        }
        skipSign()
        var mantissaDigits = digits()
        if index != bytes.endIndex, bytes[index] == UInt8(ascii: ".") {
            index = bytes.index(after: index)
            mantissaDigits += digits()
        }
        guard mantissaDigits > 0 else { return false }
        if index != bytes.endIndex, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index = bytes.index(after: index)
            skipSign()
            guard digits() > 0 else { return false }
        }
        return index == bytes.endIndex
    }
}
