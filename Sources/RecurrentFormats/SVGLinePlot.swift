import Foundation

/// A small, dependency-free SVG line chart: several named series over a shared x axis, labelled
/// axes with "nice" ticks, a legend. Used for loss curves, forecasts and benchmark plots.
public struct SVGLinePlot: Sendable {
    /// One line of the chart. Points need not be sorted; non-finite points are skipped.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var color: String
        public var dashed: Bool
        public init(name: String, points: [(x: Double, y: Double)], color: String? = nil, dashed: Bool = false) {
            self.name = name
            self.points = points
            self.color = color ?? ""
            self.dashed = dashed
        }
    }

    /// A shaded area between a lower and an upper curve (a prediction interval), drawn beneath the lines.
    public struct Band: Sendable {
        public var name: String
        /// Points need not be sorted; non-finite points are skipped.
        public var points: [(x: Double, lower: Double, upper: Double)]
        public var color: String
        public var opacity: Double
        public init(name: String, points: [(x: Double, lower: Double, upper: Double)], color: String = "#1f77b4", opacity: Double = 0.2) {
            self.name = name
            self.points = points
            self.color = color
            self.opacity = opacity
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// Shaded bands (listed in the legend after the series).
    public var bands: [Band] = []
    public var width: Double = 720
    public var height: Double = 420
    /// Use a base-10 logarithmic x axis (all x must be positive).
    public var logarithmicX = false
    /// Put the legend in the top-left corner on a white box (default: top right, no box).
    public var legendAtLeft = false

    public init(title: String, xLabel: String, yLabel: String, series: [Series] = []) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    /// The chart as an SVG document.
    public func render() -> String {
        let left = 70.0, right = 20.0, top = 40.0, bottom = 55.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let bandPoints = bands.flatMap { $0.points.flatMap { [(x: $0.x, y: $0.lower), (x: $0.x, y: $0.upper)] } }
        let finite = (series.flatMap { $0.points } + bandPoints).filter { $0.x.isFinite && $0.y.isFinite && (!logarithmicX || $0.x > 0) }
        func tx(_ x: Double) -> Double { logarithmicX ? log10(x) : x }
        var (xMin, xMax) = (finite.map { tx($0.x) }.min() ?? 0, finite.map { tx($0.x) }.max() ?? 1)
        var (yMin, yMax) = (finite.map(\.y).min() ?? 0, finite.map(\.y).max() ?? 1)
        if xMax <= xMin { xMax = xMin + 1 }
        if yMax <= yMin { yMax = yMin + 1 }
        let yTicks = Self.niceTicks(yMin, yMax)
        yMin = min(yMin, yTicks.first ?? yMin); yMax = max(yMax, yTicks.last ?? yMax)
        let xTicks = logarithmicX ? Array(Int(floor(xMin))...Int(ceil(xMax))).map(Double.init) : Self.niceTicks(xMin, xMax)
        xMin = min(xMin, xTicks.first ?? xMin); xMax = max(xMax, xTicks.last ?? xMax)
        func px(_ x: Double) -> Double { left + (tx(x) - xMin) / (xMax - xMin) * plotWidth }
        func pxRaw(_ t: Double) -> Double { left + (t - xMin) / (xMax - xMin) * plotWidth }
        func py(_ y: Double) -> Double { top + (1 - (y - yMin) / (yMax - yMin)) * plotHeight }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }

        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(width / 2))" y="22" text-anchor="middle" font-size="15">\(Self.escape(title))</text>

        """
        for t in yTicks {
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(py(t)))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(py(t)))\" stroke=\"#e5e5e5\"/>\n"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(Self.label(t))</text>\n"
        }
        for t in xTicks {
            let x = pxRaw(t)
            svg += "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(top + plotHeight))\" stroke=\"#e5e5e5\"/>\n"
            let text = logarithmicX ? Self.label(pow(10, t)) : Self.label(t)
            svg += "<text x=\"\(f(x))\" y=\"\(f(top + plotHeight + 18))\" text-anchor=\"middle\">\(text)</text>\n"
        }
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#333\"/>\n"
        svg += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        svg += "<text x=\"16\" y=\"\(f(top + plotHeight / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(f(top + plotHeight / 2)))\">\(Self.escape(yLabel))</text>\n"
        let legendX = legendAtLeft ? left + 10 : left + plotWidth - 150
        var legend = ""
        if legendAtLeft {
            let names = series.map(\.name) + bands.map(\.name)
            let boxWidth = 40 + 7 * Double(names.map(\.count).max() ?? 0)
            legend += "<rect x=\"\(f(legendX - 4))\" y=\"\(f(top + 2))\" width=\"\(f(boxWidth))\" height=\"\(f(Double(names.count) * 16 + 4))\" fill=\"white\" fill-opacity=\"0.85\"/>\n"
        }
        for (index, band) in bands.enumerated() {
            let points = band.points.filter { $0.x.isFinite && $0.lower.isFinite && $0.upper.isFinite && (!logarithmicX || $0.x > 0) }
                .sorted { $0.x < $1.x }
            if points.count > 1 {
                let outline = (points.map { (x: $0.x, y: $0.upper) } + points.reversed().map { (x: $0.x, y: $0.lower) })
                    .map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                svg += "<polygon fill=\"\(band.color)\" fill-opacity=\"\(band.opacity)\" stroke=\"none\" points=\"\(outline)\"/>\n"
            }
            let ly = top + 14 + Double(series.count + index) * 16
            legend += "<rect x=\"\(f(legendX))\" y=\"\(f(ly - 9))\" width=\"22\" height=\"10\" fill=\"\(band.color)\" fill-opacity=\"\(band.opacity)\"/>\n"
            legend += "<text x=\"\(f(legendX + 28))\" y=\"\(f(ly))\">\(Self.escape(band.name))</text>\n"
        }
        for (index, s) in series.enumerated() {
            let color = s.color.isEmpty ? Self.palette[index % Self.palette.count] : s.color
            let points = s.points.filter { $0.x.isFinite && $0.y.isFinite && (!logarithmicX || $0.x > 0) }.sorted { $0.x < $1.x }
            let dash = s.dashed ? " stroke-dasharray=\"6 4\"" : ""
            if points.count == 1 {
                svg += "<circle cx=\"\(f(px(points[0].x)))\" cy=\"\(f(py(points[0].y)))\" r=\"3\" fill=\"\(color)\"/>\n"
            } else if !points.isEmpty {
                let path = points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\"\(dash) points=\"\(path)\"/>\n"
            }
            let ly = top + 14 + Double(index) * 16
            legend += "<line x1=\"\(f(legendX))\" y1=\"\(f(ly - 4))\" x2=\"\(f(legendX + 22))\" y2=\"\(f(ly - 4))\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>\n"
            legend += "<text x=\"\(f(legendX + 28))\" y=\"\(f(ly))\">\(Self.escape(s.name))</text>\n"
        }
        svg += legend + "</svg>\n"
        return svg
    }

    /// Round tick values covering [low, high]: steps of 1, 2 or 5 times a power of ten, about 5 ticks.
    static func niceTicks(_ low: Double, _ high: Double) -> [Double] {
        let span = high - low
        guard span > 0, span.isFinite else { return [low] }
        let rough = span / 5
        let magnitude = pow(10, floor(log10(rough)))
        let step = [1.0, 2.0, 5.0, 10.0].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        let start = floor(low / step) * step
        var ticks: [Double] = []
        var t = start
        while t <= high + step * 0.5 && ticks.count < 50 {
            ticks.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return ticks
    }

    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e5 || a < 1e-3 { return String(format: "%.0e", v) }
        if v == v.rounded() { return String(format: "%.0f", v) }
        return String(format: "%g", (v * 1e4).rounded() / 1e4)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
