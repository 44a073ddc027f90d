import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers

/// The bookkeeping of beam search over a language model's next-token log-probabilities.
///
/// Hypotheses are kept best first. Each step expands every live hypothesis by every token, scores
/// each extension by its total log-probability, and keeps the `width` best; equal scores keep the
/// earlier hypothesis, then the lower token id, so the result is deterministic. The tokens are stored
/// per step with a back pointer to the parent hypothesis and read back once at the end.
struct BeamSearch {
    let vocabularySize: Int
    let width: Int
    /// Total log-probability of each live hypothesis, best first.
    private(set) var scores: [Double] = [0]
    /// Per step, per hypothesis: the index of its parent among the previous step's hypotheses.
    private var parents: [[Int]] = []
    /// Per step, per hypothesis: its last token.
    private var tokens: [[Int]] = []

    init(vocabularySize: Int, width: Int) {
        self.vocabularySize = vocabularySize
        self.width = width
    }

    /// The last token of every live hypothesis (what to feed the model next), best first.
    var lastTokens: [Int] { tokens.last ?? [] }

    /// Extends the hypotheses by one token. `logits` holds one row of `vocabularySize` logits per live
    /// hypothesis, in order. Returns false (changing nothing) when a logit is NaN or infinite.
    mutating func expand(logits: UnsafePointer<Float>) -> Bool {
        let V = vocabularySize, live = scores.count
        let keep = min(width, live * V)
        var topScores = [Double](repeating: 0, count: keep)
        var topParents = [Int](repeating: 0, count: keep)
        var topTokens = [Int](repeating: 0, count: keep)
        var filled = 0
        for b in 0..<live {
            let row = logits + b * V
            var maximum = row[0]
            for j in 0..<V {
                guard row[j].isFinite else { return false }
                maximum = max(maximum, row[j])
            }
            // log p(j) = l_j − (maximum + log Σ exp(l − maximum)).
            let base = scores[b] - (Double(maximum) + TokenSampler.logSumExp(row, count: V, maximum: maximum))
            for j in 0..<V {
                let score = base + Double(row[j])
                // Strictly better than the worst kept: ties keep the earlier (hypothesis, token).
                if filled == keep && !(score > topScores[keep - 1]) { continue }
                var position = min(filled, keep - 1)
                while position > 0 && score > topScores[position - 1] {
                    topScores[position] = topScores[position - 1]
                    topParents[position] = topParents[position - 1]
                    topTokens[position] = topTokens[position - 1]
                    position -= 1
                }
                topScores[position] = score
                topParents[position] = b
                topTokens[position] = j
                if filled < keep { filled += 1 }
            }
        }
        scores = topScores
        parents.append(topParents)
        tokens.append(topTokens)
        return true
    }

    /// The state of each new hypothesis: its parent's row of a state `(numLayers, live, ·)`.
    func reorder(_ state: RecurrentLayerState) -> RecurrentLayerState {
        guard let order = parents.last else { return state }
        if order == Array(0..<order.count) && state.h.shape[1] == order.count { return state }
        return RecurrentLayerState(h: Variable(Self.gather(state.h.value, order)),
                                   c: state.c.map { Variable(Self.gather($0.value, order)) })
    }

    /// Rows `order` of axis 1 of a `(S, B, X)` tensor: `(S, order.count, X)`.
    static func gather(_ tensor: Tensor, _ order: [Int]) -> Tensor {
        let S = tensor.shape[0], B = tensor.shape[1], X = tensor.shape[2]
        return Tensor(shape: [S, order.count, X]) { out in
            tensor.scalars.withUnsafeBufferPointer { source in
                for s in 0..<S {
                    for (k, b) in order.enumerated() {
                        let from = (s * B + b) * X, to = (s * order.count + k) * X
                        for x in 0..<X { out[to + x] = source[from + x] }
                    }
                }
            }
        }
    }

    /// The best hypothesis's tokens and total log-probability.
    func best() -> (ids: [Int], logProbability: Double) {
        var ids = [Int](repeating: 0, count: tokens.count)
        var hypothesis = 0
        for step in stride(from: tokens.count - 1, through: 0, by: -1) {
            ids[step] = tokens[step][hypothesis]
            hypothesis = parents[step][hypothesis]
        }
        return (ids, scores.first ?? 0)
    }
}
