import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
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
/// `batchSize`; Adam with optional weight decay and global-norm clipping.
public final class ForecastTrainer {
    public let configuration: ForecastConfiguration
    public let series: ForecastSeries
    public let split: SeriesSplit
    public let normalizer: SeriesNormalizer
    public let season: SeasonEstimate
    public let seasonSource: String

    /// Prepares a run: split, normaliser (training split only) and season.
    /// - Throws: `ConfigurationError` for an invalid configuration; `ForecastDataError` when the
    ///   series is too short, constant on the training split or not positive for the log transform.
    public init(configuration: ForecastConfiguration, series: ForecastSeries) throws {
        try configuration.validate()
        try ConfigurationError.require(series.channelCount == configuration.model.channelCount, "channelCount",
                                       "the series has \(series.channelCount) channels, the model expects \(configuration.model.channelCount)")
        self.configuration = configuration
        self.series = series
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

    /// Runs the training; `progress` sees every epoch.
    /// - Throws: `ForecastRunError.nonFinite` when training diverges.
    public func train(progress: (ForecastEpoch) -> Void = { _ in }) throws -> ForecastTrainingResult {
        let c = configuration, m = c.model
        var rng = RandomGenerator(seed: c.seed)
        let model = try ForecastModel(m, using: &rng)
        let optimizer = try Adam(model.parameters, learningRate: c.learningRate, weightDecay: c.weightDecay)
        let z = normalizer.normalize(series)
        var origins = split.trainingOrigins(window: m.window, horizon: m.horizon)
        let validationOrigins = split.validationOrigins(window: m.window, horizon: m.horizon)

        var best = (epoch: 0, loss: Double.infinity, weights: model.stateDict())
        var epochsRun = 0
        for epoch in 1...c.epochs {
            model.isTraining = true
            origins.shuffle(using: &rng)
            var total = 0.0, batches = 0
            var start = 0
            while start < origins.count {
                let batch = Array(origins[start..<min(start + c.batchSize, origins.count)])
                start += c.batchSize
                optimizer.zeroGrad()
                let loss = model.loss(z, origins: batch)
                loss.backward()
                if let clip = c.clipNorm { _ = clipGradientNorm(model.parameters, maxNorm: clip) }
                optimizer.step()
                total += Double(loss.value.scalars[0])
                batches += 1
            }
            model.isTraining = false
            let validationLoss = GradientMode.withoutGradients { Double(model.loss(z, origins: validationOrigins).value.scalars[0]) }
            guard validationLoss.isFinite, total.isFinite else { throw ForecastRunError.nonFinite }
            let isBest = validationLoss < best.loss
            if isBest { best = (epoch, validationLoss, model.stateDict()) }
            epochsRun = epoch
            progress(ForecastEpoch(epoch: epoch, trainingLoss: total / Double(batches), validationLoss: validationLoss, isBest: isBest))
            if let patience = c.patience, epoch - best.epoch >= patience { break }
        }
        try model.loadStateDict(Dictionary(uniqueKeysWithValues: best.weights.map { ($0.name, $0.tensor) }))
        model.isTraining = false

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
                                      testOrigins: testOrigins, testForecasts: testForecasts, bestEpoch: best.epoch,
                                      epochsRun: epochsRun, bestValidationLoss: best.loss)
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
