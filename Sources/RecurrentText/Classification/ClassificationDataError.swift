import Foundation
import RecurrentCore

/// Why labelled text cannot be used for classification. Every message is one line that names the
/// file (and line, where there is one) and, where one exists, the option that fixes it.
///
/// Line numbers count physical lines with the header as line 1; a quoted cell that spans several
/// lines is reported at the line where its row starts.
public enum ClassificationDataError: Error, LocalizedError, Equatable, Sendable {
    /// The file or folder cannot be read (missing, unreadable, not UTF-8).
    case unreadable(path: String, reason: String)
    /// No header line, or a header and no rows, or a folder without examples.
    case empty(path: String)
    /// A quote that is never closed, or text right after a closing quote.
    case malformedRow(path: String, line: Int, reason: String)
    /// A row with another number of cells than the header.
    case raggedRow(path: String, line: Int, found: Int, expected: Int)
    /// A column named by an option (or its default) is not in the header.
    case missingColumn(path: String, name: String, option: String, available: [String])
    /// Two header cells with the same name.
    case duplicateColumn(path: String, name: String)
    /// The text and label columns are the same column.
    case sameColumn(name: String)
    /// A row whose label cell is empty (or only whitespace).
    case emptyLabel(path: String, line: Int)
    /// A row (or file) whose text is empty (or only whitespace).
    case emptyText(path: String, line: Int?)
    /// Every example has the same label: there is nothing to tell apart.
    case singleClass(path: String, label: String)
    /// A label the checkpoint was not trained on (evaluate).
    case unknownLabel(path: String, line: Int?, label: String, known: [String])
    /// The split leaves no examples for training or validation.
    case splitTooSmall(count: Int, validation: Int, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read '\(path)': \(reason)"
        case let .empty(path):
            return "'\(path)' has no examples (a CSV/TSV needs a header line and at least one row; a folder needs one sub-folder of .txt files per class)"
        case let .malformedRow(path, line, reason):
            return "'\(path)', line \(line): \(reason)"
        case let .raggedRow(path, line, found, expected):
            return "'\(path)', line \(line): the row has \(found) cell\(found == 1 ? "" : "s"), the header has \(expected)"
        case let .missingColumn(path, name, option, available):
            return "'\(path)' has no column '\(ErrorMessage.excerpt(name))' (\(option)); its columns are \(ErrorMessage.list(available))"
        case let .duplicateColumn(path, name):
            return "'\(path)': the header names column '\(ErrorMessage.excerpt(name))' twice"
        case let .sameColumn(name):
            return "the text and label columns are both '\(ErrorMessage.excerpt(name))'; --text-column and --label-column must differ"
        case let .emptyLabel(path, line):
            return "'\(path)', line \(line): empty label"
        case let .emptyText(path, line):
            return line.map { "'\(path)', line \($0): empty text" } ?? "'\(path)': empty text"
        case let .singleClass(path, label):
            return "'\(path)': every example has the label '\(ErrorMessage.excerpt(label))'; at least two classes are needed"
        case let .unknownLabel(path, line, label, known):
            return "'\(path)'\(line.map { ", line \($0)" } ?? ""): label '\(ErrorMessage.excerpt(label))' is not one the model was trained on ("
                + ErrorMessage.list(known) + ")"
        case let .splitTooSmall(count, validation, reason):
            return "cannot split \(count) examples into training and \(validation) validation examples: \(reason)"
        }
    }
}
