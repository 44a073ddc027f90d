import Foundation
import RecurrentCore
import RecurrentAutodiff

/// The bookkeeping of beam search over a model's next-token scores, shared by `TextGenerator` (a
/// fixed number of tokens, no end token) and `EncoderDecoder.beamSearch` (hypotheses end at `<eos>`).
///
/// Hypotheses are kept best first. Each step extends every live hypothesis by every allowed token,
/// scores each extension with the caller's `score` (its total log-probability), and keeps the `width`
/// best; equal scores keep the earlier hypothesis, then the lower token, so the result is
/// deterministic. An extension by `endToken` is returned to the caller as a finished hypothesis and
/// leaves the live set. The tokens of the live hypotheses are stored per step with a back pointer to
/// the parent hypothesis and read back when needed.
///
/// The caller computes the scores (in its own precision and order of operations) so that each caller
/// keeps its numerics; the scores are kept as `Double`, which holds a `Float` score exactly.
package struct BeamSearch {
    /// One kept extension of a live hypothesis.
    package struct Extension: Equatable, Sendable {
        /// The extended hypothesis: its index among the live hypotheses before the step.
        package var parent: Int
        package var token: Int
        /// The extension's total score.
        package var score: Double
    }

    package let vocabularySize: Int
    package let width: Int
    /// The token that ends a hypothesis (nil: hypotheses never end).
    package let endToken: Int?
    /// A token no hypothesis is ever extended by (e.g. the decoder's start token).
    package let excludedToken: Int?
    /// Total score of each live hypothesis, best first.
    package private(set) var scores: [Double] = [0]
    /// Per step, per live hypothesis: the index of its parent among the previous step's hypotheses.
    private var parents: [[Int]] = []
    /// Per step, per live hypothesis: its last token.
    private var tokens: [[Int]] = []

    package init(vocabularySize: Int, width: Int, endToken: Int? = nil, excludedToken: Int? = nil) {
        self.vocabularySize = vocabularySize
        self.width = width
        self.endToken = endToken
        self.excludedToken = excludedToken
    }

    /// The last token of every live hypothesis (what to feed the model next), best first.
    package var lastTokens: [Int] { tokens.last ?? [] }

    /// For every live hypothesis, the index of its parent among the hypotheses before the last step.
    package var lastParents: [Int] { parents.last ?? [] }

    /// Extends the live hypotheses by one token: every live hypothesis `b` by every token `j` other
    /// than `excludedToken` (only by `endToken` when `onlyEndToken`), scored `score(b, j)`. Keeps the
    /// `width` best extensions (fewer when there are fewer candidates); those by `endToken` leave the
    /// live set, the others become the new live hypotheses in the same order. Returns the kept
    /// extensions, best first.
    @discardableResult
    package mutating func expand(onlyEndToken: Bool = false, score: (_ hypothesis: Int, _ token: Int) -> Double) -> [Extension] {
        precondition(!onlyEndToken || endToken != nil, "BeamSearch: onlyEndToken needs an end token")
        let V = vocabularySize, live = scores.count
        func allowed(_ j: Int) -> Bool { onlyEndToken ? j == endToken : j != excludedToken }
        let candidatesPerHypothesis = (0..<V).reduce(0) { $0 + (allowed($1) ? 1 : 0) }
        let keep = min(width, live * candidatesPerHypothesis)
        var topScores = [Double](repeating: 0, count: keep)
        var topParents = [Int](repeating: 0, count: keep)
        var topTokens = [Int](repeating: 0, count: keep)
        var filled = 0
        for b in 0..<live {
            for j in 0..<V where allowed(j) {
                let score = score(b, j)
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
        let kept = (0..<keep).map { Extension(parent: topParents[$0], token: topTokens[$0], score: topScores[$0]) }
        if let endToken, topTokens.contains(endToken) {
            let continuing = kept.filter { $0.token != endToken }
            scores = continuing.map(\.score)
            parents.append(continuing.map(\.parent))
            tokens.append(continuing.map(\.token))
        } else {
            scores = topScores
            parents.append(topParents)
            tokens.append(topTokens)
        }
        return kept
    }

    /// The tokens of live hypothesis `hypothesis`.
    package func tokens(of hypothesis: Int) -> [Int] {
        backtrack(from: tokens.count - 1, hypothesis: hypothesis)
    }

    /// The tokens of hypothesis `parent` as it was before the last step: the prefix that an extension
    /// returned by the last `expand` extends.
    package func tokens(ofParent parent: Int) -> [Int] {
        backtrack(from: tokens.count - 2, hypothesis: parent)
    }

    private func backtrack(from last: Int, hypothesis: Int) -> [Int] {
        guard last >= 0 else { return [] }
        var ids = [Int](repeating: 0, count: last + 1)
        var hypothesis = hypothesis
        for step in stride(from: last, through: 0, by: -1) {
            ids[step] = tokens[step][hypothesis]
            hypothesis = parents[step][hypothesis]
        }
        return ids
    }

    /// The state of each new hypothesis: its parent's row of a state `(numLayers, live, ·)`.
    package func reorder(_ state: RecurrentLayerState) -> RecurrentLayerState {
        guard let order = parents.last else { return state }
        if order == Array(0..<order.count) && state.h.shape[1] == order.count { return state }
        return RecurrentLayerState(h: Variable(Self.gather(state.h.value, order)),
                                   c: state.c.map { Variable(Self.gather($0.value, order)) })
    }

    /// Rows `order` of axis 1 of a `(S, B, X)` tensor: `(S, order.count, X)`.
    package static func gather(_ tensor: Tensor, _ order: [Int]) -> Tensor {
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

    /// The best live hypothesis's tokens and total score.
    package func best() -> (ids: [Int], logProbability: Double) {
        (tokens(of: 0), scores.first ?? 0)
    }
}
