import Foundation
import XCTest

/// The margins of the learning tests over many seeds.
///
/// A learning test trains with one seed and asserts outcomes (an accuracy, a loss, "A beats B"). Another
/// CPU, kernel family or thread count adds the Float terms of the products in another order, and a
/// training run is chaotic enough that this changes its trajectory as a new seed would. So each learning
/// test also has a margin test that reruns the same training for seeds 1…N and prints the distribution of
/// every asserted quantity; its thresholds sit well inside that distribution (the measured figures, date,
/// machine and command are in docs/learning-margins.md). The margin tests run only when asked:
///
///     RECURRENT_SEEDS=20 swift test -c release --skip-build --disable-swift-testing --filter MarginsOverSeeds
public enum LearningMargins {
    /// The seeds 1…N of `RECURRENT_SEEDS=N`; throws `XCTSkip` when the variable is not set.
    public static func seeds() throws -> [UInt64] {
        guard let value = ProcessInfo.processInfo.environment["RECURRENT_SEEDS"], !value.isEmpty else {
            throw XCTSkip("margins over seeds: set RECURRENT_SEEDS=20 (and build with -c release)")
        }
        guard let count = UInt64(value), count >= 2 else {
            throw XCTSkip("RECURRENT_SEEDS must be a whole number of at least 2, got '\(value)'")
        }
        return Array(1...count)
    }

    /// Runs `outcome` for every seed of `seeds()`, prints one line per seed and, per quantity, the
    /// smallest, median and largest value (`margins <name> <quantity>: min … median … max …`).
    /// `outcome` returns the asserted quantities in a fixed order.
    public static func sweep(_ name: String, _ outcome: (UInt64) throws -> [(String, Double)]) throws {
        var values: [String: [Double]] = [:], order: [String] = []
        for seed in try seeds() {
            let start = Date()
            let quantities = try outcome(seed)
            let seconds = Date().timeIntervalSince(start)
            print("margins \(name) seed \(seed) (\(String(format: "%.1f", seconds)) s): "
                  + quantities.map { "\($0.0) \(format($0.1))" }.joined(separator: ", "))
            for (quantity, value) in quantities {
                if values[quantity] == nil { order.append(quantity) }
                values[quantity, default: []].append(value)
            }
        }
        for quantity in order {
            let sorted = values[quantity]!.sorted()
            let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2]
                : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            print("margins \(name) \(quantity): min \(format(sorted.first!)) median \(format(median)) "
                  + "max \(format(sorted.last!)) over \(sorted.count) seeds")
        }
    }

    private static func format(_ value: Double) -> String { String(format: "%.4g", value) }
}
