import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
import Recurrent

/// The SVG heatmap writer used for attention matrices.
final class Seq2SeqHeatmapTests: XCTestCase {
    /// Counts elements by name and collects the fills of the cells while parsing.
    private final class Collector: NSObject, XMLParserDelegate {
        var counts: [String: Int] = [:]
        var fills: [String] = []
        var titles: [String] = []
        private var inTitle = false
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            counts[name, default: 0] += 1
            if name == "rect", attributes["class"] == "cell" { fills.append(attributes["fill"] ?? "") }
            inTitle = name == "title"
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { if inTitle { titles.append(string) } }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            inTitle = false
        }
    }

    func testHeatmapIsWellFormedSVGWithOneCellPerValue() throws {
        let values: [[Double]] = [[0, 0.5, 1], [1, 0.25, .nan]]
        let map = try SVGHeatmap(title: "a <b> & \"c\"", values: values, rowLabels: ["x", "y"],
                                 columnLabels: ["1", "2", "3"], xLabel: "source", yLabel: "output")
        let svg = map.render()
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = Collector()
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "not well-formed XML: \(String(describing: parser.parserError))")
        XCTAssertEqual(collector.counts["svg"], 1)
        XCTAssertEqual(collector.fills.count, 6)
        XCTAssertEqual(collector.fills, ["#ffffff", "#8498b5", "#08306b", "#08306b", "#c1cbda", "#bbbbbb"])
        XCTAssertEqual(collector.titles, ["0.000", "0.500", "1.000", "1.000", "0.250", "nan"])
        XCTAssertTrue(svg.contains("a &lt;b&gt; &amp; &quot;c&quot;"))
        // 3 column + 2 row labels + title + 2 axis labels
        XCTAssertEqual(collector.counts["text"], 8)
    }

    func testHeatmapRejectsRaggedOrMislabelledMatrices() {
        XCTAssertThrowsError(try SVGHeatmap(title: "", values: [[1, 2], [3]])) {
            XCTAssertEqual($0.localizedDescription, "invalid values: rows have different lengths [1, 2]")
        }
        XCTAssertThrowsError(try SVGHeatmap(title: "", values: []))
        XCTAssertThrowsError(try SVGHeatmap(title: "", values: [[1]], rowLabels: ["a", "b"]))
        XCTAssertThrowsError(try SVGHeatmap(title: "", values: [[1]], columnLabels: ["a", "b"]))
    }
}
