import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RecurrentCore

/// Word vectors in the GloVe or word2vec text format: `count` words, each with a vector of
/// `dimension` Float values, stored row-major in `values` (`count × dimension`).
///
/// The text format, one vector per line, fields separated by spaces or tabs:
/// ```
/// the 0.418 0.24968 -0.41242 ...        (GloVe: word, then dimension values)
/// ```
/// word2vec's text format (`-binary 0`) has a first line `count dimension` and then the same lines.
/// A first line of exactly two fields that are both whole numbers is read as that header; its count
/// must then match the lines that follow. Empty lines are skipped, a UTF-8 byte-order mark and `\r`
/// line ends are accepted. A word is kept from its first line (later duplicates are ignored).
public struct WordVectors: Sendable {
    /// The words, in file order.
    public let words: [String]
    /// The size of every vector.
    public let dimension: Int
    /// `words.count × dimension` values, row-major.
    public let values: [Float]
    private let ids: [String: Int]

    /// The number of words.
    public var count: Int { words.count }

    /// Vectors from memory: `values` holds `words.count × dimension` values, row-major. Of a repeated
    /// word the first row is the one `index(of:)` finds.
    public init(words: [String], dimension: Int, values: [Float]) {
        precondition(dimension > 0, "WordVectors: dimension must be positive, got \(dimension)")
        precondition(values.count == words.count * dimension,
                     "WordVectors: \(values.count) values for \(words.count) words of dimension \(dimension)")
        self.words = words
        self.dimension = dimension
        self.values = values
        ids = Dictionary(words.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
    }

    /// The row of `word` (exact match), nil when absent.
    public func index(of word: String) -> Int? { ids[word] }

    /// The vector of row `index`.
    public func vector(at index: Int) -> ArraySlice<Float> {
        values[(index * dimension)..<((index + 1) * dimension)]
    }

    /// Reads a GloVe or word2vec text file.
    /// - Throws: `WordVectorsError` naming the file (and the line) when it cannot be read, holds no
    ///   vectors, or a line is malformed (too few or too many values, a value that is not a finite
    ///   number, a header count that does not match).
    public static func load(contentsOf url: URL) throws -> WordVectors {
        let data: Data
        do { data = try InputFile.read(url, limit: .max) } catch let error as InputFileError {
            throw WordVectorsError(path: url.path, line: nil, reason: "cannot read it (\(error.reason))")
        }
        return try parse(data, source: url.path)
    }

    /// Parses the text format from memory; `source` names it in errors.
    public static func parse(_ data: Data, source: String) throws -> WordVectors {
        var bytes = [UInt8](data)
        bytes.append(0)   // strtof stops at the terminator after the last field
        return try bytes.withUnsafeBufferPointer { buffer -> WordVectors in
            try Parser(buffer: buffer, end: buffer.count - 1, source: source).run()
        }
    }

    /// The vectors in GloVe's text format, one line per word (`word v1 ... vd`), each value written
    /// with the fewest digits that read back to the same Float. Words that are empty or hold a space,
    /// tab or line break cannot be written in the format and are left out.
    /// - Returns: the text and the number of words left out.
    public func gloveText() -> (text: String, skipped: Int) {
        var text = ""
        var skipped = 0
        for (row, word) in words.enumerated() {
            guard !word.isEmpty, !word.unicodeScalars.contains(where: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            else { skipped += 1; continue }
            text += word
            for x in vector(at: row) { text += " " + x.description }
            text += "\n"
        }
        return (text, skipped)
    }

    /// The `count` words whose vectors are most similar to that of `word` by cosine similarity, most
    /// similar first (ties in row order); `word` itself is left out. Rows of norm 0 have similarity 0.
    /// Nil when `word` is not in the vectors.
    public func nearest(to word: String, count: Int) -> [(word: String, similarity: Double)]? {
        guard let query = index(of: word) else { return nil }
        let d = dimension
        func norm(_ row: Int) -> Double {
            var s = 0.0
            for j in 0..<d { let x = Double(values[row * d + j]); s += x * x }
            return s.squareRoot()
        }
        let queryNorm = norm(query)
        var scored: [(row: Int, similarity: Double)] = []
        scored.reserveCapacity(words.count)
        for row in 0..<words.count where row != query && words[row] != word {
            var dot = 0.0
            for j in 0..<d { dot += Double(values[row * d + j]) * Double(values[query * d + j]) }
            let n = norm(row) * queryNorm
            scored.append((row, n > 0 ? dot / n : 0))
        }
        scored.sort { $0.similarity != $1.similarity ? $0.similarity > $1.similarity : $0.row < $1.row }
        return scored.prefix(max(count, 0)).map { (words[$0.row], $0.similarity) }
    }
}

/// Why a word-vector file cannot be used: one line naming the file and, where it applies, the line.
public struct WordVectorsError: Error, LocalizedError, Equatable, Sendable {
    public var path: String
    /// 1-based line number, nil for problems of the whole file.
    public var line: Int?
    public var reason: String

    public init(path: String, line: Int?, reason: String) {
        self.path = path
        self.line = line
        self.reason = reason
    }

    public var errorDescription: String? {
        if let line { return "\(path), line \(line): \(reason)" }
        return "\(path): \(reason)"
    }
}

/// One pass over the bytes: lines, fields, values.
private struct Parser {
    let buffer: UnsafeBufferPointer<UInt8>
    let end: Int
    let source: String

    func error(_ line: Int?, _ reason: String) -> WordVectorsError {
        WordVectorsError(path: source, line: line, reason: reason)
    }

    static func isSeparator(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }

    /// The fields of bytes `start..<stop` as ranges.
    func fields(_ start: Int, _ stop: Int) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var i = start
        while i < stop {
            while i < stop && Self.isSeparator(buffer[i]) { i += 1 }
            if i >= stop { break }
            let s = i
            while i < stop && !Self.isSeparator(buffer[i]) { i += 1 }
            result.append(s..<i)
        }
        return result
    }

    func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: buffer[range]), as: UTF8.self)
    }

    func wholeNumber(_ range: Range<Int>) -> Int? {
        guard range.count <= 18, range.allSatisfy({ buffer[$0] >= 0x30 && buffer[$0] <= 0x39 }) else { return nil }
        return Int(text(range))
    }

    func run() throws -> WordVectors {
        var position = 0
        if end >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { position = 3 }
        var lineNumber = 0
        var dimension: Int? = nil
        var headerCount: Int? = nil, headerLine = 0
        var words: [String] = []
        var values: [Float] = []
        var seen = Set<String>()
        var vectorLines = 0
        let base = UnsafeMutablePointer(mutating: buffer.baseAddress!)
        while position < end {
            var stop = position
            while stop < end && buffer[stop] != 0x0A { stop += 1 }
            lineNumber += 1
            let line = fields(position, stop)
            position = stop + 1
            if line.isEmpty { continue }
            if vectorLines == 0 && headerCount == nil && dimension == nil && line.count == 2,
               let n = wholeNumber(line[0]), let d = wholeNumber(line[1]) {
                guard d > 0 else { throw error(lineNumber, "the word2vec header gives dimension 0") }
                headerCount = n
                headerLine = lineNumber
                dimension = d
                continue
            }
            let d = dimension ?? (line.count - 1)
            guard d > 0 else { throw error(lineNumber, "a word without values ('\(ErrorMessage.excerpt(text(line[0])))')") }
            dimension = d
            guard line.count == d + 1 else {
                throw error(lineNumber, "'\(ErrorMessage.excerpt(text(line[0])))' has \(line.count - 1) values, expected \(d)"
                            + (headerCount != nil ? " (the header's dimension)" : " (as the first vector)"))
            }
            vectorLines += 1
            let word = text(line[0])
            let keep = seen.insert(word).inserted
            if keep { words.append(word) }
            for field in line.dropFirst() {
                var after: UnsafeMutablePointer<CChar>? = nil
                let start = UnsafeMutableRawPointer(base + field.lowerBound).assumingMemoryBound(to: CChar.self)
                let value = strtof(start, &after)
                let consumed = after.map { UnsafeMutableRawPointer($0) - UnsafeMutableRawPointer(base) } ?? field.lowerBound
                // Plain decimal notation only (DecimalSyntax): strtof would also read 0x10, inf and nan.
                guard DecimalSyntax.matches(UnsafeBufferPointer(rebasing: buffer[field])), consumed == field.upperBound,
                      value.isFinite else {
                    throw error(lineNumber, "'\(ErrorMessage.excerpt(text(field)))' is not a finite decimal number (word '\(ErrorMessage.excerpt(word))')")
                }
                if keep { values.append(value) }
            }
        }
        guard let dimension, vectorLines > 0 else {
            throw error(nil, headerCount != nil ? "holds a word2vec header but no vectors" : "holds no vectors (the file is empty)")
        }
        if let headerCount, headerCount != vectorLines {
            throw error(headerLine, "the word2vec header announces \(headerCount) vectors, the file has \(vectorLines)")
        }
        return WordVectors(words: words, dimension: dimension, values: values)
    }
}
