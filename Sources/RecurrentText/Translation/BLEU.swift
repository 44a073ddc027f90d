import Foundation

/// Corpus BLEU (Papineni et al., 2002) with one reference per hypothesis, no smoothing.
///
/// For n = 1 … `maxOrder` the modified precision is pooled over the whole corpus:
///
///     p_n = Σ_sentences Σ_ngrams min(count_hyp(g), count_ref(g)) / Σ_sentences (number of n-grams in the hypothesis)
///
/// (each hypothesis n-gram counts at most as often as it occurs in its reference: "clipping"). With
/// c = the total hypothesis length and r = the total reference length, the brevity penalty is
/// `BP = 1` if c > r, else `exp(1 − r/c)` (0 when c = 0), and
///
///     BLEU = BP · exp( (1/N) Σ_n log p_n )
///
/// It is 0 when any p_n is 0 (as `sacrebleu` without smoothing and `nltk`'s `corpus_bleu` report).
/// Tokens are compared as strings; what a token is (a word, a character) is the caller's choice.
public struct BLEU: Sendable, Equatable {
    /// The score in [0, 1].
    public var score: Double
    /// p_1 … p_N (0 where an order has no hypothesis n-grams).
    public var precisions: [Double]
    /// Clipped matches and hypothesis n-grams per order.
    public var matches: [Int]
    public var totals: [Int]
    public var brevityPenalty: Double
    /// c and r: total hypothesis and reference lengths in tokens.
    public var hypothesisLength: Int
    public var referenceLength: Int

    /// Corpus BLEU of `hypotheses[i]` against `references[i]`.
    /// - Precondition: as many hypotheses as references; `maxOrder ≥ 1`.
    public init(hypotheses: [[String]], references: [[String]], maxOrder: Int = 4) {
        precondition(hypotheses.count == references.count,
                     "BLEU: \(hypotheses.count) hypotheses but \(references.count) references")
        precondition(maxOrder >= 1, "BLEU: maxOrder must be at least 1, got \(maxOrder)")
        var matches = [Int](repeating: 0, count: maxOrder), totals = [Int](repeating: 0, count: maxOrder)
        var c = 0, r = 0
        for (hypothesis, reference) in zip(hypotheses, references) {
            c += hypothesis.count
            r += reference.count
            for n in 1...maxOrder where hypothesis.count >= n {
                let referenceCounts = Self.ngramCounts(reference, order: n)
                for (gram, count) in Self.ngramCounts(hypothesis, order: n) {
                    matches[n - 1] += min(count, referenceCounts[gram] ?? 0)
                }
                totals[n - 1] += hypothesis.count - n + 1
            }
        }
        self.matches = matches
        self.totals = totals
        hypothesisLength = c
        referenceLength = r
        precisions = zip(matches, totals).map { $1 > 0 ? Double($0) / Double($1) : 0 }
        brevityPenalty = c == 0 ? 0 : (c > r ? 1 : exp(1 - Double(r) / Double(c)))
        if precisions.contains(0) {
            score = 0
        } else {
            score = brevityPenalty * exp(precisions.map(log).reduce(0, +) / Double(maxOrder))
        }
    }

    /// The n-grams of `tokens` and how often each occurs.
    static func ngramCounts(_ tokens: [String], order n: Int) -> [[String]: Int] {
        var counts: [[String]: Int] = [:]
        guard tokens.count >= n else { return counts }
        for start in 0...(tokens.count - n) {
            counts[Array(tokens[start..<(start + n)]), default: 0] += 1
        }
        return counts
    }
}
