import RecurrentCore
import RecurrentAutodiff

/// `c_b = Σ_j a_bj · h_{j,b}`: the attention-weighted sum of a sequence of vectors.
///
/// Shapes: `weights` `(batchSize, sourceLength)`, `values` `(sourceLength, batchSize, valueSize)`
/// (time-major, as encoder outputs are); the result is `(batchSize, valueSize)`.
/// Backward: `dWeights[b, j] = Σ_k dOutput[b, k] · values[j, b, k]`,
/// `dValues[j, b, k] = weights[b, j] · dOutput[b, k]`.
public func weightedSum(_ values: Variable, weights: Variable) -> Variable {
    let v = values.value, a = weights.value
    precondition(v.rank == 3 && a.shape == [v.shape[1], v.shape[0]],
                 "weightedSum: weights must be (batchSize, sourceLength) = (\(v.shape.count == 3 ? v.shape[1] : -1), \(v.shape.first ?? -1)) for values \(v.shape), got \(a.shape)")
    let length = v.shape[0], batchSize = v.shape[1], size = v.shape[2]
    let output = Tensor(shape: [batchSize, size]) { out in
        v.scalars.withUnsafeBufferPointer { v in
            a.scalars.withUnsafeBufferPointer { a in
                for i in 0..<(batchSize * size) { out[i] = 0 }
                for b in 0..<batchSize {
                    for j in 0..<length {
                        let w = a[b * length + j], base = (j * batchSize + b) * size
                        for k in 0..<size { out[b * size + k] += w * v[base + k] }
                    }
                }
            }
        }
    }
    return Tape.record("weightedSum", inputs: [values, weights], output: output) { g in
        let dValues: Tensor? = values.requiresGrad ? Tensor(shape: v.shape) { dv in
            g.scalars.withUnsafeBufferPointer { g in
                a.scalars.withUnsafeBufferPointer { a in
                    for j in 0..<length {
                        for b in 0..<batchSize {
                            let w = a[b * length + j], base = (j * batchSize + b) * size
                            for k in 0..<size { dv[base + k] = w * g[b * size + k] }
                        }
                    }
                }
            }
        } : nil
        let dWeights: Tensor? = weights.requiresGrad ? Tensor(shape: a.shape) { da in
            g.scalars.withUnsafeBufferPointer { g in
                v.scalars.withUnsafeBufferPointer { v in
                    for b in 0..<batchSize {
                        for j in 0..<length {
                            let base = (j * batchSize + b) * size
                            var dot: Float = 0
                            for k in 0..<size { dot += g[b * size + k] * v[base + k] }
                            da[b * length + j] = dot
                        }
                    }
                }
            }
        } : nil
        return [dValues, dWeights]
    }
}

/// Additive (Bahdanau) attention: how much decoder step i looks at each encoder state h_j.
///
///     e_ij = vᵀ tanh(W_s s_{i−1} + W_h h_j + b)
///     a_ij = exp(e_ij) / Σ_k exp(e_ik)          (softmax over the source positions j)
///     c_i  = Σ_j a_ij h_j
///
/// s_{i−1} is the decoder state before step i (the query), h_j the encoder output at source position
/// j (key and value). Source positions at or past a row's length get no weight.
///
/// Parameters (state-dict names): `query.weight` W_s `(attentionSize, querySize)`, `key.weight` W_h
/// `(attentionSize, keySize)`, `key.bias` b `(attentionSize)`, `score.weight` vᵀ `(1, attentionSize)`;
/// each initialised as `Linear` (uniform in `±1/√fanIn`).
public final class AdditiveAttention: Module {
    public let querySize: Int
    public let keySize: Int
    public let attentionSize: Int
    /// W_s, no bias.
    public let query: Linear
    /// W_h and b.
    public let key: Linear
    /// vᵀ, no bias.
    public let score: Linear
    public var isTraining = true

    /// - Throws: `ConfigurationError` naming a size that is not positive or above `SizeLimits.maximumDimension`.
    public init(querySize: Int, keySize: Int, attentionSize: Int, using rng: inout RandomGenerator) throws {
        try ConfigurationError.requireSize(querySize, "querySize")
        try ConfigurationError.requireSize(keySize, "keySize")
        try ConfigurationError.requireSize(attentionSize, "attentionSize")
        self.querySize = querySize
        self.keySize = keySize
        self.attentionSize = attentionSize
        query = try Linear(inputSize: querySize, outputSize: attentionSize, bias: false, using: &rng)
        key = try Linear(inputSize: keySize, outputSize: attentionSize, using: &rng)
        score = try Linear(inputSize: attentionSize, outputSize: 1, bias: false, using: &rng)
    }

    /// The state-dict names and shapes of the parameters (without allocating them): `query.weight`,
    /// `key.weight`, `key.bias`, `score.weight`.
    public static func parameterShapes(querySize: Int, keySize: Int, attentionSize: Int) -> [(name: String, shape: [Int])] {
        prefixed("query", Linear.parameterShapes(inputSize: querySize, outputSize: attentionSize, bias: false))
            + prefixed("key", Linear.parameterShapes(inputSize: keySize, outputSize: attentionSize))
            + prefixed("score", Linear.parameterShapes(inputSize: attentionSize, outputSize: 1, bias: false))
    }

    /// Draws from the process-wide generator (`GlobalRandom`).
    public convenience init(querySize: Int, keySize: Int, attentionSize: Int) throws {
        var rng = GlobalRandom.with { rng in RandomGenerator(seed: rng.next()) }
        try self.init(querySize: querySize, keySize: keySize, attentionSize: attentionSize, using: &rng)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        prefixed("query", query.namedParameters) + prefixed("key", key.namedParameters) + prefixed("score", score.namedParameters)
    }

    /// `W_h h_j + b` for every source position: `(sourceLength, batchSize, keySize)` →
    /// `(sourceLength, batchSize, attentionSize)`. It does not depend on the decoder step, so a
    /// decoder computes it once per source batch.
    public func projectKeys(_ encoderOutputs: Variable) -> Variable { key(encoderOutputs) }

    /// The scores `e` `(batchSize, sourceLength)` for the query `s` `(batchSize, querySize)` against
    /// projected keys `(sourceLength, batchSize, attentionSize)`; positions `j ≥ lengths[b]` get −∞
    /// (exactly zero weight after the softmax).
    public func scores(query s: Variable, projectedKeys keys: Variable, lengths: [Int]? = nil) -> Variable {
        precondition(keys.shape.count == 3 && keys.shape[2] == attentionSize && s.shape == [keys.shape[1], querySize],
                     "AdditiveAttention: query must be (batchSize, \(querySize)) and keys (sourceLength, batchSize, \(attentionSize)), got \(s.shape) and \(keys.shape)")
        let sourceLength = keys.shape[0], batchSize = keys.shape[1]
        let q = query(s)
        let field = addingToEveryStep(keys, q).tanh()
        var e = score(field).reshaped([sourceLength, batchSize]).transposed()
        if let lengths {
            precondition(lengths.count == batchSize && lengths.allSatisfy { $0 >= 1 && $0 <= sourceLength },
                         "AdditiveAttention: lengths \(lengths) must be in 1...\(sourceLength), one per row")
            if lengths.contains(where: { $0 < sourceLength }) {
                let penalty = Tensor(shape: [batchSize, sourceLength]) { out in
                    for b in 0..<batchSize {
                        for j in 0..<sourceLength { out[b * sourceLength + j] = j < lengths[b] ? 0 : -.infinity }
                    }
                }
                e = e + Variable(penalty)
            }
        }
        return e
    }

    /// One attention step: context `c` `(batchSize, keySize)` and weights `a` `(batchSize, sourceLength)`.
    ///
    /// - Parameters:
    ///   - s: the query (the decoder state before the step), `(batchSize, querySize)`.
    ///   - keys: `projectKeys(values)`, `(sourceLength, batchSize, attentionSize)`.
    ///   - values: the encoder outputs h, `(sourceLength, batchSize, keySize)`.
    ///   - lengths: each row's source length (positions past it are ignored); nil when all are full.
    public func callAsFunction(query s: Variable, projectedKeys keys: Variable, values: Variable,
                               lengths: [Int]? = nil) -> (context: Variable, weights: Variable) {
        precondition(values.shape.count == 3 && values.shape[2] == keySize && Array(values.shape.prefix(2)) == Array(keys.shape.prefix(2)),
                     "AdditiveAttention: values must be (sourceLength, batchSize, \(keySize)) matching keys \(keys.shape), got \(values.shape)")
        let weights = scores(query: s, projectedKeys: keys, lengths: lengths).softmax()
        return (weightedSum(values, weights: weights), weights)
    }
}

/// `x[t] + y` for every step t: `(sequenceLength, batchSize, size) + (batchSize, size)`.
/// Backward: `dX = dOutput`, `dY = Σ_t dOutput[t]`.
func addingToEveryStep(_ x: Variable, _ y: Variable) -> Variable {
    let xv = x.value, yv = y.value
    precondition(xv.rank == 3 && Array(xv.shape.dropFirst()) == yv.shape,
                 "addingToEveryStep: \(yv.shape) does not match the steps of \(xv.shape)")
    let n = yv.count
    let output = Tensor(shape: xv.shape) { out in
        xv.scalars.withUnsafeBufferPointer { x in
            yv.scalars.withUnsafeBufferPointer { y in
                var base = 0
                while base < x.count {
                    for i in 0..<n { out[base + i] = x[base + i] + y[i] }
                    base += n
                }
            }
        }
    }
    return Tape.record("addingToEveryStep", inputs: [x, y], output: output) { g in
        [x.requiresGrad ? g : nil, y.requiresGrad ? g.sumLeading(to: yv.shape) : nil]
    }
}
