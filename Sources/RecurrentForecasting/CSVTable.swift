import Foundation
import RecurrentCore
import SwiftCSV

/// A CSV file as text cells: a header and rows of exactly as many cells.
///
/// Parsing (quotes, escaped quotes `""`, the delimiter: comma, tab or semicolon, guessed from the
/// header line) is SwiftCSV's. On top of it this type checks what SwiftCSV lets pass: SwiftCSV pads
/// short rows, so the raw rows are read and a row with another number of cells than the header is
/// an error (`ForecastDataError.raggedRow`). Blank lines are skipped (inside a one-column file a
/// blank line is an empty cell, except at the end); cells are trimmed of surrounding whitespace.
public struct CSVTable: Sendable, Equatable {
    /// Where the table came from (a path or a label), for messages.
    public var source: String
    /// The column names of the first line.
    public var header: [String]
    /// The data rows, each `header.count` cells.
    public var rows: [[String]]
    /// The line number of each row (the header is line 1).
    public var lines: [Int]

    /// Parses CSV text.
    /// - Throws: `ForecastDataError` (`.malformedCSV`, `.empty`, `.raggedRow`, `.duplicateColumn`).
    public init(text: String, source: String = "<text>") throws {
        self.source = source
        var text = text
        if !text.hasSuffix("\n") && !text.hasSuffix("\r\n") { text += "\n" }   // the parser drops a trailing empty cell otherwise
        let csv: CSV<Enumerated>
        do {
            csv = try CSV<Enumerated>(string: text, delimiter: CSVDelimiter.guessed(string: text), loadColumns: false)
        } catch let error as CSVParseError {
            throw ForecastDataError.malformedCSV(path: source, reason: Self.describe(error))
        }
        let header = csv.header.map(Self.trimmed)
        guard !header.isEmpty, header != [""] else { throw ForecastDataError.empty(path: source) }
        if let name = header.firstDuplicate { throw ForecastDataError.duplicateColumn(path: source, name: name) }
        // The raw records (SwiftCSV's `rows` are padded to a rectangle, hiding ragged rows).
        var records: [[String]] = []
        do {
            try csv.enumerateAsArray(startAt: 1, rowLimit: nil) { records.append($0) }
        } catch let error as CSVParseError {
            throw ForecastDataError.malformedCSV(path: source, reason: Self.describe(error))
        }
        func isBlank(_ record: [String]) -> Bool { record.count == 1 && Self.trimmed(record[0]).isEmpty }
        while let last = records.last, isBlank(last) { records.removeLast() }
        var rows: [[String]] = [], lines: [Int] = []
        for (index, record) in records.enumerated() {
            let line = index + 2
            // A blank line inside a one-column file is an empty cell (a missing value); otherwise it is skipped.
            if isBlank(record) && header.count > 1 { continue }
            guard record.count == header.count else {
                throw ForecastDataError.raggedRow(path: source, line: line, found: record.count, expected: header.count)
            }
            rows.append(record.map(Self.trimmed))
            lines.append(line)
        }
        guard !rows.isEmpty else { throw ForecastDataError.empty(path: source) }
        self.header = header
        self.rows = rows
        self.lines = lines
    }

    /// Reads and parses a CSV file (UTF-8): a regular file (`InputFile`; a FIFO or device is refused).
    /// - Throws: `ForecastDataError.unreadable` when the file cannot be read, else as `init(text:source:)`.
    public static func load(from url: URL) throws -> CSVTable {
        let path = url.path
        let data: Data
        do { data = try InputFile.read(url, limit: .max) } catch let error as InputFileError {
            throw ForecastDataError.unreadable(path: path, reason: error.reason)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ForecastDataError.unreadable(path: path, reason: "it is not UTF-8 text")
        }
        return try CSVTable(text: text, source: path)
    }

    /// The index of the column called `name`.
    /// - Throws: `ForecastDataError.unknownColumn` listing the available columns.
    public func columnIndex(_ name: String) throws -> Int {
        guard let index = header.firstIndex(of: name) else {
            throw ForecastDataError.unknownColumn(name: name, available: header)
        }
        return index
    }

    /// The cells of one column, top to bottom.
    public func column(_ index: Int) -> [String] { rows.map { $0[index] } }

    /// `cell` without leading and trailing spaces and tabs (`CharacterSet.whitespaces`: tab and the
    /// Unicode space separators). Most cells have none, and are returned as they are: Foundation's
    /// `trimmingCharacters(in:)` took half the time of reading a table of 2 million cells.
    static func trimmed(_ cell: String) -> String {
        func isSpace(_ scalar: Unicode.Scalar) -> Bool { scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator }
        let scalars = cell.unicodeScalars
        guard let first = scalars.first, let last = scalars.last, isSpace(first) || isSpace(last) else { return cell }
        guard let start = scalars.firstIndex(where: { !isSpace($0) }), let end = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(scalars[start...end])
    }

    private static func describe(_ error: CSVParseError) -> String {
        switch error {
        case .generic(let message), .quotation(let message): return message
        }
    }
}
