import Foundation
import XCTest
import Recurrent

/// The long runs behind the results tables of docs/training.md. They take minutes, so they run
/// only when asked (and should be built in release):
///
///     RECURRENT_FULL_RUNS=1 swift test -c release --filter AlgorithmFullRunTests
///
/// `RECURRENT_CELLS` (e.g. `lstm,gru`) and `RECURRENT_ADDING_LENGTHS` (e.g. `100`) narrow the runs.
/// Each run prints one line; the assertions are the claims of the docs.
final class AlgorithmFullRunTests: XCTestCase {
    private var environment: [String: String] { ProcessInfo.processInfo.environment }

    override func setUpWithError() throws {
        guard environment["RECURRENT_FULL_RUNS"] == "1" else {
            throw XCTSkip("full runs: set RECURRENT_FULL_RUNS=1 (and build with -c release)")
        }
    }

    private var cells: [(String, RecurrentLayerConfiguration.Cell)] {
        let all: [(String, RecurrentLayerConfiguration.Cell)] = [("rnn", .rnn(.tanh)), ("lstm", .lstm), ("gru", .gru)]
        guard let chosen = environment["RECURRENT_CELLS"]?.split(separator: ",").map(String.init) else { return all }
        return all.filter { chosen.contains($0.0) }
    }

    /// Adding problem, T = 50, 100, 200: hiddenSize 64, batch 32, Adam 2e-3, clip 1, at most
    /// 6000 steps, test set of 1000 sequences, stop at test MSE < 0.01.
    func testAddingProblem() throws {
        let lengths = environment["RECURRENT_ADDING_LENGTHS"]?.split(separator: ",").compactMap { Int($0) } ?? [50, 100, 200]
        for length in lengths {
            for (name, cell) in cells {
                var settings = AddingProblemTraining()
                settings.cell = cell
                settings.maxSteps = 6000
                settings.evaluationInterval = 200
                let start = Date()
                let history = try settings.run(try AddingProblem(sequenceLength: length)).history
                let last = history.last!
                let solved = last.testMSE < settings.targetMSE
                let best = history.map(\.testMSE).min()!
                print(String(format: "adding T=%d %@: %@ after %d steps, final test MSE %.4f (best %.4f), %.0f s",
                             length, name, solved ? "solved" : "NOT solved", last.step, last.testMSE, best,
                             Date().timeIntervalSince(start)))
                if name == "lstm" && length == 100 { XCTAssertTrue(solved, "LSTM should solve the adding problem at T = 100") }
            }
        }
    }

    /// Embedded Reber grammar: hiddenSize 16, batch 32, Adam 1e-2, clip 1, at most 3000 steps, 1000
    /// test strings, seeds 1–3; stop at 100% of test steps right.
    func testEmbeddedReber() throws {
        for (name, cell) in cells {
            for seed in UInt64(1)...3 {
                var settings = EmbeddedReberTraining()
                settings.cell = cell
                settings.seed = seed
                let start = Date()
                let history = try settings.run()
                let last = history.last!
                print(String(format: "reber %@ seed %d: after %d steps: steps %.4f, strings %.4f, memory step %.4f, %.0f s",
                             name, Int(seed), last.step, last.stepAccuracy, last.stringAccuracy, last.memoryStepAccuracy,
                             Date().timeIntervalSince(start)))
                if name == "lstm" { XCTAssertGreaterThanOrEqual(last.stepAccuracy, 0.99) }
            }
        }
    }
}
