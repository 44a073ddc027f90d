import Foundation

/// The season length m of a series, detected from its autocorrelation.
public struct SeasonEstimate: Codable, Equatable, Sendable {
    /// m; 1 when no season was found.
    public var period: Int
    /// The autocorrelation at lag m (0 when m = 1).
    public var autocorrelation: Double

    public init(period: Int, autocorrelation: Double) {
        self.period = period
        self.autocorrelation = autocorrelation
    }

    /// Detects the season of `values` (pass the training split, transformed):
    ///
    /// 1. remove the least-squares straight line (the trend);
    /// 2. compute the sample autocorrelation r(k) for lags k = 1 ... ⌊n/2⌋ (a season must repeat at
    ///    least twice);
    /// 3. a candidate is a lag k ≥ 2 where r has a local maximum (r(k−1) ≤ r(k) ≥ r(k+1)) that
    ///    stands at least `minimumProminence` above the lowest r(j), j < k (a dip before the peak,
    ///    which excludes the slow decay of a smooth series), with r(k) ≥ `minimumAutocorrelation`;
    /// 4. m is the candidate with the largest r(k); without a candidate m = 1.
    public static func detect(_ values: [Double], minimumAutocorrelation: Double = 0.2,
                              minimumProminence: Double = 0.2) -> SeasonEstimate {
        let n = values.count
        let maxLag = n / 2
        guard maxLag >= 3 else { return SeasonEstimate(period: 1, autocorrelation: 0) }
        // Detrend.
        let meanT = Double(n - 1) / 2
        let meanY = values.reduce(0, +) / Double(n)
        var sxy = 0.0, sxx = 0.0
        for (t, y) in values.enumerated() {
            sxy += (Double(t) - meanT) * (y - meanY)
            sxx += (Double(t) - meanT) * (Double(t) - meanT)
        }
        let slope = sxx > 0 ? sxy / sxx : 0
        let residual = values.enumerated().map { t, y in y - meanY - slope * (Double(t) - meanT) }
        let variance = residual.reduce(0) { $0 + $1 * $1 }
        guard variance > 0 else { return SeasonEstimate(period: 1, autocorrelation: 0) }
        var r = [Double](repeating: 0, count: maxLag + 2)
        r[0] = 1
        for k in 1...min(maxLag + 1, n - 1) {
            var s = 0.0
            for t in k..<n { s += residual[t] * residual[t - k] }
            r[k] = s / variance
        }
        var best = SeasonEstimate(period: 1, autocorrelation: 0)
        var lowest = r[1]
        for k in 2...maxLag {
            lowest = min(lowest, r[k - 1])
            guard r[k] >= r[k - 1], r[k] >= r[k + 1], r[k] >= minimumAutocorrelation,
                  r[k] - lowest >= minimumProminence else { continue }
            if r[k] > best.autocorrelation || best.period == 1 { best = SeasonEstimate(period: k, autocorrelation: r[k]) }
        }
        return best
    }
}

/// The two reference forecasts every model must beat, from an origin t (last observed step) to
/// t+h, h = 1 ... H.
public enum ForecastBaseline: String, Codable, CaseIterable, Sendable {
    /// ŷ(t+h) = y(t): the last observed value.
    case persistence
    /// ŷ(t+h) = y(t + h − m·⌈h/m⌉): the value one season before the target, from the last
    /// observed season (equals persistence for m = 1).
    case seasonalNaive = "seasonal-naive"

    /// The forecasts of `series` (original units) from `origin` for horizons 1 ... `horizon`.
    public func forecast(_ series: [Double], origin: Int, horizon: Int, season: Int) -> [Double] {
        (1...horizon).map { h in
            switch self {
            case .persistence: return series[origin]
            case .seasonalNaive:
                let m = max(season, 1)
                return series[origin + h - m * ((h + m - 1) / m)]
            }
        }
    }
}

/// Point-forecast errors, in the series' original units.
///
/// - MAE = mean |y − ŷ|; RMSE = √(mean (y − ŷ)²);
/// - MASE = MAE / Q with Q the in-sample one-step MAE of the seasonal-naive forecast over the
///   training split, Q = mean over t = m ... n_train−1 of |y(t) − y(t−m)| (m = 1 without a season);
///   nil when Q = 0;
/// - sMAPE = mean of 200·|y − ŷ| / (|y| + |ŷ|) in percent, with 0/0 taken as 0.
public struct ForecastMetrics: Codable, Equatable, Sendable {
    public var mae: Double
    public var rmse: Double
    public var mase: Double?
    public var smape: Double
    /// How many (target, forecast) pairs were scored.
    public var count: Int

    public init(mae: Double, rmse: Double, mase: Double?, smape: Double, count: Int) {
        self.mae = mae
        self.rmse = rmse
        self.mase = mase
        self.smape = smape
        self.count = count
    }

    /// The errors of `predicted` against `actual` (same length, at least one); `scale` is Q above.
    public init(actual: [Double], predicted: [Double], scale: Double?) {
        precondition(actual.count == predicted.count && !actual.isEmpty, "ForecastMetrics: need equal, non-empty lists")
        var absolute = 0.0, squared = 0.0, symmetric = 0.0
        for (y, p) in zip(actual, predicted) {
            let e = abs(y - p)
            absolute += e
            squared += e * e
            let denominator = abs(y) + abs(p)
            symmetric += denominator > 0 ? 200 * e / denominator : 0
        }
        let n = Double(actual.count)
        mae = absolute / n
        rmse = (squared / n).squareRoot()
        mase = scale.flatMap { $0 > 0 ? absolute / n / $0 : nil }
        smape = symmetric / n
        count = actual.count
    }

    /// Q: the mean absolute error of the one-step seasonal-naive forecast y(t−m) over `training`;
    /// nil when it is 0 or `training` is not longer than m.
    public static func maseScale(training: [Double], season: Int) -> Double? {
        let m = max(season, 1)
        guard training.count > m else { return nil }
        var total = 0.0
        for t in m..<training.count { total += abs(training[t] - training[t - m]) }
        let q = total / Double(training.count - m)
        return q > 0 ? q : nil
    }
}
