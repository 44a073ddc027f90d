import Foundation
import RecurrentFormats
import RecurrentOptim

/// The language-model trainer's run files beside its checkpoints:
///
/// ```
/// <run>/metrics.csv            one row per evaluation (TrainingMetricsRow.csvHeader)
/// <run>/loss.svg               training and validation loss against the step
/// ```
extension CheckpointStore {
    /// `<run>/metrics.csv`.
    public var metricsURL: URL { runDirectory.appendingPathComponent("metrics.csv") }
    /// `<run>/loss.svg`.
    public var plotURL: URL { runDirectory.appendingPathComponent("loss.svg") }

    /// `write(files:step:isBest:)`, then `metrics.csv` and `loss.svg` rewritten atomically from `history`.
    @discardableResult
    public func write(files: [(name: String, data: Data)], step: Int, isBest: Bool,
                      history: [TrainingMetricsRow]) throws -> URL {
        let directory = try write(files: files, step: step, isBest: isBest)
        try writeRunFiles(history: history)
        return directory
    }

    /// Rewrites `metrics.csv` (header and one line per row) and `loss.svg` atomically.
    public func writeRunFiles(history: [TrainingMetricsRow]) throws {
        var csv = TrainingMetricsRow.csvHeader + "\n"
        for row in history { csv += row.csvLine + "\n" }
        try AtomicFile.write(Data(csv.utf8), to: metricsURL)
        try faultInjection?(.wroteMetrics)
        try AtomicFile.write(Data(Self.lossPlot(history).render().utf8), to: plotURL)
        try faultInjection?(.wrotePlot)
    }

    /// The loss curves: the mean training loss and the validation loss at each evaluation, against the step.
    public static func lossPlot(_ history: [TrainingMetricsRow]) -> SVGLinePlot {
        var series = [SVGLinePlot.Series(name: "training", points: history.map { (Double($0.step), $0.trainLoss) })]
        let validation = history.compactMap { row in row.validationLoss.map { (x: Double(row.step), y: $0) } }
        if !validation.isEmpty { series.append(SVGLinePlot.Series(name: "validation", points: validation)) }
        return SVGLinePlot(title: "Loss", xLabel: "step", yLabel: "cross-entropy (nats per token)", series: series)
    }
}
