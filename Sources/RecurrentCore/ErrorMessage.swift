/// Values from the user's input as they appear in error messages: short, on one line.
///
/// An error echoes the bad value so that the user can find it ("'0x1G' is not a finite number"),
/// but a cell of 100 KB, a header of a million column names or a value with a line break would make
/// the one-line message unreadable. Every message that quotes input goes through `excerpt` (one
/// value) or `list` (several).
public enum ErrorMessage {
    /// The most characters of one value that a message shows.
    public static let maximumValueLength = 60
    /// The most values of a list that a message shows.
    public static let maximumListCount = 12

    /// `value` with line breaks and other control characters written as escapes (`\n`, `\t`,
    /// `\u{1B}`), cut after `maximumLength` characters with "…".
    public static func excerpt(_ value: some StringProtocol, maximumLength: Int = maximumValueLength) -> String {
        var result = ""
        var count = 0
        for character in value {
            if count == maximumLength { return result + "…" }
            if character.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{2029}" }) {
                result += character.unicodeScalars.map { $0.escaped(asASCII: true) }.joined()
            } else {
                result.append(character)
            }
            count += 1
        }
        return result
    }

    /// The values quoted ('a', 'b') and joined with commas, at most `maximumListCount` of them
    /// followed by "… (N in all)".
    public static func list(_ values: [String]) -> String {
        let shown = values.prefix(maximumListCount).map { "'\(excerpt($0))'" }.joined(separator: ", ")
        return values.count > maximumListCount ? shown + ", … (\(values.count) in all)" : shown
    }
}
