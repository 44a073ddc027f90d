import Foundation
import RecurrentCore

/// A chronological split of a series of `count` steps: training `[0, trainCount)`, validation
/// `[trainCount, trainCount + validationCount)`, test (the rest, the most recent steps).
///
/// Forecast origins: an origin t is the last observed step; its targets are t+1 ... t+H and its
/// input window t−W+1 ... t. Training origins have every target inside the training split;
/// validation and test origins have every target inside their split, while their windows may
/// reach back into earlier splits (that history is observed, not predicted).
public struct SeriesSplit: Codable, Equatable, Sendable {
    public var trainCount: Int
    public var validationCount: Int
    public var testCount: Int

    public var count: Int { trainCount + validationCount + testCount }
    public var validationStart: Int { trainCount }
    public var testStart: Int { trainCount + validationCount }

    public init(trainCount: Int, validationCount: Int, testCount: Int) {
        self.trainCount = trainCount
        self.validationCount = validationCount
        self.testCount = testCount
    }

    /// Splits `count` steps by fractions (rounded to whole steps) and checks that every split holds
    /// at least one forecast origin for `window` and `horizon`.
    /// - Throws: `ConfigurationError` for fractions outside [0, 1) or summing to 1 or more;
    ///   `ForecastDataError.tooShort` when a split is too short.
    public init(count: Int, validationFraction: Double, testFraction: Double, window: Int, horizon: Int) throws {
        try ConfigurationError.require(validationFraction > 0 && validationFraction < 1, "validationFraction",
                                       "must be in (0, 1), got \(validationFraction)")
        try ConfigurationError.require(testFraction > 0 && testFraction < 1, "testFraction", "must be in (0, 1), got \(testFraction)")
        try ConfigurationError.require(validationFraction + testFraction < 0.9, "testFraction",
                                       "validation and test fractions must leave at least 10% for training, got \(validationFraction) + \(testFraction)")
        let validation = Int((Double(count) * validationFraction).rounded())
        let test = Int((Double(count) * testFraction).rounded())
        let train = count - validation - test
        // The smallest series that satisfies every split at these fractions.
        let needed = [window + horizon, horizon, horizon].enumerated().map { index, least -> Int in
            let fraction = [1 - validationFraction - testFraction, validationFraction, testFraction][index]
            return Int((Double(least) / fraction).rounded(.up))
        }.max()!
        if train < window + horizon {
            throw ForecastDataError.tooShort(count: count, needed: needed, reason:
                "the training split has \(max(train, 0)) steps, window \(window) + horizon \(horizon) = \(window + horizon) are needed")
        }
        if validation < horizon || test < horizon {
            throw ForecastDataError.tooShort(count: count, needed: needed, reason:
                "the validation and test splits have \(validation) and \(test) steps; each needs at least horizon \(horizon)")
        }
        self.init(trainCount: train, validationCount: validation, testCount: test)
    }

    /// Origins whose windows and targets fit in the training split.
    public func trainingOrigins(window: Int, horizon: Int) -> [Int] {
        Array((window - 1)..<max(window - 1, trainCount - horizon))
    }

    /// Origins whose targets all lie in the validation split (windows may start in training).
    public func validationOrigins(window: Int, horizon: Int) -> [Int] {
        Array(max(window - 1, validationStart - 1)..<max(window - 1, testStart - horizon))
    }

    /// Origins whose targets all lie in the test split: t = testStart−1 ... count−1−horizon.
    public func testOrigins(window: Int, horizon: Int) -> [Int] {
        Array(max(window - 1, testStart - 1)..<max(window - 1, count - horizon))
    }
}

/// The transform applied to the target before normalisation.
public enum ValueTransform: String, Codable, CaseIterable, Sendable {
    /// Values as they are.
    case none
    /// Natural logarithm (positive targets only): multiplicative seasonality and exponential trend
    /// become additive and linear.
    case log

    func apply(_ x: Double) -> Double { self == .log ? Foundation.log(x) : x }
    func invert(_ x: Double) -> Double { self == .log ? Foundation.exp(min(x, 700)) : x }
}

/// Per-channel standardisation `z = (f(x) − mean) / scale`, with f the target transform (channel 0
/// only) and mean and scale (the population standard deviation) fitted on the TRAINING split only,
/// so nothing about the validation or test values leaks into the inputs.
public struct SeriesNormalizer: Codable, Equatable, Sendable {
    public var transform: ValueTransform
    /// The mean of each channel over the training split (after the transform, for the target).
    public var means: [Double]
    /// The standard deviation of each channel over the training split; 1 for a constant feature.
    public var scales: [Double]

    public init(transform: ValueTransform, means: [Double], scales: [Double]) {
        self.transform = transform
        self.means = means
        self.scales = scales
    }

    /// Fits the statistics on the first `trainCount` steps of `series`.
    /// - Throws: `ForecastDataError.nonPositiveForLog` when the log transform meets a value ≤ 0
    ///   anywhere in the series; `.constantTarget` when the target does not vary in the training split.
    public static func fit(_ series: ForecastSeries, trainCount: Int, transform: ValueTransform) throws -> SeriesNormalizer {
        try checkTransform(series, transform: transform)
        var means: [Double] = [], scales: [Double] = []
        for (c, channel) in series.channels.enumerated() {
            let values = channel.prefix(trainCount).map { c == 0 ? transform.apply($0) : $0 }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
            var scale = variance.squareRoot()
            if !(scale > 1e-12 * max(1, abs(mean))) {
                if c == 0 { throw ForecastDataError.constantTarget(column: series.names[0], value: channel[0]) }
                scale = 1
            }
            means.append(mean)
            scales.append(scale)
        }
        return SeriesNormalizer(transform: transform, means: means, scales: scales)
    }

    /// Throws when the transform cannot take every target value.
    public static func checkTransform(_ series: ForecastSeries, transform: ValueTransform) throws {
        guard transform == .log else { return }
        if let t = series.target.firstIndex(where: { !($0 > 0) }) {
            throw ForecastDataError.nonPositiveForLog(column: series.names[0], line: series.lines[t], value: series.target[t])
        }
    }

    /// The normalised value of channel `c`.
    public func normalize(_ x: Double, channel c: Int) -> Double {
        ((c == 0 ? transform.apply(x) : x) - means[c]) / scales[c]
    }

    /// The transformed (not yet standardised) value of a normalised target: `mean + scale·z`.
    public func transformedTarget(_ z: Double) -> Double { means[0] + scales[0] * z }

    /// The original value of a normalised target.
    public func denormalizeTarget(_ z: Double) -> Double { transform.invert(transformedTarget(z)) }

    /// Every channel of `series` normalised: `(channelCount, count)`.
    public func normalize(_ series: ForecastSeries) -> [[Float]] {
        series.channels.enumerated().map { c, channel in channel.map { Float(normalize($0, channel: c)) } }
    }
}
