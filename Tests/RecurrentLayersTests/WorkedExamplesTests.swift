import Foundation
import XCTest
import Recurrent

/// The forward-propagation examples of the lecture notes (lecture 01, "Recurrent Neural Network":
/// the 'dogs' character example and the series example), computed with the library's Linear
/// layers (no bias), a custom `RecurrentCell` driven by `runSequence`, and the softmax op; every
/// value is compared after rounding to two decimals, as the notes print them.
final class WorkedExamplesTests: XCTestCase {
    /// The notes' Elman cell without biases: `h_t = f(w_h h_{t−1} + w_x x_t)`.
    final class ElmanCell: RecurrentCell {
        let inputWeights: Linear      // w_x, (hiddenSize, inputSize)
        let recurrentWeights: Linear  // w_h, (hiddenSize, hiddenSize)
        let activation: (Variable) -> Variable
        var isTraining = true

        init(wx: Tensor, wh: Tensor, activation: @escaping (Variable) -> Variable) throws {
            inputWeights = try Linear(inputSize: wx.shape[1], outputSize: wx.shape[0], bias: false)
            recurrentWeights = try Linear(inputSize: wh.shape[1], outputSize: wh.shape[0], bias: false)
            try inputWeights.loadStateDict(["weight": wx])
            try recurrentWeights.loadStateDict(["weight": wh])
            self.activation = activation
        }

        var namedParameters: [(name: String, parameter: Parameter)] {
            prefixed("w_x", inputWeights.namedParameters) + prefixed("w_h", recurrentWeights.namedParameters)
        }

        func zeroState(batchSize: Int) -> Variable {
            Variable(Tensor(zeros: [batchSize, recurrentWeights.outputSize]))
        }

        func callAsFunction(_ input: Variable, state: Variable) -> (output: Variable, state: Variable) {
            let h = activation(recurrentWeights(state) + inputWeights(input))
            return (h, h)
        }
    }

    /// Values rounded to hundredths, as integers (0.54 → 54).
    private func hundredths(_ t: Tensor) -> [Int] { t.scalars.map { Int(($0 * 100).rounded()) } }

    private let wh = Tensor(rows: [[0.1, 0.5, 0.1], [0.5, 0.9, 0.3], [0.3, 0.2, 0.1]])
    private let wx = Tensor(rows: [[0.6, 0.8, 0.4, 0.8], [0.2, 0.9, 0.8, 0.7], [0.9, 0.8, 0.1, 0.2]])
    private let wy = Tensor(rows: [[0.9, 0.8, 0.3], [0.2, 0.3, 0.4], [0.6, 0.9, 0.1], [0.5, 0.0, 0.3]])

    func testDogsExampleFirstStep() throws {
        // Vocabulary {d, o, g, s}; the input 'd' is one-hot [1, 0, 0, 0]; zero initial state.
        let cell = try ElmanCell(wx: wx, wh: wh) { $0.tanh() }
        XCTAssertEqual(cell.namedParameters.map(\.name), ["w_x.weight", "w_h.weight"])
        let d = Variable(Tensor(shape: [1, 1, 4], scalars: [1, 0, 0, 0]))  // (T 1, B 1, I 4)
        let (hidden, state) = runSequence(cell, over: d)
        let h = hidden.select(0)                                         // (B 1, H 3)
        XCTAssertEqual(hundredths(h.value), [54, 20, 72])                 // tanh([0.6, 0.2, 0.9])
        XCTAssertEqual(state.value, h.value)

        let outputLayer = try Linear(inputSize: 3, outputSize: 4, bias: false)
        try outputLayer.loadStateDict(["weight": wy])
        let logits = outputLayer(h)
        XCTAssertEqual(hundredths(logits.value), [86, 45, 57, 48])
        XCTAssertEqual(hundredths(logits.softmax().value), [32, 21, 24, 22])

        // The built-in RNNCell without biases computes the same step.
        let rnn = try RNNCell(inputSize: 4, hiddenSize: 3, bias: false)
        try rnn.loadStateDict(["weight_ih": wx, "weight_hh": wh])
        XCTAssertEqual(rnn(d.select(0), state: nil).output.value.scalars, h.value.scalars)
    }

    func testSeriesExampleFirstStep() throws {
        // Two sigmoid hidden units (the notes write tanh but apply the sigmoid; see GUIDE.md §5),
        // input 0.2, zero initial state, linear output.
        let cell = try ElmanCell(wx: Tensor(rows: [[0.6], [0.2]]), wh: Tensor(rows: [[0.1, 0.5], [0.5, 0.9]])) { $0.sigmoid() }
        let (hidden, _) = runSequence(cell, over: Variable(Tensor(shape: [1, 1, 1], scalars: [0.2])))
        XCTAssertEqual(hundredths(hidden.value), [53, 51])                // σ([0.12, 0.04])
        let outputLayer = try Linear(inputSize: 2, outputSize: 1, bias: false)
        try outputLayer.loadStateDict(["weight": Tensor(rows: [[0.4, 0.7]])])
        XCTAssertEqual(hundredths(outputLayer(hidden).value), [57])
    }

    func testCustomCellGradientsThroughRunSequence() throws {
        // The user-defined cell gets BPTT gradients from the ops it is built of.
        let cell = try ElmanCell(wx: wx, wh: wh) { $0.tanh() }
        var rng = RandomGenerator(seed: 71)
        let input = Variable(.uniform(shape: [3, 2, 4], low: -1, high: 1, using: &rng), requiresGrad: true)
        let probe = Variable(.uniform(shape: [3, 2, 3], low: -1, high: 1, using: &rng))
        let bad = CellTestSupport.gradientMismatches([("input", input)] + cell.namedParameters.map { ($0.name, $0.parameter) }) {
            (runSequence(cell, over: input).output * probe).sum()
        }
        XCTAssertTrue(bad.isEmpty, "\(bad)")
    }
}
