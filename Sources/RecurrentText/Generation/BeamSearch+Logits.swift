import Foundation
import RecurrentLayers

extension BeamSearch {
    /// Extends the hypotheses by one token of a language model. `logits` holds one row of
    /// `vocabularySize` logits per live hypothesis, in order; an extension scores its hypothesis's
    /// total log-probability plus the token's log-probability (log-softmax accumulated in Double).
    /// Returns false (changing nothing) when a logit is NaN or infinite.
    mutating func expand(logits: UnsafePointer<Float>) -> Bool {
        let V = vocabularySize, live = scores.count
        var bases = [Double](repeating: 0, count: live)
        for b in 0..<live {
            let row = logits + b * V
            var maximum = row[0]
            for j in 0..<V {
                guard row[j].isFinite else { return false }
                maximum = max(maximum, row[j])
            }
            // log p(j) = l_j − (maximum + log Σ exp(l − maximum)).
            bases[b] = scores[b] - (Double(maximum) + TokenSampler.logSumExp(row, count: V, maximum: maximum))
        }
        expand { b, j in bases[b] + Double(logits[b * V + j]) }
        return true
    }
}
