import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers

/// Prediction intervals from the validation residuals (split conformal prediction): for each
/// horizon step h, the absolute residuals |f(y(t+h)) − f(ŷ(t+h))| over the n validation origins,
/// with f the target transform (identity or log), give the radius q_h = the ⌈(n+1)·level⌉-th
/// smallest of them (the largest when that exceeds n). The interval of a forecast ŷ is
/// `[f⁻¹(f(ŷ) − q_h), f⁻¹(f(ŷ) + q_h)]`; with the log transform the band is multiplicative. If
/// validation and test errors were exchangeable the coverage would be at least `level`; for a
/// series whose behaviour drifts it is not guaranteed, so the coverage measured on the test split
/// is reported next to it.
public struct PredictionInterval: Codable, Equatable, Sendable {
    /// The nominal coverage, e.g. 0.9.
    public var level: Double
    /// The offset of the lower bound per horizon step in transformed units (length H; −q_h).
    public var lower: [Double]
    /// The offset of the upper bound per horizon step in transformed units (length H; +q_h).
    public var upper: [Double]

    public init(level: Double, lower: [Double], upper: [Double]) {
        self.level = level
        self.lower = lower
        self.upper = upper
    }

    /// The split-conformal radius of absolute residuals `values` at `level`: the
    /// ⌈(n+1)·level⌉-th smallest value, or the largest when n is too small for that rank.
    public static func conformalRadius(_ values: [Double], level: Double) -> Double {
        precondition(!values.isEmpty, "PredictionInterval.conformalRadius: no values")
        let sorted = values.sorted()
        let rank = Int((Double(sorted.count + 1) * level).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

/// One forecast step after the end of the data.
public struct ForecastStep: Codable, Equatable, Sendable {
    /// 1 ... H.
    public var step: Int
    /// The continued date, when the series has a regular date column.
    public var date: String?
    public var value: Double
    /// The prediction interval, when one is known for this step.
    public var lower: Double?
    public var upper: Double?
}

/// A trained forecaster: the model with everything needed to apply it to raw values — the
/// columns, the normaliser fitted on the training split, the season and the prediction interval.
/// Saved and loaded as a checkpoint directory (`ForecastCheckpoint`).
public final class Forecaster {
    public let configuration: ForecastConfiguration
    public let model: ForecastModel
    public let normalizer: SeriesNormalizer
    /// The season used by the seasonal-naive baseline and MASE.
    public let season: SeasonEstimate
    /// From the validation residuals; nil when it could not be estimated.
    public let interval: PredictionInterval?

    public init(configuration: ForecastConfiguration, model: ForecastModel, normalizer: SeriesNormalizer,
                season: SeasonEstimate, interval: PredictionInterval?) {
        self.configuration = configuration
        self.model = model
        self.normalizer = normalizer
        self.season = season
        self.interval = interval
    }

    /// The forecasts (original units) from each origin of `series` for horizons 1 ... `horizon`:
    /// `(origins.count, horizon)`.
    /// - Throws: `ForecastRunError.nonFinite` if the model produces a non-finite value.
    public func forecast(_ series: ForecastSeries, origins: [Int], horizon: Int) throws -> [[Double]] {
        let z = normalizer.normalize(series)
        let normalized = model.forecast(z, origins: origins, horizon: horizon)
        let values = normalized.map { $0.map { normalizer.denormalizeTarget($0) } }
        guard values.allSatisfy({ $0.allSatisfy(\.isFinite) }) else { throw ForecastRunError.nonFinite }
        return values
    }

    /// The interval bounds of forecasts `values` (original units), one list per origin; nil
    /// entries past the horizon the interval covers.
    public func intervals(for values: [Double]) -> [(lower: Double, upper: Double)?] {
        guard let interval else { return values.map { _ in nil } }
        let f = normalizer.transform
        return values.enumerated().map { h, v in
            guard h < interval.lower.count else { return nil }
            return (f.invert(f.apply(v) + interval.lower[h]), f.invert(f.apply(v) + interval.upper[h]))
        }
    }

    /// The forecast of the `horizon` steps after the end of `series` (default: the trained horizon).
    /// - Throws: `ForecastDataError.tooShort` when the series is shorter than the window;
    ///   `ConfigurationError` (`horizon`) when a direct model is asked for more steps than it was
    ///   trained for, or for more than `ForecastModelConfiguration.maximumHorizon`; `ForecastRunError.nonFinite`
    ///   when a forecast or an interval bound is not finite; `ForecastRunError.unknownFutureFeatures` for a NARX model with features (its
    ///   future features are unknown).
    public func forecastAfterEnd(_ series: ForecastSeries, horizon: Int? = nil) throws -> [ForecastStep] {
        let c = configuration.model
        let horizon = horizon ?? c.horizon
        try ConfigurationError.requireSize(horizon, "horizon", maximum: ForecastModelConfiguration.maximumHorizon)
        if c.cell != .narx && c.strategy == .direct {
            try ConfigurationError.require(horizon <= c.horizon, "horizon",
                                           "the model forecasts \(c.horizon) steps directly (it was trained with --horizon \(c.horizon)), got \(horizon)")
        }
        if c.cell == .narx && c.channelCount > 1 { throw ForecastRunError.unknownFutureFeatures }
        guard series.count >= c.window else {
            throw ForecastDataError.tooShort(count: series.count, needed: c.window, reason: "the model reads a window of \(c.window) steps")
        }
        try SeriesNormalizer.checkTransform(series, transform: normalizer.transform)
        let values = try forecast(series, origins: [series.count - 1], horizon: horizon)[0]
        let bounds = intervals(for: values)
        guard bounds.allSatisfy({ $0.map { $0.lower.isFinite && $0.upper.isFinite } ?? true }) else { throw ForecastRunError.nonFinite }
        let dates = series.dateAxis?.continuation(count: horizon)
        return values.enumerated().map { h, v in
            ForecastStep(step: h + 1, date: dates?[h], value: v, lower: bounds[h]?.lower, upper: bounds[h]?.upper)
        }
    }
}

/// A training or forecasting run that cannot produce a valid result.
public enum ForecastRunError: Error, LocalizedError, Equatable, Sendable {
    /// The model produced NaN or infinity (training diverged).
    case nonFinite
    /// A NARX model with features was asked to forecast past the data: its exogenous inputs are unknown there.
    case unknownFutureFeatures

    public var errorDescription: String? {
        switch self {
        case .nonFinite: return "the model produced a non-finite forecast (training diverged); lower --lr or raise --clip"
        case .unknownFutureFeatures:
            return "a NARX model with features cannot forecast past the end of the data: the future values of its features are unknown"
        }
    }
}
