import Foundation
import RecurrentFormats

/// SVG charts of forecasts: history, test truth, forecasts and their prediction interval.
///
/// The x axis is the decimal year when the series has a date column (month m of year y at
/// y + (m − 1)/12), otherwise the step index.
public enum ForecastPlot {
    /// The test split: the observed history before it, the truth, and the model's H-step forecasts
    /// from origins H steps apart (testStart − 1, testStart − 1 + H, ...) and, for the steps these
    /// leave uncovered at the end, from the last test origin; with their interval, and the
    /// seasonal-naive forecasts from the same origins dashed.
    public static func test(_ series: ForecastSeries, result: ForecastTrainingResult, title: String) -> SVGLinePlot {
        let split = result.split, h = result.forecaster.configuration.model.horizon
        let x = axis(series)
        let historyStart = series.count <= 300 ? 0 : max(0, split.testStart - 3 * split.testCount)
        let y = series.target
        var forecast: [(x: Double, y: Double)] = [], naive: [(x: Double, y: Double)] = []
        var band: [(x: Double, lower: Double, upper: Double)] = []
        var shown = Array(stride(from: 0, to: result.testOrigins.count, by: h))
        if let last = result.testOrigins.indices.last, shown.last != last { shown.append(last) }
        var covered = -1
        for index in shown {
            let origin = result.testOrigins[index], values = result.testForecasts[index]
            let bounds = result.forecaster.intervals(for: values)
            let seasonal = ForecastBaseline.seasonalNaive.forecast(y, origin: origin, horizon: h, season: result.forecaster.season.period)
            for step in 0..<h where origin + step + 1 > covered {
                let t = origin + step + 1
                covered = t
                forecast.append((x(t), values[step]))
                naive.append((x(t), seasonal[step]))
                if let b = bounds[step] { band.append((x(t), b.lower, b.upper)) }
            }
        }
        var plot = SVGLinePlot(title: title, xLabel: series.dateAxis == nil ? "step" : "year", yLabel: series.names[0], series: [
            .init(name: "observed", points: (historyStart..<split.testStart).map { (x($0), y[$0]) }, color: "#555555"),
            .init(name: "test truth", points: ((split.testStart - 1)..<series.count).map { (x($0), y[$0]) }, color: "#000000"),
            .init(name: "model forecast (H = \(h), origins \(h) apart)", points: forecast, color: "#d62728"),
            .init(name: "seasonal naive (m = \(result.forecaster.season.period))", points: naive, color: "#2ca02c", dashed: true),
        ])
        if let interval = result.forecaster.interval {
            plot.bands = [.init(name: "\(Int((interval.level * 100).rounded()))% interval", points: band, color: "#d62728", opacity: 0.15)]
        }
        plot.width = 860
        plot.legendAtLeft = true
        return plot
    }

    /// The last observed steps (up to `historyLength`) and the forecast after the end of the data.
    public static func future(_ series: ForecastSeries, steps: [ForecastStep], title: String, historyLength: Int = 120) -> SVGLinePlot {
        let x = axis(series)
        let y = series.target, n = series.count
        let last = (x: x(n - 1), y: y[n - 1])
        var plot = SVGLinePlot(title: title, xLabel: series.dateAxis == nil ? "step" : "year", yLabel: series.names[0], series: [
            .init(name: "observed", points: (max(0, n - historyLength)..<n).map { (x($0), y[$0]) }, color: "#000000"),
            .init(name: "forecast", points: [last] + steps.map { (x(n - 1 + $0.step), $0.value) }, color: "#d62728"),
        ])
        let band = steps.compactMap { step -> (x: Double, lower: Double, upper: Double)? in
            guard let lower = step.lower, let upper = step.upper else { return nil }
            return (x(n - 1 + step.step), lower, upper)
        }
        if !band.isEmpty { plot.bands = [.init(name: "prediction interval", points: band, color: "#d62728", opacity: 0.15)] }
        plot.width = 860
        plot.legendAtLeft = true
        return plot
    }

    /// x of step t (also past the end of the data, continuing the average step).
    static func axis(_ series: ForecastSeries) -> (Int) -> Double {
        guard let dates = series.dateAxis?.dates, dates.count >= 2 else { return { Double($0) } }
        let values = dates.map { date -> Double in
            date.precision <= .month ? Double(date.year) + Double(date.month - 1) / 12
                : 1970 + Double(date.secondsSinceEpoch) / (365.2425 * 86_400)
        }
        let step = (values.last! - values.first!) / Double(values.count - 1)
        return { t in t < values.count ? values[t] : values.last! + Double(t - values.count + 1) * step }
    }
}
