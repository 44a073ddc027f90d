import Foundation
import RecurrentCore

/// A small, dependency-free SVG heatmap: a matrix of values in [0, 1] (e.g. attention weights a_ij,
/// rows = output steps, columns = source positions) drawn as shaded cells from white (0) to dark
/// blue (1), with row and column labels and a title. Each cell carries a `<title>` tooltip with its
/// value.
public struct SVGHeatmap: Sendable {
    public var title: String
    /// `values[row][column]`; all rows have the same length. Values are clamped to [0, 1]; non-finite
    /// values are drawn grey.
    public var values: [[Double]]
    /// One label per row (e.g. the output tokens); empty for none.
    public var rowLabels: [String]
    /// One label per column (e.g. the source tokens); empty for none.
    public var columnLabels: [String]
    public var xLabel: String
    public var yLabel: String
    /// The side of one cell in pixels.
    public var cellSize: Double = 28

    /// - Throws: `ConfigurationError` when the rows differ in length, there are no cells, or a label
    ///   list does not match the matrix.
    public init(title: String, values: [[Double]], rowLabels: [String] = [], columnLabels: [String] = [],
                xLabel: String = "", yLabel: String = "") throws {
        let columns = values.first?.count ?? 0
        try ConfigurationError.require(!values.isEmpty && columns > 0, "values", "the heatmap has no cells")
        try ConfigurationError.require(values.allSatisfy { $0.count == columns }, "values",
                                       "rows have different lengths \(Set(values.map(\.count)).sorted())")
        try ConfigurationError.require(rowLabels.isEmpty || rowLabels.count == values.count, "rowLabels",
                                       "\(rowLabels.count) labels for \(values.count) rows")
        try ConfigurationError.require(columnLabels.isEmpty || columnLabels.count == columns, "columnLabels",
                                       "\(columnLabels.count) labels for \(columns) columns")
        self.title = title
        self.values = values
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// The fill colour of a value: linear from white (0) to #08306b (1).
    static func color(_ v: Double) -> String {
        guard v.isFinite else { return "#bbbbbb" }
        let t = min(max(v, 0), 1)
        let (r, g, b) = (255 + (8 - 255) * t, 255 + (48 - 255) * t, 255 + (107 - 255) * t)
        return String(format: "#%02x%02x%02x", Int(r.rounded()), Int(g.rounded()), Int(b.rounded()))
    }

    /// The heatmap as an SVG document.
    public func render() -> String {
        let rows = values.count, columns = values[0].count
        let left = 70.0, top = 60.0, right = 20.0, bottom = 40.0
        let width = left + Double(columns) * cellSize + right
        let height = top + Double(rows) * cellSize + bottom
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(width / 2))" y="18" text-anchor="middle" font-size="14">\(Self.escape(title))</text>

        """
        if !xLabel.isEmpty {
            svg += "<text x=\"\(f(left + Double(columns) * cellSize / 2))\" y=\"34\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        }
        if !yLabel.isEmpty {
            let y = top + Double(rows) * cellSize / 2
            svg += "<text x=\"14\" y=\"\(f(y))\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(f(y)))\">\(Self.escape(yLabel))</text>\n"
        }
        for (j, label) in columnLabels.enumerated() {
            svg += "<text x=\"\(f(left + (Double(j) + 0.5) * cellSize))\" y=\"\(f(top - 6))\" text-anchor=\"middle\">\(Self.escape(label))</text>\n"
        }
        for (i, label) in rowLabels.enumerated() {
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(top + (Double(i) + 0.5) * cellSize + 4))\" text-anchor=\"end\">\(Self.escape(label))</text>\n"
        }
        for (i, row) in values.enumerated() {
            for (j, v) in row.enumerated() {
                svg += "<rect class=\"cell\" x=\"\(f(left + Double(j) * cellSize))\" y=\"\(f(top + Double(i) * cellSize))\" "
                    + "width=\"\(f(cellSize))\" height=\"\(f(cellSize))\" fill=\"\(Self.color(v))\" stroke=\"#eeeeee\">"
                    + "<title>\(v.isFinite ? String(format: "%.3f", v) : "nan")</title></rect>\n"
            }
        }
        svg += "</svg>\n"
        return svg
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
