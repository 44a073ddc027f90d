import XCTest
import Recurrent
import RecurrentTestSupport

/// `LanguageModel` projects the vocabulary's embedding rows once (a token table) instead of every
/// input row: outputs, final states and every gradient must equal the plain path (embedding, then
/// the recurrent layer on the embedded rows, then the head).
final class LanguageModelEmbeddedInputTests: XCTestCase {
    private func compare(_ cell: LanguageModel.Cell, vocabulary: Int, fast: Bool) throws {
        let saved = FastGEMM.isEnabled
        FastGEMM.isEnabled = fast
        defer { FastGEMM.isEnabled = saved }
        var rng = RandomGenerator(seed: 21)
        let model = try LanguageModel(.init(cell: cell, vocabularySize: vocabulary, embeddingSize: 24, hiddenSize: 40,
                                            numLayers: 2), using: &rng)
        model.isTraining = false
        let B = 4, T = 9   // 36 rows, more than twice the vocabulary: the token table is used
        let tokens = (0..<(B * T)).map { _ in Int(rng.next() % UInt64(vocabulary)) }
        let weights = Tensor(shape: [B, T, vocabulary], scalars: (0..<(B * T * vocabulary)).map { _ in
            Float(Double(rng.next() >> 40) / Double(1 << 24)) - 0.5 })

        func run(_ body: () -> (Variable, RecurrentLayerState)) -> (logits: [Float], h: [Float], grads: [[Float]]) {
            model.zeroGrad()
            let (logits, state) = body()
            (logits * Variable(weights)).sum().backward()
            return (logits.value.scalars, state.h.value.scalars, model.parameters.map { $0.grad?.scalars ?? [] })
        }
        let table = run { model(tokens, batchSize: B, sequenceLength: T) }
        let plain = run {
            let embedded = model.embedding(tokens, shape: [B, T])
            let (output, state) = model.recurrent.run(embedded, state: nil)
            return (model.head(output), state)
        }
        // The same sums in another order (the table's rows are projected once, then gathered).
        let rule = Float32Tolerance.languageModel(model, sequenceLength: T)
        let gradientRule = Float32Tolerance.languageModelGradients(model, sequenceLength: T, batchSize: B)
        assertClose(table.logits, plain.logits, within: rule, "\(cell) fast \(fast): logits")
        assertClose(table.h, plain.h, within: rule, "\(cell) fast \(fast): final h")
        for (i, (a, b)) in zip(table.grads, plain.grads).enumerated() {
            XCTAssertFalse(a.isEmpty, "parameter \(i) has a gradient")
            assertClose(a, b, within: gradientRule, "\(cell) fast \(fast): gradient of \(model.namedParameters[i].name)")
        }
    }

    func testTokenTableEqualsThePlainPathForEveryCellOnBothPaths() throws {
        for cell in [LanguageModel.Cell.lstm, .gru, .rnn, .peepholeLSTM] {
            for fast in [true, false] where !fast || FastGEMM.isSupported {
                // 5 tokens (the table's product goes to the BLAS) and 17 (the packed kernel).
                try compare(cell, vocabulary: 5, fast: fast)
                try compare(cell, vocabulary: 17, fast: fast)
            }
        }
    }
}
