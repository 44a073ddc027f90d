import Foundation

/// A text file that cannot be used for a language model. Each message is one line that starts with
/// the file (or the label of an in-memory text) and names the problem.
public enum TextCorpusError: Error, LocalizedError, Equatable, Sendable {
    /// Which part of the split is too short.
    public enum Part: String, Sendable, Equatable {
        case training, validation
    }

    /// There is no file at the path.
    case fileNotFound(path: String)
    /// The file exists but cannot be read (a directory, no permission, an I/O error).
    case unreadable(path: String, reason: String)
    /// The file has no bytes.
    case empty(source: String)
    /// The file is not UTF-8 (character and word level need text); the message suggests `--level byte`.
    case invalidUTF8(source: String, byteOffset: Int, line: Int)
    /// A part of the split has fewer than `required = batchSize · sequenceLength + 1` tokens.
    case tooShort(source: String, part: Part, tokens: Int, required: Int, batchSize: Int, sequenceLength: Int)
    /// The text does not fit a given vocabulary (of a checkpoint): a different level, or a character
    /// the vocabulary lacks. `detail` says which.
    case vocabularyMismatch(source: String, detail: String)

    public var errorDescription: String? {
        switch self {
        case let .fileNotFound(path):
            return "\(path): no such file"
        case let .unreadable(path, reason):
            return "\(path): cannot read the file (\(reason))"
        case let .empty(source):
            return "\(source): the file is empty"
        case let .invalidUTF8(source, offset, line):
            return "\(source): not valid UTF-8 text (first invalid byte at offset \(offset), line \(line)); "
                + "use --level byte for binary or non-UTF-8 files"
        case let .tooShort(source, part, tokens, required, batchSize, sequenceLength):
            let hint = part == .training
                ? "use a smaller --batch or --seq, or a longer text"
                : "use a smaller --batch or --seq, or a larger --val-fraction (0 disables validation)"
            return "\(source): the \(part.rawValue) part has \(tokens) tokens, but one batch of "
                + "\(batchSize) × \(sequenceLength) needs at least \(required); \(hint)"
        case let .vocabularyMismatch(source, detail):
            return "\(source): vocabulary mismatch: \(detail)"
        }
    }
}
