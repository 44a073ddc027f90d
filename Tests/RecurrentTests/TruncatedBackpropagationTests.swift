import XCTest
import Recurrent

/// The language-model trainer's truncated BPTT(k1, k2) on the fused layers against the step-by-step
/// `TruncatedBPTT` of RecurrentClassics on the same weights: the same gradients at every update.
final class TruncatedBackpropagationTests: XCTestCase {
    /// Embedding lookup (a one-hot row times the embedding matrix) followed by an LSTM cell: the
    /// language model's recurrent path as a step cell.
    private final class EmbeddedLSTMCell: RecurrentCell {
        typealias State = LSTMState
        let embedding: Parameter
        let cell: LSTMCell
        var isTraining = true
        init(embedding: Parameter, cell: LSTMCell) {
            self.embedding = embedding
            self.cell = cell
        }
        var namedParameters: [(name: String, parameter: Parameter)] {
            [("embedding", embedding)] + cell.namedParameters
        }
        func zeroState(batchSize: Int) -> LSTMState { cell.zeroState(batchSize: batchSize) }
        func callAsFunction(_ input: Variable, state: LSTMState) -> (output: Variable, state: LSTMState) {
            cell(matmul(input, embedding), state: state)
        }
    }

    func testTheFusedTruncationEqualsTheStepByStepOneAtEveryUpdate() throws {
        let V = 5, E = 3, H = 4, B = 2
        for (k1, k2) in [(3, 3), (3, 5), (2, 7), (4, 2)] {
            var rng = RandomGenerator(seed: 31)
            let model = try LanguageModel(.init(cell: .lstm, vocabularySize: V, embeddingSize: E, hiddenSize: H), using: &rng)
            let lstmCell = try LSTMCell(inputSize: E, hiddenSize: H, using: &rng)
            // The cell gets the model's LSTM weights.
            let layer = Dictionary(uniqueKeysWithValues: model.recurrent.namedParameters.map { ($0.name, $0.parameter) })
            for (name, parameter) in lstmCell.namedParameters { parameter.value = layer[name + "_l0"]!.value }
            let stepCell = EmbeddedLSTMCell(embedding: model.embedding.weight, cell: lstmCell)
            let stepwise = try TruncatedBPTT(cell: stepCell, k1: k1, k2: k2)
            var fused = TruncatedBackpropagation(k1: k1, k2: k2, batchSize: B)

            let windows = 4
            let stream = (0..<(B * (windows * k1 + 1))).map { _ in rng.nextInt(below: V) }
            let rowLength = windows * k1 + 1
            func token(_ b: Int, _ t: Int) -> Int { stream[b * rowLength + t] }
            let scale = 1 / Float(min(k1, k2))
            for w in 0..<windows {
                // Fused: one window of k1 new tokens per row.
                var inputs: [Int] = [], targets: [Int] = []
                for b in 0..<B {
                    for j in 0..<k1 { inputs.append(token(b, w * k1 + j)); targets.append(token(b, w * k1 + j + 1)) }
                }
                for p in model.parameters { p.zeroGrad() }
                fused.loss(model, inputs: inputs, targets: targets).backward()
                let fusedGrads = [model.embedding.weight.grad!, model.head.weight.grad!, model.head.bias!.grad!]
                    + lstmCell.namedParameters.map { layer[$0.name + "_l0"]!.grad! }

                // Step by step: the same k1 steps; the update fires after the k1-th.
                for p in model.parameters + lstmCell.parameters { p.zeroGrad() }
                for j in 0..<k1 {
                    let t = w * k1 + j
                    var oneHot = [Float](repeating: 0, count: B * V)
                    for b in 0..<B { oneHot[b * V + token(b, t)] = 1 }
                    let input = Tensor(shape: [B, V], scalars: oneHot)
                    let stepTargets = (0..<B).map { token($0, t + 1) }
                    let step = stepwise.step(input) { output in crossEntropy(logits: model.head(output), targets: stepTargets) * scale }
                    XCTAssertEqual(step.updated, j == k1 - 1)
                }
                let stepGrads = [model.embedding.weight.grad!, model.head.weight.grad!, model.head.bias!.grad!]
                    + lstmCell.namedParameters.map { $0.parameter.grad! }
                for (i, (a, b)) in zip(fusedGrads, stepGrads).enumerated() {
                    XCTAssertEqual(a.shape, b.shape)
                    let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
                    let size = b.scalars.map { abs($0) }.max() ?? 0
                    XCTAssertLessThan(worst, 1e-5 + 1e-4 * size, "k1 \(k1) k2 \(k2) window \(w) gradient \(i)")
                    XCTAssertGreaterThan(size, 0, "k1 \(k1) k2 \(k2) window \(w) gradient \(i) is zero")
                }
            }
        }
    }
}
