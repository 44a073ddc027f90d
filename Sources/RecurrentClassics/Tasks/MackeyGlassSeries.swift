import Foundation
import RecurrentCore

/// The Mackey–Glass delay differential equation, a standard chaotic benchmark for time-series
/// prediction:
///
///     dx/dt = β·x(t − τ) / (1 + x(t − τ)^exponent) − γ·x(t)
///
/// integrated by Euler steps of `integrationStep` from the constant history x = `initialValue`,
/// sampled every `samplingInterval` time units. With τ = 17 (the default) the series is chaotic
/// and stays roughly within [0.2, 1.4].
public struct MackeyGlassSeries: Sendable, Equatable {
    public var tau: Double
    public var beta: Double
    public var gamma: Double
    public var exponent: Double
    public var initialValue: Double
    /// Euler step; `tau` and `samplingInterval` must be multiples of it.
    public var integrationStep: Double
    public var samplingInterval: Double

    /// - Throws: `ConfigurationError` naming a setting that is not positive or that the
    ///   integration step does not divide.
    public init(tau: Double = 17, beta: Double = 0.2, gamma: Double = 0.1, exponent: Double = 10,
                initialValue: Double = 1.2, integrationStep: Double = 0.1, samplingInterval: Double = 1) throws {
        for (value, name) in [(tau, "tau"), (integrationStep, "integrationStep"), (samplingInterval, "samplingInterval")] {
            try ConfigurationError.require(value > 0, name, "must be positive, got \(value)")
        }
        func isMultiple(_ x: Double) -> Bool { abs(x / integrationStep - (x / integrationStep).rounded()) < 1e-9 }
        try ConfigurationError.require(isMultiple(tau), "tau", "must be a multiple of integrationStep \(integrationStep), got \(tau)")
        try ConfigurationError.require(isMultiple(samplingInterval), "samplingInterval",
                                       "must be a multiple of integrationStep \(integrationStep), got \(samplingInterval)")
        self.tau = tau
        self.beta = beta
        self.gamma = gamma
        self.exponent = exponent
        self.initialValue = initialValue
        self.integrationStep = integrationStep
        self.samplingInterval = samplingInterval
    }

    /// `count` samples after discarding the first `washout` samples (the transient from the
    /// constant history).
    public func samples(count: Int, washout: Int = 500) -> [Double] {
        precondition(count >= 0 && washout >= 0, "MackeyGlassSeries.samples: negative count \(count) or washout \(washout)")
        let delay = Int((tau / integrationStep).rounded())
        let every = Int((samplingInterval / integrationStep).rounded())
        let total = (count + washout) * every
        var x = [Double](repeating: initialValue, count: delay + 1)   // x[delay] is "now"
        x.reserveCapacity(delay + 1 + total)
        var out: [Double] = []
        out.reserveCapacity(count)
        for step in 0..<total {
            let now = x[x.count - 1], lagged = x[x.count - 1 - delay]
            let dx = beta * lagged / (1 + pow(lagged, exponent)) - gamma * now
            x.append(now + integrationStep * dx)
            if (step + 1) % every == 0, (step + 1) / every > washout { out.append(x[x.count - 1]) }
        }
        return out
    }
}
