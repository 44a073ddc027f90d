import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentFormats
import RecurrentOptim

/// Everything that defines a forecasting run: data handling, model, optimisation.
public struct ForecastConfiguration: Codable, Equatable, Sendable {
    public var columns: ForecastColumns
    public var fill: MissingValuePolicy
    public var transform: ValueTransform
    /// The network; `channelCount` must be 1 + `columns.features.count`.
    public var model: ForecastModelConfiguration
    public var validationFraction: Double
    public var testFraction: Double
    /// The season m for the seasonal-naive baseline and MASE; nil to detect it on the training split.
    public var season: Int?
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    public var weightDecay: Float
    /// Clip the global gradient norm (nil: no clipping).
    public var clipNorm: Float?
    /// Stop when the validation loss has not improved for this many epochs (nil: run every epoch).
    public var patience: Int?
    /// The nominal coverage of the prediction interval.
    public var intervalLevel: Double
    public var seed: UInt64

    public init(columns: ForecastColumns, model: ForecastModelConfiguration, fill: MissingValuePolicy = .error,
                transform: ValueTransform = .none, validationFraction: Double = 0.15, testFraction: Double = 0.15,
                season: Int? = nil, epochs: Int = 100, batchSize: Int = 32, learningRate: Float = 0.005,
                weightDecay: Float = 0, clipNorm: Float? = 1, patience: Int? = nil, intervalLevel: Double = 0.9,
                seed: UInt64 = 1) {
        self.columns = columns
        self.fill = fill
        self.transform = transform
        self.model = model
        self.validationFraction = validationFraction
        self.testFraction = testFraction
        self.season = season
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.clipNorm = clipNorm
        self.patience = patience
        self.intervalLevel = intervalLevel
        self.seed = seed
    }

    /// Throws a `ConfigurationError` naming the first invalid field.
    public func validate() throws {
        try model.validate()
        try ConfigurationError.require(model.channelCount == 1 + columns.features.count, "channelCount",
                                       "must be 1 + the number of features (\(1 + columns.features.count)), got \(model.channelCount)")
        try ConfigurationError.require(epochs >= 1, "epochs", "must be positive, got \(epochs)")
        try ConfigurationError.require(batchSize >= 1, "batchSize", "must be positive, got \(batchSize)")
        try ConfigurationError.require(learningRate > 0 && learningRate.isFinite, "learningRate", "must be positive, got \(learningRate)")
        try ConfigurationError.require(weightDecay >= 0, "weightDecay", "must not be negative, got \(weightDecay)")
        if let clipNorm { try ConfigurationError.require(clipNorm > 0, "clipNorm", "must be positive, got \(clipNorm)") }
        if let patience { try ConfigurationError.require(patience >= 1, "patience", "must be positive, got \(patience)") }
        if let season { try ConfigurationError.require(season >= 1, "season", "must be positive, got \(season)") }
        try ConfigurationError.require(intervalLevel > 0 && intervalLevel < 1, "intervalLevel", "must be in (0, 1), got \(intervalLevel)")
    }
}

/// Scores of one method on a set of origins: every origin contributes its H forecasts.
public struct ForecastComparison: Codable, Equatable, Sendable {
    public var model: ForecastMetrics
    public var persistence: ForecastMetrics
    public var seasonalNaive: ForecastMetrics
    /// The number of forecast origins scored.
    public var origins: Int
    /// The fraction of targets inside the prediction interval, when there is one.
    public var intervalCoverage: Double?
}

/// One finished epoch.
public struct ForecastEpoch: Sendable {
    public var epoch: Int
    /// The mean training loss of the epoch (normalised units).
    public var trainingLoss: Double
    /// The validation loss (normalised units).
    public var validationLoss: Double
    /// Whether this epoch has the lowest validation loss so far (its weights are kept).
    public var isBest: Bool
}

/// The outcome of `ForecastTrainer.train`.
public struct ForecastTrainingResult {
    /// The model at its best validation epoch, ready to forecast and to save.
    public var forecaster: Forecaster
    /// Where the season came from: "detected" or "given".
    public var seasonSource: String
    public var split: SeriesSplit
    /// The test scores of the model and both baselines on exactly the same origins and targets.
    public var test: ForecastComparison
    /// The test origins and the model's forecasts from each (original units), `(origins, H)`.
    public var testOrigins: [Int]
    public var testForecasts: [[Double]]
    public var bestEpoch: Int
    public var epochsRun: Int
    public var bestValidationLoss: Double
}

/// Trains a `ForecastModel` on the training split of a series, selects the epoch with the lowest
/// validation loss, estimates the prediction interval on the validation split and scores model and
/// baselines on the test split.
///
/// Every epoch visits the training origins in a new random order (seeded) in mini-batches of
/// `batchSize`; Adam with optional weight decay and global-norm clipping. Every step is checked by
/// `DivergenceMonitor`'s rule, with the initial model's loss over the whole training split as the
/// loss at the start.
///
/// With an output directory the trainer writes a `ForecastTrainingCheckpoint` (`<run>/checkpoints/`)
/// as `train(checkpoints:progress:)` asks and after the last epoch; a trainer made with
/// `init(resuming:series:outputDirectory:changes:)` continues from one bit for bit: the same
/// weights, best epoch and scores as the uninterrupted run.
public final class ForecastTrainer {
    public let configuration: ForecastConfiguration
    public let series: ForecastSeries
    public let split: SeriesSplit
    public let normalizer: SeriesNormalizer
    public let season: SeasonEstimate
    public let seasonSource: String
    /// Where checkpoints go; nil: the run writes none.
    public let checkpointStore: CheckpointStore?
    /// How the series was read (saved in checkpoints, e.g. `["csv": path]`).
    public let dataSource: [String: String]
    /// The checkpoint a resumed trainer continues.
    private let resumed: ForecastTrainingCheckpoint?

    /// The configuration fields a resumed run may change.
    public static let resumableFields: Set<String> = ["epochs", "patience"]

    /// Prepares a run: split, normaliser (training split only) and season.
    /// - Parameters:
    ///   - outputDirectory: the run directory for checkpoints (nil: none); it must not hold a run.
    ///   - dataSource: how the series was read, saved in checkpoints.
    /// - Throws: `ConfigurationError` for an invalid configuration; `ForecastDataError` when the
    ///   series is too short, constant on the training split or not positive for the log transform;
    ///   `CheckpointError.outputDirectoryInUse`.
    public convenience init(configuration: ForecastConfiguration, series: ForecastSeries, outputDirectory: URL? = nil,
                            dataSource: [String: String] = [:]) throws {
        let store = outputDirectory.map { CheckpointStore(runDirectory: $0) }
        try store?.requireNoRun()
        try self.init(configuration: configuration, series: series, store: store, dataSource: dataSource, resumed: nil)
    }

    /// Continues the run saved in `checkpoint` on `series`, which must be the series it trained on.
    /// - Parameters:
    ///   - outputDirectory: where to write from now on; nil: the checkpoint's run directory.
    ///   - changes: may change `epochs` and `patience`; any other change throws.
    /// - Throws: `CheckpointError.configurationChanged`, `.dataMismatch` (another series), the
    ///   checkpoint's weights or optimizer state not fitting, `.outputDirectoryInUse`.
    public convenience init(resuming checkpoint: ForecastTrainingCheckpoint, series: ForecastSeries, outputDirectory: URL? = nil,
                            changes: (inout ForecastConfiguration) -> Void = { _ in }) throws {
        var configuration = checkpoint.configuration
        changes(&configuration)
        try checkpoint.checkResume(configuration: configuration, mayChange: Self.resumableFields,
                                   dataFingerprint: series.fingerprint, dataDescription: checkpoint.data["csv"] ?? "the series")
        let store = CheckpointStore(runDirectory: outputDirectory ?? checkpoint.runDirectory)
        if store.runDirectory.path != checkpoint.runDirectory.standardizedFileURL.path { try store.requireNoRun() }
        try self.init(configuration: configuration, series: series, store: store, dataSource: checkpoint.data, resumed: checkpoint)
    }

    private init(configuration: ForecastConfiguration, series: ForecastSeries, store: CheckpointStore?,
                 dataSource: [String: String], resumed: ForecastTrainingCheckpoint?) throws {
        try configuration.validate()
        try ConfigurationError.require(series.channelCount == configuration.model.channelCount, "channelCount",
                                       "the series has \(series.channelCount) channels, the model expects \(configuration.model.channelCount)")
        self.configuration = configuration
        self.series = series
        self.checkpointStore = store
        self.dataSource = dataSource
        self.resumed = resumed
        let m = configuration.model
        split = try SeriesSplit(count: series.count, validationFraction: configuration.validationFraction,
                                testFraction: configuration.testFraction, window: m.window, horizon: m.horizon)
        normalizer = try SeriesNormalizer.fit(series, trainCount: split.trainCount, transform: configuration.transform)
        if let given = configuration.season {
            try ConfigurationError.require(given < split.trainCount / 2 + 1, "season",
                                           "must be at most half the training split (\(split.trainCount / 2) steps), got \(given)")
            season = SeasonEstimate(period: given, autocorrelation: 0)
            seasonSource = "given"
        } else {
            let training = series.target.prefix(split.trainCount).map { configuration.transform.apply($0) }
            season = SeasonEstimate.detect(Array(training))
            seasonSource = "detected"
        }
    }

    /// Runs the training (from where a resumed trainer's checkpoint stopped); `progress` sees every
    /// epoch trained.
    /// - Parameter checkpoints: with an output directory, when to write a checkpoint (`.every(n)`: every
    ///   n epochs), besides the one after the last epoch.
    /// - Throws: `TrainingDivergence` when training diverges (checkpoints written before stay);
    ///   `FileWriteError` when a checkpoint cannot be written.
    public func train(checkpoints: CheckpointInterval = .default,
                      progress: (ForecastEpoch) -> Void = { _ in }) throws -> ForecastTrainingResult {
        let c = configuration, m = c.model
        let z = normalizer.normalize(series)
        let validationOrigins = split.validationOrigins(window: m.window, horizon: m.horizon)
        var (model, optimizer, state, bestWeights) = try start(z)
        var writer = CheckpointWriter(store: checkpointStore, monitor: state.progress.divergence, interval: checkpoints)
        func isFinished() -> Bool { state.progress.epoch >= c.epochs || c.patience.map { state.progress.epoch - state.bestEpoch >= $0 } ?? false }

        while !isFinished() {
            model.isTraining = true
            var generator = state.progress.generator
            state.order.shuffle(using: &generator)
            state.progress.generator = generator
            var total = 0.0, batches = 0
            for start in stride(from: 0, to: state.order.count, by: c.batchSize) {
                let batch = Array(state.order[start..<min(start + c.batchSize, state.order.count)])
                optimizer.zeroGrad()
                let loss = model.loss(z, origins: batch)
                loss.backward()
                let norm = c.clipNorm.map { clipGradientNorm(model.parameters, maxNorm: $0) } ?? gradientNorm(model.parameters)
                try writer.check(step: state.progress.step + 1, loss: loss.value.scalars[0], gradientNorm: norm)
                optimizer.step()
                state.progress.step += 1
                total += Double(loss.value.scalars[0])
                batches += 1
            }
            model.isTraining = false
            let validationLoss = GradientMode.withoutGradients { Double(model.loss(z, origins: validationOrigins).value.scalars[0]) }
            try DivergenceMonitor.checkFinite(step: state.progress.step, validationLoss: validationLoss)
            state.progress.epoch += 1
            let isBest = validationLoss < (state.bestLoss ?? .infinity)
            if isBest {
                (state.bestEpoch, state.bestLoss) = (state.progress.epoch, validationLoss)
                bestWeights = model.stateDict()
            }
            progress(ForecastEpoch(epoch: state.progress.epoch, trainingLoss: total / Double(batches), validationLoss: validationLoss, isBest: isBest))
            if writer.isDue(after: state.progress.epoch) || isFinished() {
                let snapshot = state
                try writer.save(step: state.progress.step, isFinal: isFinished()) { monitor in
                    var saved = snapshot
                    saved.progress.divergence = monitor
                    return try ForecastTrainingCheckpoint.files(configuration: c, dataFingerprint: series.fingerprint,
                        data: dataSource, state: saved, weights: model.stateDict(), optimizerState: optimizer.stateDict(),
                        bestWeights: bestWeights)
                }
            }
        }
        try model.loadStateDict(Dictionary(uniqueKeysWithValues: (bestWeights ?? model.stateDict()).map { ($0.name, $0.tensor) }))
        model.isTraining = false
        return try finish(model, bestEpoch: state.bestEpoch, epochsRun: state.progress.epoch, bestLoss: state.bestLoss ?? .infinity)
    }

    /// The model, optimizer, state and best weights to train from: a new run's, or the checkpoint's.
    private func start(_ z: [[Float]]) throws -> (ForecastModel, Adam, ForecastTrainingState, [(name: String, tensor: Tensor)]?) {
        let c = configuration, m = c.model
        if let resumed {
            var scratch = RandomGenerator(seed: 0)
            let model = try ForecastModel(m, using: &scratch)
            let optimizer = try Adam(model.parameters, learningRate: c.learningRate, weightDecay: c.weightDecay)
            try resumed.restore(model, optimizer: optimizer)
            let best = try resumed.checkedBestWeights(for: model).map { weights in model.stateDict().map { ($0.name, weights[$0.name]!) } }
            return (model, optimizer, resumed.state, best)
        }
        var rng = RandomGenerator(seed: c.seed)
        let model = try ForecastModel(m, using: &rng)
        let optimizer = try Adam(model.parameters, learningRate: c.learningRate, weightDecay: c.weightDecay)
        let origins = split.trainingOrigins(window: m.window, horizon: m.horizon)
        // The loss at the start for the divergence rule: the initial model over the whole training split.
        let initialLoss = GradientMode.withoutGradients { Double(model.loss(z, origins: origins).value.scalars[0]) }
        let progress = TrainingProgress(generator: rng, divergence: DivergenceMonitor(referenceLoss: initialLoss.isFinite ? initialLoss : nil))
        let state = ForecastTrainingState(progress: progress, order: origins, bestEpoch: 0, bestLoss: nil)
        return (model, optimizer, state, nil)
    }

    /// The interval from the validation residuals, the test scores, the result.
    private func finish(_ model: ForecastModel, bestEpoch: Int, epochsRun: Int, bestLoss: Double) throws -> ForecastTrainingResult {
        let c = configuration, m = c.model
        let validationOrigins = split.validationOrigins(window: m.window, horizon: m.horizon)
        // The interval from the validation residuals (transformed units), per horizon step.
        let draft = Forecaster(configuration: c, model: model, normalizer: normalizer, season: season, interval: nil)
        let validationForecasts = try draft.forecast(series, origins: validationOrigins, horizon: m.horizon)
        let f = c.transform
        let radii = (0..<m.horizon).map { h in
            PredictionInterval.conformalRadius(zip(validationOrigins, validationForecasts).map { abs(f.apply(series.target[$0 + h + 1]) - f.apply($1[h])) },
                                               level: c.intervalLevel)
        }
        let interval = PredictionInterval(level: c.intervalLevel, lower: radii.map { -$0 }, upper: radii)
        let forecaster = Forecaster(configuration: c, model: model, normalizer: normalizer, season: season, interval: interval)

        let testOrigins = split.testOrigins(window: m.window, horizon: m.horizon)
        let testForecasts = try forecaster.forecast(series, origins: testOrigins, horizon: m.horizon)
        let test = Self.compare(series: series.target, split: split, season: season.period, origins: testOrigins,
                                horizon: m.horizon, forecasts: testForecasts, forecaster: forecaster)
        return ForecastTrainingResult(forecaster: forecaster, seasonSource: seasonSource, split: split, test: test,
                                      testOrigins: testOrigins, testForecasts: testForecasts, bestEpoch: bestEpoch,
                                      epochsRun: epochsRun, bestValidationLoss: bestLoss)
    }

    /// Scores `forecasts` (one row of `horizon` values per origin) and both baselines on the same
    /// origins and targets y(t+1 ... t+H); MASE is scaled by the training split's in-sample
    /// seasonal-naive error with `season`.
    public static func compare(series: [Double], split: SeriesSplit, season: Int, origins: [Int], horizon: Int,
                               forecasts: [[Double]], forecaster: Forecaster? = nil) -> ForecastComparison {
        let scale = ForecastMetrics.maseScale(training: Array(series.prefix(split.trainCount)), season: season)
        var actual: [Double] = [], model: [Double] = [], persistence: [Double] = [], seasonal: [Double] = []
        var inside = 0, bounded = 0
        for (t, forecast) in zip(origins, forecasts) {
            let truth = (1...horizon).map { series[t + $0] }
            actual += truth
            model += forecast
            persistence += ForecastBaseline.persistence.forecast(series, origin: t, horizon: horizon, season: season)
            seasonal += ForecastBaseline.seasonalNaive.forecast(series, origin: t, horizon: horizon, season: season)
            if let forecaster {
                for (h, bounds) in forecaster.intervals(for: forecast).enumerated() {
                    guard let bounds else { continue }
                    bounded += 1
                    if truth[h] >= bounds.lower && truth[h] <= bounds.upper { inside += 1 }
                }
            }
        }
        return ForecastComparison(model: ForecastMetrics(actual: actual, predicted: model, scale: scale),
                                  persistence: ForecastMetrics(actual: actual, predicted: persistence, scale: scale),
                                  seasonalNaive: ForecastMetrics(actual: actual, predicted: seasonal, scale: scale),
                                  origins: origins.count,
                                  intervalCoverage: bounded > 0 ? Double(inside) / Double(bounded) : nil)
    }
}
