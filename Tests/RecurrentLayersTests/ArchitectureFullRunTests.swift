import Foundation
import XCTest
import Recurrent

/// The full runs behind the figures in docs/architectures.md: every learning test over ten seeds
/// and larger test sets. They take minutes, so they run only when asked:
///
///     RECURRENT_FULL_RUNS=1 swift test -c release --filter ArchitectureFullRunTests
///
/// Each prints one line per seed and asserts what the docs claim.
final class ArchitectureFullRunTests: XCTestCase {
    private let seeds: [UInt64] = Array(1...10)

    override func setUpWithError() throws {
        guard ProcessInfo.processInfo.environment["RECURRENT_FULL_RUNS"] == "1" else {
            throw XCTSkip("full runs: set RECURRENT_FULL_RUNS=1 (and build with -c release)")
        }
    }

    /// Second-order network on Tomita 1–7 with the hyper-parameters of `ArchitectureSecondOrderTests`
    /// (stateSize 4, 8 strings per class and length), and Tomita 3 and 7 again with stateSize 8 and
    /// 16 per class. Test set: every string of length 11–16 (129,024 strings) and 200 accepted plus
    /// 200 rejected strings of each length 17–20. Asserts perfect generalisation on every seed for
    /// Tomita 1, 2 and 4 (stateSize 4) and Tomita 3 (stateSize 8).
    func testTomitaGrammarsOverSeeds() throws {
        let runs: [(TomitaGrammar, stateSize: Int, perClass: Int)] = TomitaGrammar.allCases.map { ($0, 4, 8) }
            + [(.tomita3, 8, 16), (.tomita7, 8, 16)]
        for (grammar, stateSize, perClass) in runs {
            let task = TomitaTask(grammar: grammar)
            var exhaustive = [TomitaExample]()
            for length in 11...16 { exhaustive += try task.allExamples(length: length) }
            var perfect = 0, epochs = [Int]()
            let name = "\(grammar) (stateSize \(stateSize), perClass \(perClass))"
            for seed in seeds {
                let start = Date()
                let (network, used) = try ArchitectureSecondOrderTests.trainOnTomita(grammar, seed: seed, stateSize: stateSize,
                                                                                     perClass: perClass)
                var testRng = RandomGenerator(seed: 2000 + seed)
                let sampled = try task.balancedExamples(lengths: 17...20, perClass: 200, using: &testRng)
                let wrong = ArchitectureSecondOrderTests.errors(network, exhaustive) + ArchitectureSecondOrderTests.errors(network, sampled)
                if wrong == 0 { perfect += 1 }
                epochs.append(used)
                print(String(format: "%@ seed %d: %d epochs, %.1f s, %d of %d test strings wrong", name, seed, used,
                             Date().timeIntervalSince(start), wrong, exhaustive.count + sampled.count))
                if [.tomita1, .tomita2, .tomita4].contains(grammar) || (grammar == .tomita3 && stateSize == 8) {
                    XCTAssertEqual(wrong, 0, "\(name), seed \(seed)")
                }
            }
            print("\(name): perfect on \(perfect)/\(seeds.count) seeds; median epochs \(epochs.sorted()[epochs.count / 2])")
        }
    }

    /// NARX identification of both nonlinear systems (hyper-parameters of `ArchitectureNARXTests`).
    func testNARXOverSeeds() throws {
        for system in [SystemIdentificationTask.System.bilinearCubic, .narendra] {
            var ratios = [Float]()
            for seed in seeds {
                let r = try ArchitectureNARXTests.identify(system, seed: seed, testSeed: 100 + seed)
                ratios.append(r.closedLoopMSE / r.meanBaselineMSE)
                print(String(format: "NARX %@ seed %d: open-loop MSE %.5f, closed-loop MSE %.5f, mean baseline %.4f, persistence %.4f",
                              system.rawValue, seed, r.openLoopMSE, r.closedLoopMSE, r.meanBaselineMSE, r.persistenceBaselineMSE))
                XCTAssertLessThan(r.closedLoopMSE, 0.05 * r.meanBaselineMSE, "\(system), seed \(seed)")
            }
            let sorted = ratios.sorted()
            print(String(format: "NARX %@: closed-loop MSE / variance: median %.4f, worst %.4f", system.rawValue,
                         sorted[sorted.count / 2], sorted.last!))
        }
    }

    func testStateSpaceOverSeeds() throws {
        var ratios = [Float]()
        for seed in seeds {
            let (mse, variance) = try ArchitectureStateSpaceTests.identifyResonator(seed: seed, testSeed: 100 + seed)
            ratios.append(mse / variance)
            print(String(format: "StateSpaceModel resonator seed %d: simulation MSE %.5f, variance %.4f", seed, mse, variance))
            XCTAssertLessThan(mse, 0.05 * variance, "seed \(seed)")
        }
        let sorted = ratios.sorted()
        print(String(format: "StateSpaceModel resonator: MSE / variance: median %.4f, worst %.4f", sorted[sorted.count / 2], sorted.last!))
    }

    func testRMLPOverSeeds() throws {
        var accuracies = [Double]()
        for seed in seeds {
            let (accuracy, _) = try ArchitectureRMLPTests.learnDelayedEcho(seed: seed, testSeed: 100 + seed)
            accuracies.append(accuracy)
            print(String(format: "RMLP delayed echo seed %d: accuracy %.4f", seed, accuracy))
            XCTAssertGreaterThanOrEqual(accuracy, 0.95, "seed \(seed)")
        }
        print(String(format: "RMLP delayed echo: worst accuracy %.4f", accuracies.min()!))
    }
}
