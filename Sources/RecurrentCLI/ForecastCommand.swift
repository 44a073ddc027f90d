import ArgumentParser
import Foundation
import Recurrent

extension ForecastModelConfiguration.Cell: ExpressibleByArgument {}
extension ForecastModelConfiguration.Strategy: ExpressibleByArgument {}
extension ForecastModelConfiguration.TargetMode: ExpressibleByArgument {}
extension MissingValuePolicy: ExpressibleByArgument {}
extension ValueTransform: ExpressibleByArgument {}

/// `recurrent forecast`: time-series forecasting on a CSV file (docs/forecasting.md).
struct ForecastCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "Forecast a column of a CSV file: train a model against persistence and seasonal-naive baselines, then predict.",
        subcommands: [ForecastTrainCommand.self, ForecastPredictCommand.self])
}

/// `recurrent forecast train`.
struct ForecastTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a forecaster on a CSV column; print test MAE, RMSE, MASE and sMAPE next to the baselines.",
        discussion: """
        The rows are split in time order into training, validation and test parts (--val-fraction, \
        --test-fraction). The normalisation, the season and the MASE scale come from the training part \
        only. The epoch with the lowest validation loss is kept. Test scores: from every origin t whose \
        targets t+1 ... t+H lie in the test part, the model and both baselines forecast H steps; all \
        those forecasts are scored together. Writes DIR/config.json, DIR/model.safetensors and the plot \
        DIR/forecast.svg; while training, a resumable checkpoint every 30 s (or --checkpoint-every N epochs) \
        (DIR/checkpoints). --resume DIR continues an interrupted run exactly where it stopped (with its \
        settings and CSV file; --epochs and --patience may be raised). One run per DIR at a time.

        Example: recurrent forecast train --csv data/airline-passengers.csv --target Passengers --transform log \
        --window 24 --horizon 12 --out runs/airline
        """)

    @Option(help: ArgumentHelp("The CSV file (header line, then one row per time step, oldest first; with --resume: default the run's).",
                               valueName: "file"))
    var csv: String?

    @Option(help: ArgumentHelp("The column to forecast.", valueName: "column"))
    var target: String?

    @Option(help: ArgumentHelp("Extra input columns, comma-separated (exogenous variables).", valueName: "columns"))
    var features: String?

    @Option(help: ArgumentHelp("The date column (default: the first other column whose every cell is a date).", valueName: "column"))
    var date: String?

    @Option(help: "Missing cells (empty, NA, NaN, null, ?): error, forward (repeat the last value) or linear (interpolate).")
    var fill: MissingValuePolicy = .error

    @Option(help: "Transform of the target before normalisation: none or log (positive values only).")
    var transform: ValueTransform = .none

    @Option(help: "Target inputs and outputs as levels, or as changes relative to the last observed value: level or change.")
    var targetMode: ForecastModelConfiguration.TargetMode = .change

    @Option(help: "Steps forecast from each origin (H).")
    var horizon = 12

    @Option(help: "Observed steps the model reads (W).")
    var window = 24

    @Option(help: "The network: lstm, gru, rnn, or narx (tapped delay lines + perceptron, closed loop).")
    var cell: ForecastModelConfiguration.Cell = .lstm

    @Option(help: "How lstm/gru/rnn produce H steps: direct (H outputs) or recursive (one step, fed back).")
    var strategy: ForecastModelConfiguration.Strategy = .direct

    @Option(help: "Hidden units.")
    var hidden = 32

    @Option(help: "Recurrent layers.")
    var layers = 1

    @Option(help: "Training epochs (the epoch with the lowest validation loss is kept; default 100).")
    var epochs: Int?

    @Option(help: "Stop when the validation loss has not improved for this many epochs.")
    var patience: Int?

    @Option(help: "Forecast origins per batch.")
    var batch = 32

    @Option(help: "Learning rate (Adam).")
    var lr: Float = 0.005

    @Option(help: "Weight decay (L2) of Adam.")
    var weightDecay: Float = 0

    @Option(help: "Clip the global gradient norm to this value (0: no clipping).")
    var clip: Float = 1

    @Option(help: "The fraction of rows (after training) used for validation.")
    var valFraction = 0.15

    @Option(help: "The fraction of rows at the end used for testing.")
    var testFraction = 0.15

    @Option(help: "The season m of the seasonal-naive baseline and MASE (default: detected on the training part).")
    var season: Int?

    @Option(help: "Nominal coverage of the prediction interval, in (0, 1).")
    var interval = 0.9

    @Option(help: "Random seed (initialisation and batch order).")
    var seed: UInt64 = 1

    @OptionGroup var threading: ThreadingOptions

    @Option(help: ArgumentHelp("The directory for config.json, model.safetensors, forecast.svg and checkpoints (with --resume: default the run's).",
                               valueName: "dir"))
    var out: String?

    @OptionGroup var resuming: ResumeOptions
    private var resume: String? { resuming.resume }

    @Option(help: ArgumentHelp("Write the test plot here instead of DIR/forecast.svg.", valueName: "file"))
    var plot: String?

    @Flag(help: "Print one JSON object with the results instead of text.")
    var json = false

    func validate() throws {
        if resume == nil {
            guard csv != nil, target != nil, out != nil else { throw ValidationError("give --csv FILE, --target COLUMN and --out DIR (or --resume DIR)") }
        }
    }

    func run() throws {
        try Console.reportingErrors {
            threading.apply()
            let directory = URL(fileURLWithPath: out ?? resume!)
            try withRunDirectoryLock(directory) { try train(into: directory) }
        }
    }

    /// The run's configuration from the options.
    private func newConfiguration() throws -> ForecastConfiguration {
        let featureList = (features ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let columns = ForecastColumns(target: target!, features: featureList, date: date)
        let model = ForecastModelConfiguration(cell: cell, strategy: strategy, targetMode: targetMode,
                                               channelCount: 1 + featureList.count, window: window, horizon: horizon,
                                               hiddenSize: hidden, numLayers: layers)
        let configuration = ForecastConfiguration(
            columns: columns, model: model, fill: fill, transform: transform, validationFraction: valFraction,
            testFraction: testFraction, season: season, epochs: epochs ?? 100, batchSize: batch, learningRate: lr,
            weightDecay: weightDecay, clipNorm: clip > 0 ? clip : nil, patience: patience, intervalLevel: interval, seed: seed)
        try configuration.validate()
        return configuration
    }

    /// A new trainer, or one resumed from `--resume` (its CSV file unless --csv is given).
    private func makeTrainer(_ directory: URL) throws -> (ForecastTrainer, csv: String) {
        guard let resume else {
            let configuration = try newConfiguration()
            let series = try ForecastSeries(table: try CSVTable.load(from: URL(fileURLWithPath: csv!)), columns: configuration.columns,
                                            fill: configuration.fill)
            return (try ForecastTrainer(configuration: configuration, series: series, outputDirectory: directory,
                                        dataSource: ["csv": csv!]), csv!)
        }
        let checkpoint = try ForecastTrainingCheckpoint.load(from: URL(fileURLWithPath: resume))
        let path = csv ?? checkpoint.data["csv"] ?? ""
        let saved = checkpoint.configuration
        let series = try ForecastSeries(table: try CSVTable.load(from: URL(fileURLWithPath: path)), columns: saved.columns, fill: saved.fill)
        let trainer = try ForecastTrainer(resuming: checkpoint, series: series, outputDirectory: directory) { configuration in
            if let epochs { configuration.epochs = epochs }
            if let patience { configuration.patience = patience }
        }
        return (trainer, path)
    }

    private func train(into directory: URL) throws {
        let (trainer, csv) = try makeTrainer(directory)
        let c = trainer.configuration, m = c.model
        let split = trainer.split
        if !json {
            Console.line("\(trainer.series.count) steps of '\(c.columns.target)'"
                         + (trainer.series.filledCount > 0 ? " (\(trainer.series.filledCount) missing cells filled, --fill \(c.fill.rawValue))" : "")
                         + ": train \(split.trainCount), validation \(split.validationCount), test \(split.testCount); "
                         + "season m = \(trainer.season.period) (\(trainer.seasonSource))")
        }
        let started = Date()
        let report = max(1, c.epochs / 10)
        let result = try trainer.train(checkpoints: resuming.interval) { epoch in
            guard !json, epoch.epoch % report == 0 || epoch.epoch == c.epochs else { return }
            Console.progress(String(format: "epoch %d/%d  train loss %.5f  validation loss %.5f%@", epoch.epoch, c.epochs,
                                    epoch.trainingLoss, epoch.validationLoss, epoch.isBest ? "  (best)" : ""))
        }
        Console.finishProgressLine()
        try ForecastCheckpoint.save(result.forecaster, to: directory, split: result.split, test: result.test)
        let plotURL = plot.map { URL(fileURLWithPath: $0) } ?? URL(fileURLWithPath: out ?? resume!).appendingPathComponent("forecast.svg")
        let title = "\(URL(fileURLWithPath: csv).deletingPathExtension().lastPathComponent): \(m.cell.rawValue) "
            + "\(m.cell == .narx ? "closed loop" : m.strategy.rawValue) (\(c.transform == .log ? "log, " : "")\(m.targetMode.rawValue)), test split"
        try AtomicFile.write(Data(ForecastPlot.test(trainer.series, result: result, title: title).render().utf8), to: plotURL)
        let seconds = Date().timeIntervalSince(started)
        if json {
            Console.printJSON(summary(result, seconds: seconds, plot: plotURL.path, directory: out ?? resume!))
        } else {
            printTable(result, seconds: seconds, plot: plotURL.path, directory: out ?? resume!)
        }
    }

    private func printTable(_ result: ForecastTrainingResult, seconds: Double, plot: String, directory out: String) {
        let test = result.test
        let h = result.forecaster.configuration.model.horizon
        Console.line("best epoch \(result.bestEpoch) of \(result.epochsRun) (\(formatDuration(seconds)))")
        Console.line("test: \(test.origins) origins × horizon \(h) = \(test.model.count) forecasts; MASE scale: in-sample seasonal-naive MAE (m = \(result.forecaster.season.period)) on the training part")
        Console.line("method                  MAE        RMSE       MASE     sMAPE%")
        for (name, metrics) in [("model (\(result.forecaster.configuration.model.cell.rawValue))", test.model), ("persistence", test.persistence),
                                ("seasonal naive", test.seasonalNaive)] {
            Console.line(name.padding(toLength: 20, withPad: " ", startingAt: 0)
                         + String(format: "%11.4f %11.4f ", metrics.mae, metrics.rmse)
                         + (metrics.mase.map { String(format: "%9.4f", $0) } ?? "      n/a")
                         + String(format: " %9.3f", metrics.smape))
        }
        if let coverage = test.intervalCoverage, let interval = result.forecaster.interval {
            Console.line(String(format: "%.0f%% prediction interval (validation residuals): test coverage %.3f", interval.level * 100, coverage))
        }
        Console.line("saved \(out)/config.json, \(out)/model.safetensors; plot \(plot)")
    }

    private func summary(_ result: ForecastTrainingResult, seconds: Double, plot: String, directory out: String) -> [String: Any] {
        func metrics(_ m: ForecastMetrics) -> [String: Any] {
            ["mae": m.mae, "rmse": m.rmse, "mase": m.mase.map { $0 as Any } ?? NSNull(), "smape": m.smape, "count": m.count]
        }
        let test = result.test, c = result.forecaster.configuration
        return [
            "target": c.columns.target, "steps": result.split.count, "train": result.split.trainCount,
            "validation": result.split.validationCount, "test": result.split.testCount,
            "season": result.forecaster.season.period, "seasonSource": result.seasonSource,
            "window": c.model.window, "horizon": c.model.horizon, "cell": c.model.cell.rawValue, "strategy": c.model.strategy.rawValue,
            "bestEpoch": result.bestEpoch, "epochs": result.epochsRun, "validationLoss": result.bestValidationLoss,
            "origins": test.origins, "model": metrics(test.model), "persistence": metrics(test.persistence),
            "seasonalNaive": metrics(test.seasonalNaive),
            "intervalCoverage": test.intervalCoverage.map { $0 as Any } ?? NSNull(),
            "seconds": seconds, "checkpoint": out, "plot": plot,
        ]
    }
}

/// `recurrent forecast predict`.
struct ForecastPredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Forecast the steps after the end of a CSV file with a trained forecaster.",
        discussion: """
        The CSV needs the checkpoint's target (and feature) columns and at least --window rows; the \
        forecast starts after its last row. Dates are continued when the date column has a regular step.

        Example: recurrent forecast predict --checkpoint runs/airline --csv data/airline-passengers.csv --horizon 12
        """)

    @Option(help: ArgumentHelp("The directory written by 'forecast train'.", valueName: "dir"))
    var checkpoint: String

    @Option(help: ArgumentHelp("The CSV file whose continuation is forecast.", valueName: "file"))
    var csv: String

    @Option(help: "Steps to forecast (default: the trained horizon; direct models cannot exceed it).")
    var horizon: Int?

    @Option(help: ArgumentHelp("Also write the forecast as an SVG plot.", valueName: "file"))
    var plot: String?

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func run() throws {
        try Console.reportingErrors {
            let (forecaster, _) = try ForecastCheckpoint.load(from: URL(fileURLWithPath: checkpoint))
            let configuration = forecaster.configuration
            let series = try ForecastSeries(table: try CSVTable.load(from: URL(fileURLWithPath: csv)),
                                            columns: configuration.columns, fill: configuration.fill)
            let steps = try forecaster.forecastAfterEnd(series, horizon: horizon)
            if let plot {
                let title = "\(configuration.columns.target): forecast of \(steps.count) steps"
                try AtomicFile.write(Data(ForecastPlot.future(series, steps: steps, title: title).render().utf8),
                                     to: URL(fileURLWithPath: plot))
            }
            let level = forecaster.interval.map { Int(($0.level * 100).rounded()) }
            if json {
                Console.printJSON([
                    "target": configuration.columns.target, "horizon": steps.count,
                    "intervalLevel": forecaster.interval.map { $0.level as Any } ?? NSNull(),
                    "forecast": steps.map { step -> [String: Any] in
                        ["step": step.step, "date": step.date.map { $0 as Any } ?? NSNull(), "value": step.value,
                         "lower": step.lower.map { $0 as Any } ?? NSNull(), "upper": step.upper.map { $0 as Any } ?? NSNull()]
                    },
                ])
                return
            }
            let lastLabel = series.dateAxis?.labels.last ?? "step \(series.count)"
            Console.line("forecast of '\(configuration.columns.target)' for \(steps.count) steps after \(lastLabel)"
                         + (level.map { " with the \($0)% interval from validation residuals" } ?? ""))
            Console.line("step  date          forecast       lower       upper")
            for step in steps {
                Console.line(String(format: "%4d  ", step.step) + (step.date ?? "-").padding(toLength: 10, withPad: " ", startingAt: 0)
                             + String(format: " %11.4f", step.value)
                             + (step.lower.map { String(format: " %11.4f", $0) } ?? "           -")
                             + (step.upper.map { String(format: " %11.4f", $0) } ?? "           -"))
            }
            if let plot { Console.line("plot \(plot)") }
        }
    }
}
