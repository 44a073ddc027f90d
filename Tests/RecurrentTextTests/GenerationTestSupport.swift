import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentText
import XCTest
import RecurrentTestSupport

/// Models and independent reference computations shared by the generation tests.
enum GenerationFixtures {
    static let text = "the quick brown fox\njumps over the lazy dog\n"

    /// A randomly initialised model over `vocabulary`.
    static func randomModel(_ cell: LanguageModel.Cell = .lstm, vocabularySize: Int, layers: Int = 2,
                            hidden: Int = 8, dropout: Float = 0, seed: UInt64 = 11) throws -> LanguageModel {
        var rng = RandomGenerator(seed: seed)
        return try LanguageModel(.init(cell: cell, vocabularySize: vocabularySize, embeddingSize: 5, hiddenSize: hidden,
                                       numLayers: layers, dropout: dropout), using: &rng)
    }

    /// A one-layer tanh RNN whose logits are always `bias`, whatever the input and state: every weight
    /// is zero except the head bias.
    static func constantModel(logits bias: [Float]) throws -> LanguageModel {
        let model = try randomModel(.rnn, vocabularySize: bias.count, layers: 1, hidden: 2)
        var dict: [String: Tensor] = [:]
        for (name, tensor) in model.stateDict() { dict[name] = Tensor(zeros: tensor.shape) }
        dict["head.bias"] = Tensor(bias)
        try model.loadStateDict(dict)
        return model
    }

    /// A one-layer tanh RNN whose logits after token j are `table[j]` (up to rounding), whatever came
    /// before: the embedding is the identity, W_ih the identity, W_hh zero, so h = tanh(1)·onehot(j),
    /// and column j of the head is `table[j] / tanh(1)`.
    static func markovModel(_ table: [[Float]]) throws -> LanguageModel {
        let V = table.count
        var rng = RandomGenerator(seed: 3)
        let model = try LanguageModel(.init(cell: .rnn, vocabularySize: V, embeddingSize: V, hiddenSize: V, numLayers: 1),
                                      using: &rng)
        var identity = Tensor(zeros: [V, V])
        for j in 0..<V { identity[j, j] = 1 }
        var head = Tensor(zeros: [V, V])
        let t = Float(tanh(1.0))
        for j in 0..<V { for i in 0..<V { head[i, j] = table[j][i] / t } }
        try model.loadStateDict([
            "embedding.weight": identity, "rnn.weight_ih_l0": identity, "rnn.weight_hh_l0": Tensor(zeros: [V, V]),
            "rnn.bias_ih_l0": Tensor(zeros: [V]), "rnn.bias_hh_l0": Tensor(zeros: [V]),
            "head.weight": head, "head.bias": Tensor(zeros: [V]),
        ])
        return model
    }

    /// The logits after each of `context + ids` except the last, from one call over the whole
    /// sequence (a different path from the generator's token-by-token calls): row k predicts ids[k].
    static func logitsPredicting(_ ids: [Int], after context: [Int], model: LanguageModel) -> [[Float]] {
        let sequence = context + ids.dropLast()
        let wasTraining = model.isTraining
        model.isTraining = false
        defer { model.isTraining = wasTraining }
        let logits = GradientMode.withoutGradients {
            model(sequence, batchSize: 1, sequenceLength: sequence.count).logits.value
        }
        let V = logits.shape[2]
        return (0..<ids.count).map { k in
            let row = context.count - 1 + k
            return Array(logits.scalars[(row * V)..<((row + 1) * V)])
        }
    }

    /// Σ log softmax(logits)[id] over the generated ids, in Double.
    /// How far a log-probability of `count` tokens after `context` tokens may move when it is computed
    /// another way (the stepper, the batched model, windows): each term within twice the largest logit
    /// difference after up to context + count steps (`Float32Tolerance.languageModel`).
    static func logProbabilityAccuracy(count: Int, context: Int, model: LanguageModel) -> Double {
        2 * Double(count) * Double(Float32Tolerance.languageModel(model, sequenceLength: context + count).bound)
    }

    static func logProbability(of ids: [Int], after context: [Int], model: LanguageModel) -> Double {
        zip(logitsPredicting(ids, after: context, model: model), ids).reduce(0.0) { total, pair in
            total + logSoftmax(pair.0)[pair.1]
        }
    }

    static func logSoftmax(_ logits: [Float]) -> [Double] {
        let values = logits.map(Double.init)
        let m = values.max()!
        let lse = m + log(values.reduce(0) { $0 + exp($1 - m) })
        return values.map { $0 - lse }
    }

    static func softmax(_ logits: [Float], temperature: Double = 1) -> [Double] {
        let scaled = logits.map { Double($0) / temperature }
        let m = scaled.max()!
        let e = scaled.map { exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    /// Pearson's χ² statistic of observed counts against expected probabilities.
    static func chiSquare(counts: [Int], probabilities: [Double]) -> Double {
        let n = Double(counts.reduce(0, +))
        return zip(counts, probabilities).reduce(0.0) { total, pair in
            let expected = n * pair.1
            return total + (Double(pair.0) - expected) * (Double(pair.0) - expected) / expected
        }
    }
}
