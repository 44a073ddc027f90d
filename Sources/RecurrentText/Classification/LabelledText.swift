import Foundation
import RecurrentCore

/// One labelled text and where it came from (for error messages).
public struct LabelledExample: Equatable, Sendable {
    public var text: String
    public var label: String
    /// The file the example was read from.
    public var path: String
    /// The line its row starts on (header = line 1); nil for a whole .txt file.
    public var line: Int?

    public init(text: String, label: String, path: String = "", line: Int? = nil) {
        self.text = text
        self.label = label
        self.path = path
        self.line = line
    }
}

/// Reads labelled text from
/// - a CSV or TSV file with a header line: one example per row, the text and the label in named
///   columns (default `text` and `label`, matched without regard to case). The delimiter is a tab for
///   `.tsv`/`.tab` files, a comma for `.csv`, and otherwise a tab if the header line has one. CSV cells
///   may be quoted (`"a, b"`, `""` for a quote, newlines inside quotes); TSV cells are taken as they
///   are. Blank lines are skipped.
/// - a folder with one sub-folder per class: each `.txt` file in `DIR/<label>/` is one example whose
///   text is the whole file (hidden entries are skipped; files and classes in name order).
///
/// Every problem is a `ClassificationDataError` naming the file and line: ragged rows, a missing
/// column, an empty label or text, an unclosed quote, invalid UTF-8.
public enum LabelledTextReader {
    /// The default column names.
    public static let defaultTextColumn = "text"
    public static let defaultLabelColumn = "label"

    /// The examples in the file or folder at `url`.
    public static func read(from url: URL, textColumn: String? = nil, labelColumn: String? = nil) throws -> [LabelledExample] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ClassificationDataError.unreadable(path: url.path, reason: "no such file or folder")
        }
        if isDirectory.boolValue { return try readFolder(url) }
        let text = try readUTF8(url)
        return try parseTable(text, path: url.path, delimiter: delimiter(for: url, text: text),
                              textColumn: textColumn, labelColumn: labelColumn)
    }

    /// The examples of a CSV/TSV text (see the type's documentation); `path` is used in messages.
    public static func parseTable(_ text: String, path: String, delimiter: Character, textColumn: String? = nil,
                                  labelColumn: String? = nil) throws -> [LabelledExample] {
        let rows = try splitRows(text, path: path, delimiter: delimiter, quoting: delimiter != "\t")
        guard let header = rows.first, rows.count > 1 else { throw ClassificationDataError.empty(path: path) }
        let names = header.cells.map { $0.trimmingCharacters(in: .whitespaces) }
        // A column named twice would make the choice of column arbitrary (the same rule as CSVTable's).
        if let name = names.firstDuplicate { throw ClassificationDataError.duplicateColumn(path: path, name: name) }
        func column(_ name: String?, fallback: String, option: String) throws -> Int {
            let wanted = name ?? fallback
            if let index = names.firstIndex(of: wanted) ?? names.firstIndex(where: { $0.lowercased() == wanted.lowercased() }) {
                return index
            }
            throw ClassificationDataError.missingColumn(path: path, name: wanted, option: option, available: names)
        }
        let textIndex = try column(textColumn, fallback: defaultTextColumn, option: "--text-column")
        let labelIndex = try column(labelColumn, fallback: defaultLabelColumn, option: "--label-column")
        guard textIndex != labelIndex else { throw ClassificationDataError.sameColumn(name: names[textIndex]) }
        var examples: [LabelledExample] = []
        examples.reserveCapacity(rows.count - 1)
        for row in rows.dropFirst() {
            guard row.cells.count == names.count else {
                throw ClassificationDataError.raggedRow(path: path, line: row.line, found: row.cells.count, expected: names.count)
            }
            let label = row.cells[labelIndex].trimmingCharacters(in: .whitespacesAndNewlines)
            guard !label.isEmpty else { throw ClassificationDataError.emptyLabel(path: path, line: row.line) }
            let text = row.cells[textIndex]
            guard !text.allSatisfy(\.isWhitespace) else { throw ClassificationDataError.emptyText(path: path, line: row.line) }
            examples.append(LabelledExample(text: text, label: label, path: path, line: row.line))
        }
        return examples
    }

    /// The delimiter of a table: by extension, else a tab when the first line has one.
    static func delimiter(for url: URL, text: String) -> Character {
        switch url.pathExtension.lowercased() {
        case "tsv", "tab": return "\t"
        case "csv": return ","
        default: return (text.prefix { $0 != "\n" }).contains("\t") ? "\t" : ","
        }
    }

    /// The text of the regular file at `url` (`InputFile`: a FIFO or device is refused), without a byte-order mark.
    static func readUTF8(_ url: URL) throws -> String {
        let data: Data
        do { data = try InputFile.read(url, limit: .max) } catch let error as InputFileError {
            throw ClassificationDataError.unreadable(path: url.path, reason: error.reason)
        }
        if let failure = UTF8Validation.firstInvalidSequence(in: [UInt8](data)) {
            throw ClassificationDataError.unreadable(path: url.path, reason: "line \(failure.line): not valid UTF-8")
        }
        var text = String(decoding: data, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }   // a byte-order mark
        return text
    }

    struct Row {
        var cells: [String]
        var line: Int
    }

    /// Splits `text` into rows of cells; skips blank lines. With `quoting`, a cell that starts with `"`
    /// runs to the matching `"` (`""` is a quote) and may span lines.
    static func splitRows(_ text: String, path: String, delimiter: Character, quoting: Bool) throws -> [Row] {
        var rows: [Row] = []
        var cells: [String] = []
        var cell = ""
        var line = 1, rowLine = 1
        var inQuotes = false, afterQuote = false, cellStarted = false
        func endRow() {
            cells.append(cell)
            if !(cells.count == 1 && cells[0].trimmingCharacters(in: .whitespaces).isEmpty && !cellStarted) {
                rows.append(Row(cells: cells, line: rowLine))
            }
            cells = []
            cell = ""
            cellStarted = false
            afterQuote = false
        }
        var iterator = text.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if c == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { cell.append("\""); continue }
                        pending = next
                    }
                    inQuotes = false
                    afterQuote = true
                } else {
                    if c == "\n" || c == "\r\n" { line += 1 }
                    cell.append(c)
                }
                continue
            }
            switch c {
            case "\n", "\r\n", "\r":
                endRow()
                line += 1
                rowLine = line
            case delimiter:
                cells.append(cell)
                cell = ""
                afterQuote = false
                cellStarted = true
            case "\"" where quoting && cell.isEmpty && !afterQuote:
                inQuotes = true
                cellStarted = true
            default:
                if afterQuote, !c.isWhitespace {
                    throw ClassificationDataError.malformedRow(path: path, line: line,
                                                               reason: "text after a closing quote (write a quote inside a quoted cell as \"\")")
                }
                if !afterQuote { cell.append(c) }
            }
        }
        if inQuotes {
            throw ClassificationDataError.malformedRow(path: path, line: rowLine, reason: "a quoted cell is never closed")
        }
        if !cell.isEmpty || !cells.isEmpty || cellStarted { endRow() }
        return rows
    }

    /// The examples of a folder with one sub-folder of .txt files per class.
    static func readFolder(_ url: URL) throws -> [LabelledExample] {
        let manager = FileManager.default
        func entries(_ folder: URL) throws -> [URL] {
            do {
                return try manager.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.isDirectoryKey],
                                                       options: [.skipsHiddenFiles])
                    .sorted { $0.lastPathComponent < $1.lastPathComponent }
            } catch {
                throw ClassificationDataError.unreadable(path: folder.path, reason: (error as NSError).localizedDescription)
            }
        }
        var examples: [LabelledExample] = []
        for classFolder in try entries(url) {
            guard (try? classFolder.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true else { continue }
            let label = classFolder.lastPathComponent
            for file in try entries(classFolder) where file.pathExtension.lowercased() == "txt" {
                let text = try readUTF8(file)
                guard !text.allSatisfy(\.isWhitespace) else { throw ClassificationDataError.emptyText(path: file.path, line: nil) }
                examples.append(LabelledExample(text: text, label: label, path: file.path, line: nil))
            }
        }
        guard !examples.isEmpty else { throw ClassificationDataError.empty(path: url.path) }
        return examples
    }
}
