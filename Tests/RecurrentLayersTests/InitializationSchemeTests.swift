import XCTest
import Recurrent

/// `initialize(_:scheme:forgetBias:using:)`: orthogonal and identity recurrent weights, the LSTM
/// forget-gate bias, and the default left exactly as built.
final class InitializationSchemeTests: XCTestCase {
    private func build(_ cell: RecurrentLayerConfiguration.Cell, hiddenSize: Int = 6, numLayers: Int = 2,
                       bidirectional: Bool = true, projSize: Int = 0, seed: UInt64 = 5) throws -> any RecurrentLayer {
        var rng = RandomGenerator(seed: seed)
        return try makeRecurrentLayer(.init(cell: cell, inputSize: 3, hiddenSize: hiddenSize, numLayers: numLayers,
                                            bidirectional: bidirectional, projSize: projSize), using: &rng)
    }

    private func values(_ layer: any RecurrentLayer) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: layer.stateDict().map { ($0.name, $0.tensor.scalars) })
    }

    /// Rows `block·H ..< (block+1)·H` of a row-major matrix with `columns` columns (or of a vector).
    private func block(_ v: [Float], _ block: Int, rows H: Int, columns: Int = 1) -> [Float] {
        Array(v[(block * H * columns)..<((block + 1) * H * columns)])
    }

    /// The largest |(AᵀA − I)_{ij}| of an r × c block (columns orthonormal), in Double.
    private func orthogonalityError(_ a: [Float], rows r: Int, columns c: Int) -> Double {
        var worst = 0.0
        for i in 0..<c {
            for j in 0..<c {
                var dot = 0.0
                for k in 0..<r { dot += Double(a[k * c + i]) * Double(a[k * c + j]) }
                worst = max(worst, abs(dot - (i == j ? 1 : 0)))
            }
        }
        return worst
    }

    func testPyTorchSchemeLeavesTheLayerBitIdentical() throws {
        for cell in [RecurrentLayerConfiguration.Cell.rnn(.tanh), .lstm, .gru] {
            let layer = try build(cell)
            let before = values(layer)
            var rng = RandomGenerator(seed: 1)
            let untouched = rng
            try initialize(layer, scheme: .pytorch, using: &rng)
            XCTAssertEqual(values(layer), before, "\(cell)")
            XCTAssertEqual(rng, untouched, "the default draws nothing")
            // And the default is the uniform ±1/√H draw.
            let bound = 1 / Float(6).squareRoot()
            XCTAssertTrue(before.values.allSatisfy { $0.allSatisfy { abs($0) <= bound } })
        }
    }

    func testOrthogonalGateBlocks() throws {
        for (cell, gates) in [(RecurrentLayerConfiguration.Cell.rnn(.tanh), 1), (.lstm, 4), (.gru, 3)] {
            let layer = try build(cell, hiddenSize: 16)
            let before = values(layer)
            var rng = RandomGenerator(seed: 2)
            try initialize(layer, scheme: .orthogonal, using: &rng)
            let after = values(layer)
            for (name, v) in after {
                guard name.hasPrefix("weight_hh") else {
                    XCTAssertEqual(v, before[name], "\(cell): \(name) keeps PyTorch's draw")
                    continue
                }
                for g in 0..<gates {
                    let w = block(v, g, rows: 16, columns: 16)
                    XCTAssertLessThan(orthogonalityError(w, rows: 16, columns: 16), 1e-5, "\(cell) \(name) block \(g)")
                }
                if gates > 1 {
                    XCTAssertTrue(block(v, 0, rows: 16, columns: 16) != block(v, gates - 1, rows: 16, columns: 16),
                                  "\(cell) \(name): each block is its own draw")
                }
            }
        }
    }

    /// With a projection the LSTM's blocks are H × P: orthonormal columns; a wide matrix gets orthonormal rows.
    func testOrthogonalRectangularBlocks() throws {
        let layer = try build(.lstm, hiddenSize: 8, numLayers: 1, bidirectional: false, projSize: 3)
        var rng = RandomGenerator(seed: 3)
        try initialize(layer, scheme: .orthogonal, using: &rng)
        let whh = values(layer)["weight_hh_l0"]!
        XCTAssertEqual(whh.count, 4 * 8 * 3)
        for g in 0..<4 { XCTAssertLessThan(orthogonalityError(block(whh, g, rows: 8, columns: 3), rows: 8, columns: 3), 1e-5) }

        let wide = orthogonalMatrix(rows: 3, columns: 5, using: &rng)
        var transposed = [Float](repeating: 0, count: 15)
        for r in 0..<3 { for c in 0..<5 { transposed[c * 3 + r] = wide[r * 5 + c] } }
        XCTAssertLessThan(orthogonalityError(transposed, rows: 5, columns: 3), 1e-5, "rows of a wide matrix")
    }

    func testIdentityIsExact() throws {
        let H = 5
        let eye = (0..<(H * H)).map { $0 / H == $0 % H ? Float(1) : 0 }
        let zeros = [Float](repeating: 0, count: H)
        // RNN (IRNN): the whole recurrence.
        for nonlinearity in [RNNNonlinearity.tanh, .relu] {
            let layer = try build(.rnn(nonlinearity), hiddenSize: H)
            let before = values(layer)
            var rng = RandomGenerator(seed: 4)
            try initialize(layer, scheme: .identity, using: &rng)
            for (name, v) in values(layer) {
                if name.hasPrefix("weight_hh") { XCTAssertEqual(v, eye, name) }
                else if name.hasPrefix("bias") { XCTAssertEqual(v, zeros, name) }
                else { XCTAssertEqual(v, before[name], "\(name) keeps its draw") }
            }
        }
        // LSTM (block g = 2) and GRU (block n = 2): only the candidate block.
        for (cell, gates) in [(RecurrentLayerConfiguration.Cell.lstm, 4), (.gru, 3)] {
            let layer = try build(cell, hiddenSize: H)
            let before = values(layer)
            var rng = RandomGenerator(seed: 4)
            try initialize(layer, scheme: .identity, using: &rng)
            for (name, v) in values(layer) {
                let columns = name.hasPrefix("weight") ? v.count / (gates * H) : 1
                for g in 0..<gates {
                    let got = block(v, g, rows: H, columns: columns)
                    if g == 2 && name.hasPrefix("weight_hh") { XCTAssertEqual(got, eye, "\(cell) \(name)") }
                    else if g == 2 && name.hasPrefix("bias") { XCTAssertEqual(got, zeros, "\(cell) \(name)") }
                    else { XCTAssertEqual(got, block(before[name]!, g, rows: H, columns: columns), "\(cell) \(name) block \(g)") }
                }
            }
        }
    }

    func testForgetBiasIsExact() throws {
        let H = 6
        for scheme in InitializationScheme.allCases {
            let layer = try build(.lstm, hiddenSize: H)
            let before = values(layer)
            var rng = RandomGenerator(seed: 6)
            try initialize(layer, scheme: scheme, forgetBias: 1, using: &rng)
            let after = values(layer)
            for suffix in ["_l0", "_l1", "_l0_reverse", "_l1_reverse"] {
                let ih = after["bias_ih" + suffix]!, hh = after["bias_hh" + suffix]!
                for j in H..<(2 * H) { XCTAssertEqual(ih[j] + hh[j], 1, "\(scheme) \(suffix)[\(j)]") }
                if scheme == .pytorch {   // the other blocks keep their draw
                    for j in Array(0..<H) + Array((2 * H)..<(4 * H)) {
                        XCTAssertEqual(ih[j], before["bias_ih" + suffix]![j])
                        XCTAssertEqual(hh[j], before["bias_hh" + suffix]![j])
                    }
                }
            }
        }
        // On a LanguageModel: its LSTM's state-dict names.
        var rng = RandomGenerator(seed: 8)
        let model = try LanguageModel(.init(cell: .lstm, vocabularySize: 7, embeddingSize: 3, hiddenSize: 4), using: &rng)
        try initialize(model, scheme: .pytorch, forgetBias: 2.5, using: &rng)
        let dict = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor.scalars) })
        XCTAssertEqual(zip(dict["lstm.bias_ih_l0"]![4..<8], dict["lstm.bias_hh_l0"]![4..<8]).map { $0 + $1 }, [2.5, 2.5, 2.5, 2.5])
    }

    func testForgetBiasNeedsAnLSTMWithBiases() throws {
        var rng = RandomGenerator(seed: 9)
        for cell in [RecurrentLayerConfiguration.Cell.gru, .rnn(.tanh)] {
            XCTAssertThrowsError(try initialize(try build(cell), scheme: .pytorch, forgetBias: 1, using: &rng)) { error in
                XCTAssertEqual((error as? ConfigurationError)?.argument, "forgetBias")
            }
        }
        let noBias = try makeRecurrentLayer(.init(cell: .lstm, inputSize: 2, hiddenSize: 3, bias: false), using: &rng)
        XCTAssertThrowsError(try initialize(noBias, scheme: .pytorch, forgetBias: 1, using: &rng))
        XCTAssertThrowsError(try initialize(try build(.lstm), scheme: .pytorch, forgetBias: .nan, using: &rng))
    }
}
