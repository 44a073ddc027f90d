import Foundation
import RecurrentCore

/// Why a CSV file cannot be turned into a series to forecast. Every message is one line that names
/// the file, column, line or value concerned and, where one exists, the option that handles it.
///
/// Line numbers count physical lines with the header as line 1 (exact unless a quoted cell spans
/// several lines).
public enum ForecastDataError: Error, LocalizedError, Equatable, Sendable {
    /// The file cannot be read (missing, unreadable, not UTF-8).
    case unreadable(path: String, reason: String)
    /// The CSV syntax is broken (a stray quote ...); `reason` is the parser's.
    case malformedCSV(path: String, reason: String)
    /// No header, or a header but no data rows.
    case empty(path: String)
    /// A row with another number of cells than the header.
    case raggedRow(path: String, line: Int, found: Int, expected: Int)
    /// Two header cells with the same name.
    case duplicateColumn(path: String, name: String)
    /// A column named on the command line is not in the header.
    case unknownColumn(name: String, available: [String])
    /// The same column is used twice (target and feature, or date and value).
    case columnUsedTwice(name: String)
    /// An empty or missing-value cell (`""`, `NA`, `NaN`, `null`, `?`) with `--fill error`.
    case missingValue(column: String, line: Int)
    /// A cell that is neither a finite number in decimal notation (`DecimalSyntax`) nor a missing-value marker.
    case nonNumeric(column: String, line: Int, value: String)
    /// A missing value that the chosen fill cannot fill (forward fill of a leading gap ...).
    case cannotFill(column: String, line: Int, reason: String)
    /// A date cell that does not parse, or dates that do not increase.
    case badDate(column: String, line: Int, value: String, reason: String)
    /// Too few values for the window, horizon and split.
    case tooShort(count: Int, needed: Int, reason: String)
    /// The target does not vary over the training split: there is nothing to learn and no scale.
    case constantTarget(column: String, value: Double)
    /// `--transform log` needs positive values.
    case nonPositiveForLog(column: String, line: Int, value: Double)

    public var errorDescription: String? {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read CSV file '\(path)': \(reason)"
        case let .malformedCSV(path, reason):
            return "CSV file '\(path)' is malformed: \(reason)"
        case let .empty(path):
            return "CSV file '\(path)' has no data rows (a header line and at least one row are needed)"
        case let .raggedRow(path, line, found, expected):
            return "CSV file '\(path)', line \(line): the row has \(found) cell\(found == 1 ? "" : "s"), the header has \(expected)"
        case let .duplicateColumn(path, name):
            return "CSV file '\(path)': the header names column '\(ErrorMessage.excerpt(name))' twice"
        case let .unknownColumn(name, available):
            return "no column '\(ErrorMessage.excerpt(name))' in the CSV; its columns are \(ErrorMessage.list(available))"
        case let .columnUsedTwice(name):
            return "column '\(ErrorMessage.excerpt(name))' is given twice (target, features and date must be different columns)"
        case let .missingValue(column, line):
            return "column '\(ErrorMessage.excerpt(column))', line \(line): missing value (use --fill forward or --fill linear to fill gaps)"
        case let .nonNumeric(column, line, value):
            return "column '\(ErrorMessage.excerpt(column))', line \(line): '\(ErrorMessage.excerpt(value))' is not a finite decimal number"
        case let .cannotFill(column, line, reason):
            return "column '\(ErrorMessage.excerpt(column))', line \(line): cannot fill the missing value: \(reason)"
        case let .badDate(column, line, value, reason):
            return "date column '\(ErrorMessage.excerpt(column))', line \(line): '\(ErrorMessage.excerpt(value))' \(reason)"
        case let .tooShort(count, needed, reason):
            return "the series is too short: \(count) values, at least \(needed) needed (\(reason))"
        case let .constantTarget(column, value):
            return "target column '\(ErrorMessage.excerpt(column))' is constant (\(value)) over the training split: there is nothing to learn"
        case let .nonPositiveForLog(column, line, value):
            return "column '\(ErrorMessage.excerpt(column))', line \(line): --transform log needs positive values, got \(value)"
        }
    }
}
