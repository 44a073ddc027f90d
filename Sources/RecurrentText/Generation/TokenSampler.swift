import Foundation
import RecurrentCore

/// Chooses the next token from one row of logits: greedy argmax, or a draw from
/// softmax(logits / temperature) restricted to the `topK` most probable tokens.
///
/// Works in buffers allocated once (vocabularySize weights, topK ids), so a choice allocates nothing.
struct TokenSampler {
    let vocabularySize: Int
    /// Greedy when true; otherwise sampling at `temperature`.
    let greedy: Bool
    let temperature: Float
    /// The number of candidates kept (`vocabularySize` when there is no top-k filter).
    let keep: Int
    /// Unnormalised probabilities of the candidates, in candidate order.
    private var weights: [Float]
    /// The top-k candidates, most probable first (ties: lower id first). Unused without a filter.
    private var candidates: [Int]

    init(vocabularySize: Int, temperature: Float, topK: Int?, greedyBelow threshold: Float) {
        self.vocabularySize = vocabularySize
        self.temperature = temperature
        greedy = temperature < threshold || topK == 1
        keep = min(topK ?? vocabularySize, vocabularySize)
        weights = [Float](repeating: 0, count: vocabularySize)
        candidates = [Int](repeating: 0, count: keep)
    }

    /// The chosen id and its log-probability under the model (softmax of the raw logits: temperature 1,
    /// no top-k), or `nil` when a logit is NaN or infinite.
    mutating func choose(_ logits: UnsafePointer<Float>, using rng: inout RandomGenerator)
        -> (id: Int, logProbability: Double)? {
        let V = vocabularySize
        // One pass: finiteness, the maximum and the first index holding it.
        var best = 0
        var maximum = logits[0]
        guard maximum.isFinite else { return nil }
        for j in 1..<V {
            let l = logits[j]
            guard l.isFinite else { return nil }
            if l > maximum { maximum = l; best = j }
        }
        let logNormalizer = Double(maximum) + Self.logSumExp(logits, count: V, maximum: maximum)
        let id = greedy ? best : draw(logits, maximum: maximum, using: &rng)
        return (id, Double(logits[id]) - logNormalizer)
    }

    /// log Σ exp(l − maximum), accumulated in Double.
    static func logSumExp(_ logits: UnsafePointer<Float>, count: Int, maximum: Float) -> Double {
        var sum = 0.0
        for j in 0..<count { sum += Double(expf(logits[j] - maximum)) }
        return log(sum)
    }

    /// A draw from softmax(logits / temperature) over the kept candidates.
    private mutating func draw(_ logits: UnsafePointer<Float>, maximum: Float, using rng: inout RandomGenerator) -> Int {
        let V = vocabularySize, scale = 1 / temperature
        let filtered = keep < V
        if filtered { selectTop(logits) }
        let n = filtered ? keep : V
        let u = rng.nextUniform()
        return weights.withUnsafeMutableBufferPointer { w in
            candidates.withUnsafeBufferPointer { ids in
                var total: Float = 0
                for i in 0..<n {
                    let e = expf((logits[filtered ? ids[i] : i] - maximum) * scale)
                    w[i] = e
                    total += e
                }
                // The first candidate whose cumulative weight exceeds u · total; the same summation
                // order as `total`, so only rounding of u · total can run past the end.
                let target = u * total
                var cumulative: Float = 0
                var last = 0
                for i in 0..<n where w[i] > 0 {
                    cumulative += w[i]
                    last = i
                    if target < cumulative { return filtered ? ids[i] : i }
                }
                return filtered ? ids[last] : last
            }
        }
    }

    /// Fills `candidates` with the `keep` ids of the largest logits, largest first; equal logits keep
    /// the lower id first, so the choice is deterministic.
    private mutating func selectTop(_ logits: UnsafePointer<Float>) {
        let k = keep
        candidates.withUnsafeMutableBufferPointer { top in
            var filled = 0
            for j in 0..<vocabularySize {
                let l = logits[j]
                // Strictly greater: an equal logit with a higher id never displaces an earlier one.
                if filled == k && !(l > logits[top[k - 1]]) { continue }
                var position = min(filled, k - 1)
                while position > 0 && l > logits[top[position - 1]] {
                    top[position] = top[position - 1]
                    position -= 1
                }
                top[position] = j
                if filled < k { filled += 1 }
            }
        }
    }
}
