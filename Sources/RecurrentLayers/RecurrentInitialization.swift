import Foundation
import RecurrentCore
import RecurrentAutodiff

// Initialisation schemes for the recurrent weights of a built `RNN`, `LSTM` or `GRU` (and of a
// `LanguageModel`'s recurrent layer).
//
// Shapes, per layer k and direction (suffix `_reverse`), with G gate blocks (RNN 1; LSTM 4 in the
// order i, f, g, o; GRU 3 in the order r, z, n), hiddenSize H and Hout = projSize or H:
//   weight_hh_l{k} (G·H, Hout), bias_ih_l{k} (G·H), bias_hh_l{k} (G·H).
// Gate block j of each is rows j·H ..< (j+1)·H.

/// How the recurrent weights `weight_hh_l{k}` of a layer are initialised.
public enum InitializationScheme: String, Codable, CaseIterable, Sendable {
    /// PyTorch's default: every weight and bias uniform in ±1/√hiddenSize, as the layer was built
    /// (applying it changes nothing).
    case pytorch
    /// Each gate block of `weight_hh` is an orthogonal matrix (Saxe et al. 2014): the Gram–Schmidt
    /// orthonormalisation, in Double, of a matrix of N(0, 1) draws. With a projection the blocks are
    /// H × P and get orthonormal columns (H ≥ P) or rows. `weight_ih` and the biases keep PyTorch's draw.
    case orthogonal
    /// IRNN (Le, Jaitly & Hinton 2015): `weight_hh` is the identity and both biases are 0. For a tanh or
    /// ReLU RNN that is the whole recurrence. For an LSTM or GRU only the candidate block (LSTM g, GRU n)
    /// gets the identity and zero biases; the gate blocks keep PyTorch's draw. `weight_ih` always keeps it.
    case identity
}

/// Re-initialises the recurrent weights of a built layer (every layer and direction) by `scheme`,
/// then sets the LSTM forget-gate bias.
///
/// - Parameters:
///   - scheme: see `InitializationScheme`; `.pytorch` leaves the weights as they are.
///   - forgetBias: LSTM only: the forget-gate block (rows H ..< 2H) of `bias_ih_l{k}` becomes this value
///     and that of `bias_hh_l{k}` 0, so that the two sum to it exactly (Jozefowicz et al. 2015 use 1).
///     Nil leaves the biases alone.
///   - rng: the generator of the orthogonal draws (nothing is drawn by the other schemes).
/// - Throws: `ConfigurationError` naming `forgetBias` when the layer is not an LSTM, has no biases,
///   or the value is not finite.
public func initialize(_ layer: any RecurrentLayer, scheme: InitializationScheme, forgetBias: Float? = nil,
                       using rng: inout RandomGenerator) throws {
    let configuration = layer.configuration
    let H = configuration.hiddenSize
    let gates: Int, candidate: Int?
    switch configuration.cell {
    case .rnn: (gates, candidate) = (1, nil)
    case .lstm: (gates, candidate) = (4, 2)
    case .gru: (gates, candidate) = (3, 2)
    }
    if let forgetBias {
        try ConfigurationError.require(configuration.cell == .lstm, "forgetBias", "applies to an LSTM only")
        try ConfigurationError.require(configuration.bias, "forgetBias", "needs a layer with biases")
        try ConfigurationError.require(forgetBias.isFinite, "forgetBias", "must be finite, got \(forgetBias)")
    }
    let parameters = Dictionary(layer.namedParameters.map { ($0.name, $0.parameter) }, uniquingKeysWith: { a, _ in a })
    let directions = configuration.bidirectional ? ["", "_reverse"] : [""]
    for k in 0..<configuration.numLayers {
        for suffix in directions {
            guard let weight = parameters["weight_hh_l\(k)\(suffix)"] else {
                preconditionFailure("initialize: the layer has no weight_hh_l\(k)\(suffix)")
            }
            let columns = weight.shape[1]
            precondition(weight.shape[0] == gates * H, "initialize: weight_hh_l\(k)\(suffix) has shape \(weight.shape)")
            let biases = ["bias_ih_l\(k)\(suffix)", "bias_hh_l\(k)\(suffix)"].compactMap { parameters[$0] }
            switch scheme {
            case .pytorch:
                break
            case .orthogonal:
                for block in 0..<gates {
                    let q = orthogonalMatrix(rows: H, columns: columns, using: &rng)
                    setBlock(weight, block: block, rows: H, to: q)
                }
            case .identity:
                let eye = (0..<(H * columns)).map { $0 / columns == $0 % columns ? Float(1) : 0 }
                for block in candidate.map({ [$0] }) ?? Array(0..<gates) {
                    setBlock(weight, block: block, rows: H, to: eye)
                    for bias in biases { setBlock(bias, block: block, rows: H, to: [Float](repeating: 0, count: H)) }
                }
            }
            if let forgetBias, biases.count == 2 {
                setBlock(biases[0], block: 1, rows: H, to: [Float](repeating: forgetBias, count: H))
                setBlock(biases[1], block: 1, rows: H, to: [Float](repeating: 0, count: H))
            }
        }
    }
}

/// `initialize(_:scheme:forgetBias:using:)` applied to the model's recurrent layer (the embedding and
/// the head keep their initialisation).
public func initialize(_ model: LanguageModel, scheme: InitializationScheme, forgetBias: Float? = nil,
                       using rng: inout RandomGenerator) throws {
    try initialize(model.recurrent, scheme: scheme, forgetBias: forgetBias, using: &rng)
}

/// Overwrites rows `block·rows ..< (block+1)·rows` of `parameter` (a matrix or a vector) with `values`.
private func setBlock(_ parameter: Parameter, block: Int, rows: Int, to values: [Float]) {
    let rowWidth = parameter.value.count / parameter.value.shape[0]
    precondition(values.count == rows * rowWidth, "initialize: block of \(values.count) values for \(rows) rows of \(rowWidth)")
    let start = block * rows * rowWidth
    parameter.value.scalars.withUnsafeMutableBufferPointer { p in
        for j in 0..<values.count { p[start + j] = values[j] }
    }
}

/// A `rows × columns` matrix (row-major) with orthonormal columns when `rows ≥ columns`, otherwise
/// orthonormal rows: modified Gram–Schmidt, run twice for accuracy, in Double on N(0, 1) draws
/// (drawn row-major, `rows · columns` of them). The result is distributed uniformly (Haar) among such
/// matrices, as `torch.nn.init.orthogonal_` is.
public func orthogonalMatrix(rows: Int, columns: Int, using rng: inout RandomGenerator) -> [Float] {
    precondition(rows > 0 && columns > 0, "orthogonalMatrix: sizes must be positive, got \(rows) × \(columns)")
    // Orthonormalise the n vectors of length m, n ≤ m, stored as vectors[i] (the columns of a tall matrix).
    let tall = rows >= columns
    let m = tall ? rows : columns, n = tall ? columns : rows
    let draws = (0..<(rows * columns)).map { _ in Double(rng.nextNormal()) }
    var vectors = (0..<n).map { i in (0..<m).map { r in tall ? draws[r * columns + i] : draws[i * columns + r] } }
    for i in 0..<n {
        for _ in 0..<2 {
            for j in 0..<i {
                var dot = 0.0
                for r in 0..<m { dot += vectors[i][r] * vectors[j][r] }
                for r in 0..<m { vectors[i][r] -= dot * vectors[j][r] }
            }
        }
        var norm = 0.0
        for r in 0..<m { norm += vectors[i][r] * vectors[i][r] }
        norm = norm.squareRoot()
        precondition(norm > 1e-12, "orthogonalMatrix: the Gaussian draw was degenerate")
        for r in 0..<m { vectors[i][r] /= norm }
    }
    var result = [Float](repeating: 0, count: rows * columns)
    for i in 0..<n {
        for r in 0..<m {
            if tall { result[r * columns + i] = Float(vectors[i][r]) } else { result[i * columns + r] = Float(vectors[i][r]) }
        }
    }
    return result
}
