import Foundation
import XCTest
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentFormats
import RecurrentClassics

enum SVGLinePlotColors {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c"]
}

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
    /// 6000 steps, test set of 1000 sequences, stop at test MSE < 0.01. At T = 100 the gradient
    /// flow ‖∂L_T/∂h_t‖ of each cell is measured before and after training and plotted to
    /// docs/images/gradient-flow.svg.
    func testAddingProblem() throws {
        let lengths = environment["RECURRENT_ADDING_LENGTHS"]?.split(separator: ",").compactMap { Int($0) } ?? [50, 100, 200]
        var flows: [SVGLinePlot.Series] = []
        for length in lengths {
            let task = try AddingProblem(sequenceLength: length)
            for (index, (name, cell)) in cells.enumerated() {
                var settings = AddingProblemTraining()
                settings.cell = cell
                settings.maxSteps = 6000
                settings.evaluationInterval = 200
                let start = Date()
                let result = try settings.run(task)
                let last = result.history.last!
                let solved = last.testMSE < settings.targetMSE
                let best = result.history.map(\.testMSE).min()!
                print(String(format: "adding T=%d %@: %@ after %d steps, final test MSE %.4f (best %.4f), %.0f s",
                             length, name, solved ? "solved" : "NOT solved", last.step, last.testMSE, best,
                             Date().timeIntervalSince(start)))
                if name == "lstm" && length == 100 { XCTAssertTrue(solved, "LSTM should solve the adding problem at T = 100") }
                guard length == 100 else { continue }
                var rng = RandomGenerator(seed: settings.seed)
                let initial = try makeRecurrentLayer(.init(cell: cell, inputSize: 2, hiddenSize: settings.hiddenSize), using: &rng)
                for (stage, layer, dashed) in [("init", initial, true), ("trained", result.layer, false)] {
                    let norms = try Self.gradientFlow(layer: layer, readout: result.readout, cell: cell, task: task)
                    let picks = [1, 10, 25, 50, 75, 100].map { String(format: "%.2e", Double(norms[$0 - 1])) }
                    print("gradient flow \(name) \(stage): lag 1, 10, 25, 50, 75, 100: \(picks.joined(separator: ", "))")
                    flows.append(.init(name: "\(name.uppercased()) \(stage)",
                                       points: norms.enumerated().map { (Double($0.offset + 1), log10(Double($0.element))) },
                                       color: SVGLinePlotColors.palette[index], dashed: dashed))
                }
            }
        }
        if !flows.isEmpty {
            let plot = SVGLinePlot(title: "Gradient flow on the adding problem (T = 100, hiddenSize 64, batch 16)",
                                   xLabel: "lag T − t", yLabel: "log10 ‖∂L_T/∂h_t‖", series: flows)
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("docs/images/gradient-flow.svg")
            try plot.render().write(to: url, atomically: true, encoding: .utf8)
            print("wrote \(url.path)")
        }
    }

    /// ‖∂L_T/∂h_t‖ for lags 1 … T on 16 adding-problem sequences (seed 99), L_T the MSE of the
    /// readout at the last step, with the weights of a one-layer fused `layer` copied into a cell.
    static func gradientFlow(layer: any RecurrentLayer, readout: Linear, cell: RecurrentLayerConfiguration.Cell,
                             task: AddingProblem) throws -> [Float] {
        var dict: [String: Tensor] = [:]
        for (name, tensor) in layer.stateDict() { dict[name.replacingOccurrences(of: "_l0", with: "")] = tensor }
        let hiddenSize = layer.configuration.hiddenSize
        var rng = RandomGenerator(seed: 99)
        let batch = task.batch(size: 16, using: &rng)
        let inputs = (0..<task.sequenceLength).map { batch.inputs.row($0) }
        let loss = { (h: Variable) in mseLoss(readout(h), batch.targets) }
        switch cell {
        case .rnn(let nonlinearity):
            let c = try RNNCell(inputSize: 2, hiddenSize: hiddenSize, nonlinearity: nonlinearity, using: &rng)
            try c.loadStateDict(dict)
            return try GradientFlow.stateGradientNorms(c, inputs: inputs, loss: loss).map { $0[0] }
        case .lstm:
            let c = try LSTMCell(inputSize: 2, hiddenSize: hiddenSize, using: &rng)
            try c.loadStateDict(dict)
            return try GradientFlow.stateGradientNorms(c, inputs: inputs, loss: loss).map { $0[0] }
        case .gru:
            let c = try GRUCell(inputSize: 2, hiddenSize: hiddenSize, using: &rng)
            try c.loadStateDict(dict)
            return try GradientFlow.stateGradientNorms(c, inputs: inputs, loss: loss).map { $0[0] }
        }
    }

    /// Exploding gradients: a tanh RNN whose recurrent weights are scaled ×4 after initialisation,
    /// trained by SGD (learning rate 0.05) on the adding problem at T = 50 for 2000 steps, without
    /// and with norm clipping at 1.
    func testExplodingGradientsWithAndWithoutClipping() throws {
        for clip in [nil, Float(1)] as [Float?] {
            var settings = AddingProblemTraining()
            settings.cell = .rnn(.tanh)
            settings.useSGD = true
            settings.learningRate = 0.05
            settings.recurrentWeightScale = 4
            settings.clipNorm = clip
            settings.maxSteps = 2000
            settings.evaluationInterval = 100
            settings.targetMSE = 0
            let history = try settings.run(try AddingProblem(sequenceLength: 50)).history
            let norms = history.map { String(format: "%.3g", Double($0.maxGradientNorm)) }
            let mses = history.map { String(format: "%.3f", $0.testMSE) }
            print("exploding \(clip.map { "clip \($0)" } ?? "no clipping"): max gradient norm per 100 steps \(norms.joined(separator: " "))")
            print("exploding \(clip.map { "clip \($0)" } ?? "no clipping"): test MSE per 100 steps \(mses.joined(separator: " "))")
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
