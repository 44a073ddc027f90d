/// Splits text into word-level tokens whose concatenation is exactly the original text.
///
/// The text is read as Unicode scalars and cut into three kinds of token:
/// - **words**: maximal runs of word scalars — letters (`isAlphabetic`), digits and other numerals
///   (`numericType != nil`), combining marks (so a decomposed "é" stays inside its word) and connector
///   punctuation such as `_`. An apostrophe (`'` U+0027 or `’` U+2019) with a word scalar on both
///   sides belongs to the word: "don't", "o'er" and "Claudio's" are single tokens, while the
///   apostrophes of "'tis" and "lads'" are tokens of their own.
/// - **whitespace**: maximal runs of one repeated whitespace scalar: `" "`, `"    "`, `"\n"`, `"\n\n"`.
///   A space followed by a newline gives two tokens.
/// - **everything else** (punctuation, symbols, control characters): one token per scalar, so
///   `"--"` is two tokens and `"12+7=19"` is `12`, `+`, `7`, `=`, `19`.
///
/// Case is kept ("The" and "the" are different tokens) so that decoding reproduces the text.
/// Tokens are compared by their UTF-8 bytes, not by Swift's canonical string equality, so that
/// canonically equivalent but differently encoded words stay distinct and round trips are exact.
public enum WordTokenizer {
    /// The tokens of `text`, in order, as UTF-8 byte strings. Joining them gives `Array(text.utf8)`.
    public static func tokenize(_ text: String) -> [[UInt8]] {
        var result: [[UInt8]] = []
        forEachToken(in: text) { result.append(Array($0)) }
        return result
    }

    /// The tokens of `text` as strings. Joining them gives `text`.
    public static func tokenStrings(_ text: String) -> [String] {
        tokenize(text).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with each token's UTF-8 bytes (a slice of the text's UTF-8), in order.
    static func forEachToken(in text: String, _ body: (ArraySlice<UInt8>) -> Void) {
        let bytes = Array(text.utf8)
        let scalars = Array(text.unicodeScalars)
        // Byte offset at which scalar k starts.
        var offsets = [Int](repeating: 0, count: scalars.count + 1)
        for (k, s) in scalars.enumerated() { offsets[k + 1] = offsets[k] + UTF8.width(s) }

        let kinds = scalars.map(kind)
        var k = 0
        while k < scalars.count {
            let start = k
            switch kinds[k] {
            case .word:
                k += 1
                while k < scalars.count {
                    if kinds[k] == .word { k += 1; continue }
                    if kinds[k] == .apostrophe, k + 1 < scalars.count, kinds[k + 1] == .word { k += 2; continue }
                    break
                }
            case .whitespace:
                let s = scalars[k]
                k += 1
                while k < scalars.count, scalars[k] == s { k += 1 }
            case .apostrophe, .other:
                k += 1
            }
            body(bytes[offsets[start]..<offsets[k]])
        }
    }

    enum Kind { case word, whitespace, apostrophe, other }

    static func kind(_ s: Unicode.Scalar) -> Kind {
        if s.value < 0x80 {
            // Fast path for ASCII.
            switch s.value {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F: return .word
            case 0x09...0x0D, 0x20: return .whitespace
            case 0x27: return .apostrophe
            default: return .other
            }
        }
        if s.value == 0x2019 { return .apostrophe }
        let p = s.properties
        if p.isWhitespace { return .whitespace }
        if p.isAlphabetic || p.numericType != nil { return .word }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .connectorPunctuation: return .word
        default: return .other
        }
    }
}
