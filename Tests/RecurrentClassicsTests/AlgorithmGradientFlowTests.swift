import Foundation
import XCTest
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentClassics

/// ‖∂L_T/∂h_t‖ against the lag T − t: hand-checked cases and the vanishing gradient of a tanh RNN.
final class AlgorithmGradientFlowTests: XCTestCase {
    /// h_t = w·h_{t−1} + x_t, L = h_T: ∂L/∂h_t = w^(T−t), so the norm at lag k is |w|^k.
    func testScalarLinearRecurrenceByHand() throws {
        let cell = LinearScalarCell(w: 0.5)
        let inputs = (0..<6).map { Tensor(shape: [1, 1], scalars: [Float($0)]) }
        cell.w.grad = Tensor(shape: [1, 1], scalars: [42])
        let norms = try GradientFlow.stateGradientNorms(cell, inputs: inputs) { $0.sum() }
        XCTAssertEqual(norms.map { $0[0] }, [0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625])
        XCTAssertEqual(cell.w.grad?.scalars, [42], "the parameters' gradients are left as they were")
    }

    /// Exploding: a ReLU RNN with W_hh = 1.1·I and positive pre-activations has
    /// ∂h_t/∂h_{t−1} = 1.1·I, so with L = Σ h_T the norm at lag k is 1.1^k·√hiddenSize.
    func testExplodingReLURecurrence() throws {
        var rng = RandomGenerator(seed: 1)
        let hiddenSize = 4
        let cell = try RNNCell(inputSize: 1, hiddenSize: hiddenSize, nonlinearity: .relu, using: &rng)
        var identity = Tensor(zeros: [hiddenSize, hiddenSize])
        for i in 0..<hiddenSize { identity[i, i] = 1.1 }
        try cell.loadStateDict(["weight_ih": Tensor(repeating: 1, shape: [hiddenSize, 1]), "weight_hh": identity,
                                "bias_ih": Tensor(zeros: [hiddenSize]), "bias_hh": Tensor(zeros: [hiddenSize])])
        let inputs = (0..<30).map { _ in Tensor(shape: [1, 1], scalars: [1]) }
        let norms = try GradientFlow.stateGradientNorms(cell, inputs: inputs) { $0.sum() }
        for (lag, n) in norms.enumerated() {
            let expected = Float(pow(1.1, Double(lag + 1)) * Double(hiddenSize).squareRoot())
            XCTAssertEqual(n[0], expected, accuracy: 1e-4 * expected)
        }
    }

    /// Vanishing: a tanh RNN (hiddenSize 32, PyTorch's initialisation) on random inputs loses more
    /// than three orders of magnitude of gradient norm over 40 steps, and the decay is monotone on average.
    func testTanhRNNGradientVanishesAtInitialisation() throws {
        var rng = RandomGenerator(seed: 2)
        let cell = try RNNCell(inputSize: 2, hiddenSize: 32, using: &rng)
        let readout = try Linear(inputSize: 32, outputSize: 1, using: &rng)
        let inputs = (0..<40).map { _ in Tensor.uniform(shape: [4, 2], low: 0, high: 1, using: &rng) }
        let norms = try GradientFlow.stateGradientNorms(cell, inputs: inputs) { mseLoss(readout($0), Tensor(zeros: [4, 1])) }
            .map { $0[0] }
        XCTAssertEqual(norms.count, 40)
        XCTAssertLessThan(norms[39], 1e-3 * norms[0], "\(norms)")
        XCTAssertLessThan(norms[29], norms[9])
        XCTAssertLessThan(norms[19], norms[0])
    }
}

/// h_t = w·h_{t−1} + x_t with a scalar w.
private final class LinearScalarCell: RecurrentCell {
    let w: Parameter
    var isTraining = true
    init(w: Float) { self.w = .parameter(Tensor(shape: [1, 1], scalars: [w])) }
    var namedParameters: [(name: String, parameter: Parameter)] { [("w", w)] }
    func zeroState(batchSize: Int) -> Variable { Variable(Tensor(zeros: [batchSize, 1])) }
    func callAsFunction(_ input: Variable, state: Variable) -> (output: Variable, state: Variable) {
        let h = matmul(state, w) + input
        return (h, h)
    }
}
