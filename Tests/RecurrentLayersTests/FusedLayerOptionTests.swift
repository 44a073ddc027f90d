import Foundation
import XCTest
import Recurrent
import RecurrentTestSupport

/// The variants as options of the standard `RNN`/`LSTM`/`GRU` layers: padded batches (`lengths`) in
/// the fused kernels, bidirectional merge modes, and the cell-path options (reset-before GRU, layer
/// normalisation, recurrent dropout, zoneout). Each is compared with the cells or the generic runner
/// on the same parameters, with each row run alone, and checked by finite differences.
final class FusedLayerOptionTests: XCTestCase {
    typealias Config = RecurrentLayerConfiguration

    // MARK: Helpers

    private func makeLayer(_ c: Config, seed: UInt64 = 7) throws -> any RecurrentLayer {
        var rng = RandomGenerator(seed: seed)
        return try makeRecurrentLayer(c, using: &rng)
    }

    private func uniform(_ shape: [Int], _ rng: inout RandomGenerator, requiresGrad: Bool = false) -> Variable {
        Variable(.uniform(shape: shape, low: -1, high: 1, using: &rng), requiresGrad: requiresGrad)
    }

    /// Time-major input `(T, B, I)` and initial states for `c` (LSTM: c too).
    private func inputs(_ c: Config, T: Int, B: Int, seed: UInt64, requiresGrad: Bool = false)
        -> (x: Variable, state: RecurrentLayerState) {
        var rng = RandomGenerator(seed: seed)
        let x = uniform([T, B, c.inputSize], &rng, requiresGrad: requiresGrad)
        let h0 = uniform([c.numLayers * c.numDirections, B, c.outputHiddenSize], &rng, requiresGrad: requiresGrad)
        let c0 = c.cell == .lstm ? uniform([c.numLayers * c.numDirections, B, c.hiddenSize], &rng, requiresGrad: requiresGrad) : nil
        return (x, RecurrentLayerState(h: h0, c: c0))
    }

    /// Rows `b` (axis `axis`) of `x`, steps `0..<steps` of axis 0 when `steps` is given.
    private func row(_ x: Tensor, _ b: Int, axis: Int = 1, steps: Int? = nil) -> Tensor {
        let outer = steps ?? x.shape[0], rows = x.shape[1], width = x.shape[2]
        precondition(axis == 1)
        return Tensor(shape: [outer, 1, width]) { out in
            for t in 0..<outer { for j in 0..<width { out[t * width + j] = x.scalars[(t * rows + b) * width + j] } }
        }
    }

    /// The parameters of one layer and direction under the cells' names (`weight_ih_l0` → `weight_ih`,
    /// `ln_ih_l0.weight` → `ln_ih.weight`).
    private func cellStateDict(_ layer: any RecurrentLayer, suffix: String) -> [String: Tensor] {
        var dict: [String: Tensor] = [:]
        for (name, parameter) in layer.namedParameters {
            if name.hasSuffix(suffix) {
                dict[String(name.dropLast(suffix.count))] = parameter.value
            } else if let range = name.range(of: suffix + "."), name[range.upperBound...].firstIndex(of: "_") == nil {
                dict[name.replacingCharacters(in: range, with: ".")] = parameter.value
            }
        }
        return dict
    }

    /// The rule for comparing two runs of layer `c` over `T` steps (another batch, path, thread count
    /// or the cells): `Float32Tolerance.recurrentLayer`.
    private func tolerance(_ c: Config, T: Int, valueBound: Float = 1) -> Float32Tolerance {
        .recurrentLayer(c, sequenceLength: T, valueBound: valueBound)
    }

    private func withPath<T>(fast: Bool, threads: Int, _ body: () throws -> T) rethrows -> T {
        let savedFast = FastGEMM.isEnabled, savedThreads = ComputeThreads.count
        FastGEMM.isEnabled = fast
        ComputeThreads.count = threads
        defer { FastGEMM.isEnabled = savedFast; ComputeThreads.count = savedThreads }
        return try body()
    }

    /// Finite-difference check of Σ probe ⊙ (output, h_n, c_n) with respect to the input, the initial
    /// state and every parameter. `prepare` runs before each evaluation (to reseed mask draws).
    private func checkGradients(_ layer: any RecurrentLayer, _ c: Config, T: Int = 3, B: Int = 3, lengths: [Int]? = nil,
                                check: GradientCheck = GradientCheck(), prepare: @escaping () -> Void = {}, _ name: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        let (x, state) = inputs(c, T: T, B: B, seed: 31, requiresGrad: true)
        var rng = RandomGenerator(seed: 32)
        prepare()
        let reference = run(layer, x, state: state, lengths: lengths)
        let probes = [reference.output, reference.state.h, reference.state.c].compactMap { $0 }.map {
            Variable(.uniform(shape: $0.shape, low: -1, high: 1, using: &rng))
        }
        var variables: [(name: String, variable: Variable)] = [("input", x), ("h0", state.h)]
        if let c0 = state.c { variables.append(("c0", c0)) }
        variables += layer.namedParameters.map { ($0.name, $0.parameter) }
        let bad = check.mismatches(of: variables) {
            prepare()
            let r = run(layer, x, state: state, lengths: lengths)
            let outputs = [r.output, r.state.h, r.state.c].compactMap { $0 }
            return zip(outputs, probes).map { ($0 * $1).sum() }.dropFirst().reduce((outputs[0] * probes[0]).sum(), +)
        }
        XCTAssertTrue(bad.isEmpty, "\(name): \(bad.count) mismatches, first \(bad.prefix(6))", file: file, line: line)
    }

    // MARK: Defaults, names, validation

    func testDefaultsKeepPyTorchNamesAndTheFusedKernels() throws {
        var rng = RandomGenerator(seed: 1)
        let gru = try GRU(inputSize: 3, hiddenSize: 4, bidirectional: true, using: &rng)
        XCTAssertEqual(gru.namedParameters.map(\.name), ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                                         "weight_ih_l0_reverse", "weight_hh_l0_reverse",
                                                         "bias_ih_l0_reverse", "bias_hh_l0_reverse"])
        let c = gru.configuration
        XCTAssertTrue(c.resetAfter && !c.layerNorm && c.recurrentDropout == 0 && c.zoneout == 0 && c.mergeMode == .concatenate)
        XCTAssertFalse(c.usesCellPath(training: true))
        XCTAssertEqual(c.outputSize, 8)
        // Recurrent dropout is the identity in evaluation: the fused kernels run then.
        let dropping = Config(cell: .lstm, inputSize: 3, hiddenSize: 4, recurrentDropout: 0.3)
        XCTAssertTrue(dropping.usesCellPath(training: true))
        XCTAssertFalse(dropping.usesCellPath(training: false))
        XCTAssertFalse(Config(cell: .gru, inputSize: 3, hiddenSize: 4, resetAfter: false).usesCellPath(training: true))
        XCTAssertTrue(Config(cell: .gru, inputSize: 3, hiddenSize: 4, zoneout: 0.1).usesCellPath(training: false))
        XCTAssertEqual(Config(cell: .gru, inputSize: 3, hiddenSize: 4, bidirectional: true, mergeMode: .sum).outputSize, 4)

        // Layer norm adds gains 1 and shifts 0 after each direction's other parameters, drawing nothing.
        var a = RandomGenerator(seed: 2), b = RandomGenerator(seed: 2)
        let plain = try LSTM(inputSize: 3, hiddenSize: 4, peephole: true, using: &a)
        let normed = try LSTM(inputSize: 3, hiddenSize: 4, peephole: true, layerNorm: true, using: &b)
        XCTAssertEqual(normed.namedParameters.map(\.name), plain.namedParameters.map(\.name) + [
            "ln_ih_l0.weight", "ln_ih_l0.bias", "ln_hh_l0.weight", "ln_hh_l0.bias", "ln_c_l0.weight", "ln_c_l0.bias"])
        for ((_, p), (_, q)) in zip(plain.namedParameters, normed.namedParameters) { XCTAssertEqual(p.value, q.value) }
        let norms = normed.namedParameters.filter { $0.name.hasPrefix("ln_") }
        XCTAssertEqual(norms.map { $0.parameter.shape }, [[16], [16], [16], [16], [4], [4]])
        for (name, p) in norms { XCTAssertTrue(p.value.scalars.allSatisfy { $0 == (name.hasSuffix(".weight") ? 1 : 0) }, name) }
        let stacked = try GRU(inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, layerNorm: true, using: &rng)
        XCTAssertEqual(stacked.namedParameters.map(\.name).filter { $0.hasPrefix("ln_") },
                       ["ln_ih_l0.weight", "ln_ih_l0.bias", "ln_hh_l0.weight", "ln_hh_l0.bias",
                        "ln_ih_l0_reverse.weight", "ln_ih_l0_reverse.bias", "ln_hh_l0_reverse.weight", "ln_hh_l0_reverse.bias",
                        "ln_ih_l1.weight", "ln_ih_l1.bias", "ln_hh_l1.weight", "ln_hh_l1.bias",
                        "ln_ih_l1_reverse.weight", "ln_ih_l1_reverse.bias", "ln_hh_l1_reverse.weight", "ln_hh_l1_reverse.bias"])
    }

    func testInvalidOptionsThrowNamingTheArgument() {
        var rng = RandomGenerator(seed: 1)
        func rejects(_ argument: String, line: UInt = #line, _ body: () throws -> Void) {
            XCTAssertThrowsError(try body(), line: line) { error in
                XCTAssertEqual((error as? ConfigurationError)?.argument, argument, line: line)
                XCTAssertTrue(error.localizedDescription.contains(argument), error.localizedDescription, line: line)
            }
        }
        rejects("recurrentDropout") { _ = try GRU(inputSize: 3, hiddenSize: 4, recurrentDropout: 1.5, using: &rng) }
        rejects("recurrentDropout") { _ = try LSTM(inputSize: 3, hiddenSize: 4, recurrentDropout: -0.1, using: &rng) }
        rejects("zoneout") { _ = try RNN(inputSize: 3, hiddenSize: 4, zoneout: 2, using: &rng) }
        rejects("zoneout") { _ = try GRU(inputSize: 3, hiddenSize: 4, zoneout: .nan, using: &rng) }
        rejects("mergeMode") { _ = try GRU(inputSize: 3, hiddenSize: 4, mergeMode: .sum, using: &rng) }
        rejects("layerNorm") { _ = try LSTM(inputSize: 3, hiddenSize: 4, projSize: 2, layerNorm: true, using: &rng) }
        rejects("zoneout") { _ = try LSTM(inputSize: 3, hiddenSize: 4, projSize: 2, zoneout: 0.1, using: &rng) }
        rejects("recurrentDropout") { _ = try LSTM(inputSize: 3, hiddenSize: 4, projSize: 2, recurrentDropout: 0.1, using: &rng) }
        rejects("resetAfter") { _ = try makeRecurrentLayer(Config(cell: .lstm, inputSize: 3, hiddenSize: 4, resetAfter: false), using: &rng) }
        XCTAssertNoThrow(try GRU(inputSize: 3, hiddenSize: 4, bidirectional: true, mergeMode: .multiply, using: &rng))
    }

    // MARK: Padded batches

    static let paddedCases: [(String, Config)] = [
        ("rnn", Config(cell: .rnn(.tanh), inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true)),
        ("rnn relu batch-first", Config(cell: .rnn(.relu), inputSize: 3, hiddenSize: 5, batchFirst: true, bidirectional: true)),
        ("gru", Config(cell: .gru, inputSize: 3, hiddenSize: 5, numLayers: 2, batchFirst: true, bidirectional: true)),
        ("gru reset-before", Config(cell: .gru, inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, resetAfter: false)),
        ("lstm", Config(cell: .lstm, inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true)),
        ("lstm peephole proj", Config(cell: .lstm, inputSize: 3, hiddenSize: 5, numLayers: 2, batchFirst: true,
                                      bidirectional: true, projSize: 3, peephole: true)),
        ("gru reset-before layer-norm (cell path)", Config(cell: .gru, inputSize: 3, hiddenSize: 5, numLayers: 2,
                                                            bidirectional: true, resetAfter: false, layerNorm: true)),
    ]

    /// Runs `layer` on time-major `x` (permuted when the layer is batch-first); output time-major.
    private func run(_ layer: any RecurrentLayer, _ x: Variable, state: RecurrentLayerState?, lengths: [Int]?)
        -> (output: Variable, state: RecurrentLayerState) {
        guard layer.batchFirst else { return layer.run(x, state: state, lengths: lengths) }
        let r = layer.run(x.permuted([1, 0, 2]), state: state, lengths: lengths)
        return (r.output.permuted([1, 0, 2]), r.state)
    }

    func testPaddedBatchEqualsEachRowRunAloneOnBothPaths() throws {
        let lengths = [5, 2, 0, 4, 1, 5, 3, 2], T = 5, B = lengths.count
        let paths = FastGEMM.isSupported ? [(false, 1), (true, 2)] : [(false, 1)]
        for (fast, threads) in paths {
            try withPath(fast: fast, threads: threads) {
                for (name, c) in Self.paddedCases {
                    let what = "\(name) fast \(fast)"
                    let layer = try makeLayer(c)
                    let (x, state) = inputs(c, T: T, B: B, seed: 3)
                    let padded = run(layer, x, state: state, lengths: lengths)
                    let width = c.numDirections * c.outputHiddenSize
                    XCTAssertEqual(padded.output.shape, [T, B, width], what)
                    for (b, n) in lengths.enumerated() {
                        let out = row(padded.output.value, b)
                        for t in n..<T {
                            XCTAssertTrue(out.scalars[(t * width)..<((t + 1) * width)].allSatisfy { $0 == 0 }, "\(what): padding of row \(b)")
                        }
                        let h0 = row(state.h.value, b), c0 = state.c.map { row($0.value, b) }
                        if n == 0 {
                            // Nothing read: the final state is the initial one.
                            XCTAssertEqual(row(padded.state.h.value, b), h0, what)
                            if let c0 { XCTAssertEqual(row(padded.state.c!.value, b), c0, what) }
                            continue
                        }
                        let alone = run(layer, Variable(row(x.value, b, steps: n)),
                                        state: RecurrentLayerState(h: Variable(h0), c: c0.map { Variable($0) }), lengths: nil)
                        assertClose(row(out, 0, steps: n), alone.output.value, within: tolerance(c, T: T), "\(what): output of row \(b)")
                        assertClose(row(padded.state.h.value, b), alone.state.h.value, within: tolerance(c, T: T), "\(what): h_n of row \(b)")
                        if let cN = padded.state.c {
                            assertClose(row(cN.value, b), alone.state.c!.value, within: tolerance(c, T: T), "\(what): c_n of row \(b)")
                        }
                    }
                    // Full lengths are exactly the plain call.
                    let full = run(layer, x, state: state, lengths: Array(repeating: T, count: B))
                    XCTAssertEqual(full.output.value, run(layer, x, state: state, lengths: nil).output.value, what)
                }
            }
        }
    }

    func testPaddedBatchGradients() throws {
        let lengths = [3, 1, 2]
        for (name, c) in Self.paddedCases {
            var small = c
            small.hiddenSize = 4
            if small.projSize > 0 { small.projSize = 2 }
            // ε = 1e-3 where a ReLU kink or a layer norm's curvature (few features) spoils ε = 1e-2.
            let kinked = small.cell == .rnn(.relu) || small.layerNorm
            checkGradients(try makeLayer(small), small, lengths: lengths,
                           check: kinked ? GradientCheck(epsilon: 1e-3) : GradientCheck(), name)
        }
        // The padding of the input gets exactly zero gradient.
        let c = Self.paddedCases[4].1
        let layer = try makeLayer(c)
        let (x, state) = inputs(c, T: 3, B: 3, seed: 4, requiresGrad: true)
        let r = layer.run(x, state: state, lengths: lengths)
        ((r.output * r.output).sum() + r.state.h.sum() + r.state.c!.sum()).backward()
        let g = x.grad!
        for (b, n) in lengths.enumerated() {
            for t in 0..<3 {
                let block = g.scalars[((t * 3 + b) * 3)..<((t * 3 + b + 1) * 3)]
                XCTAssertEqual(block.allSatisfy { $0 == 0 }, t >= n, "row \(b) step \(t)")
            }
        }
    }

    func testPaddedBatchMatchesPyTorchPackedSequences() throws {
        // scripts/reference/packed_sequences.py: bidirectional two-layer torch.nn.GRU and torch.nn.LSTM
        // over pack_padded_sequence(enforce_sorted=False) of lengths 4, 1, 3 from a given initial state.
        let gruOutput: [Float] = [
            0.50169736, 0.052844657, 0.042887614, 0.20188643, -0.36624932, 0.65054079, 0.055522152, 0.25982262,
            -0.44629002, -0.23452727, -0.33427217, 0.56012427, 0.21235327, 0.52452946, -0.27190338, 0.14639425,
            -0.2931943, 0.45397731, 0.51669916, 0.19258704, -0.176349, 0.18092746, -0.42705406, 0.66504645,
            0, 0, 0, 0, 0, 0, 0.25082089, 0.51429741,
            -0.11415119, 0.16167526, -0.085733128, 0.28490765, 0.52742666, 0.28601274, -0.28528778, 0.18900175,
            -0.40467326, 0.6032704, 0, 0, 0, 0, 0, 0,
            0.19245972, 0.53696122, -0.048674686, 0.1046608, 0.099971061, 0.055650829, 0.49937555, 0.36340891,
            -0.096511873, 0.23687793, -0.29638136, 0.45500179, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0,
        ]
        let gruH: [Float] = [
            -0.073781206, -0.041337301, -0.56003427, 0.28500475, 0.17022765, -0.12161635, 0.076061858, -0.096118804,
            -0.42819575, -0.40695427, 0.29776875, 0.069302244, -0.28301236, 0.54189432, -0.32453682, -0.18215888,
            0.25919629, 0.098033167, 0.49937555, 0.36340891, -0.096511873, 0.055522152, 0.25982262, -0.44629002,
            0.19245972, 0.53696122, -0.048674686, 0.20188643, -0.36624932, 0.65054079, -0.23452727, -0.33427217,
            0.56012427, 0.14639425, -0.2931943, 0.45397731,
        ]
        let lstmOutput: [Float] = [
            -0.066306547, 0.031634983, -0.13552574, 0.12177956, -0.15941529, 0.17893486, 0.17434445, 0.29398879,
            0.04145594, 0.20386859, -0.19045943, -0.00067524959, -0.0010900211, 0.099934918, -0.064473864, 0.12452364,
            -0.075225359, 0.16146803, -0.0078825525, 0.18166021, -0.087458819, 0.10185657, -0.14079523, 0.19771676,
            0, 0, 0, 0, 0, 0, 0.0096046097, 0.20577238,
            -0.01689211, 0.113966, 0.036096163, 0.18132107, 0.019131339, 0.2643979, -0.053108555, 0.04120311,
            -0.055591272, 0.19449897, 0, 0, 0, 0, 0, 0,
            0.0068269902, 0.27103374, 0.0028269331, -0.024986599, 0.21449154, 0.24861627, 0.025063173, 0.3040262,
            -0.026604955, -0.1229616, 0.15269598, 0.21505874, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0,
        ]
        let lstmH: [Float] = [
            0.075916007, -0.096460652, -0.31542482, 0.20284294, 0.0010497224, -0.042465069, 0.088385456, -0.067854721,
            -0.21848513, -0.16647252, 0.086206796, -0.064957606, -0.29333266, 0.061334973, -0.3497872, -0.057943259,
            0.10638166, -0.039984735, 0.025063173, 0.3040262, -0.026604955, 0.17434445, 0.29398879, 0.04145594,
            0.0068269902, 0.27103374, 0.0028269331, 0.12177956, -0.15941529, 0.17893486, 0.20386859, -0.19045943,
            -0.00067524959, 0.12452364, -0.075225359, 0.16146803,
        ]
        let lstmC: [Float] = [
            0.16310729, -0.17978401, -0.64889147, 0.40840606, 0.0016121619, -0.088329387, 0.19530535, -0.11804706,
            -0.4613912, -0.34124661, 0.1477285, -0.12441436, -0.49506525, 0.14513915, -0.72770203, -0.09350936,
            0.29746242, -0.063944445, 0.061537562, 0.67320748, -0.058431314, 0.64833253, 0.58861322, 0.082992436,
            0.016727208, 0.5827744, 0.0064985497, 0.26223746, -0.26162422, 0.37553907, 0.38266693, -0.27753139,
            -0.0016327351, 0.25026733, -0.12205354, 0.35964332,
        ]
        typealias S = CellTestSupport
        let x = Variable(S.pattern([4, 3, 2], a: 5, b: 3, m: 9, scale: 0.25))
        let h0 = Variable(S.pattern([4, 3, 3], a: 3, b: 1, m: 7, scale: 0.2))
        let c0 = Variable(S.pattern([4, 3, 3], a: 11, b: 2, m: 13, scale: 0.15))
        let lengths = [4, 1, 3]
        for path in FastGEMM.isSupported ? [false, true] : [false] {
            try withPath(fast: path, threads: 2) {
                let gru = try GRU(inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true)
                try S.loadPattern(gru)
                let g = gru(x, state: h0, lengths: lengths)
                S.assertClose(g.output.value, gruOutput)
                S.assertClose(g.state.value, gruH)
                let lstm = try LSTM(inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true)
                try S.loadPattern(lstm)
                let l = lstm(x, state: LSTMState(h: h0, c: c0), lengths: lengths)
                S.assertClose(l.output.value, lstmOutput)
                S.assertClose(l.state.h.value, lstmH)
                S.assertClose(l.state.c.value, lstmC)
            }
        }
    }

    func testPaddedBatchMatchesTheGenericRunner() throws {
        // Fused LSTM with lengths, both directions, against runBidirectional over cells with its parameters.
        let c = Config(cell: .lstm, inputSize: 3, hiddenSize: 4, bidirectional: true)
        let layer = try makeLayer(c)
        let forward = try LSTMCell(inputSize: 3, hiddenSize: 4), backward = try LSTMCell(inputSize: 3, hiddenSize: 4)
        try forward.loadStateDict(cellStateDict(layer, suffix: "_l0"))
        try backward.loadStateDict(cellStateDict(layer, suffix: "_l0_reverse"))
        let lengths = [4, 2, 3]
        let (x, _) = inputs(c, T: 4, B: 3, seed: 5)
        let fused = layer.run(x, state: nil, lengths: lengths)
        let generic = runBidirectional(forward: forward, backward: backward, over: x, lengths: lengths)
        let rule = tolerance(c, T: 4)
        assertClose(fused.output.value, generic.output.value, within: rule, "output")
        assertClose(fused.state.h.value, Variable.stacked([generic.forwardState.h, generic.backwardState.h]).value, within: rule, "h_n")
        assertClose(fused.state.c!.value, Variable.stacked([generic.forwardState.c, generic.backwardState.c]).value, within: rule, "c_n")
    }

    // MARK: Merge modes

    func testMergeModesCombineTheTwoDirections() throws {
        let base = Config(cell: .gru, inputSize: 3, hiddenSize: 4, numLayers: 2, batchFirst: true, bidirectional: true)
        let concatenated = try makeLayer(base)
        let (x, state) = inputs(base, T: 4, B: 3, seed: 6)
        let input = x.permuted([1, 0, 2])
        let lengths = [4, 1, 3]
        let reference = concatenated.run(input, state: state, lengths: lengths)
        let f = reference.output.slice(0..<4, axis: 2).value, b = reference.output.slice(4..<8, axis: 2).value
        for mode in [BidirectionalMerge.sum, .mean, .multiply] {
            var c = base
            c.mergeMode = mode
            let layer = try makeLayer(c)
            try layer.loadStateDict(Dictionary(uniqueKeysWithValues: concatenated.stateDict().map { ($0.name, $0.tensor) }))
            let merged = layer.run(input, state: state, lengths: lengths)
            let expected: Tensor
            switch mode {
            case .sum: expected = f + b
            case .mean: expected = (f + b) * 0.5
            case .multiply: expected = f * b
            case .concatenate: expected = reference.output.value
            }
            XCTAssertEqual(merged.output.shape, [3, 4, 4], "\(mode)")
            // The same products as the concatenating layer, then one elementwise merge of two values within ±1.
            assertClose(merged.output.value, expected, within: Float32Tolerance(reductionLength: 2, magnitude: 2), "\(mode)")
            XCTAssertEqual(merged.state.h.value, reference.state.h.value, "\(mode): states are not merged")
            checkGradients(layer, c, T: 3, B: 2, lengths: [3, 2], "merge \(mode)")
        }
        // Unbatched input merges along its last axis.
        var c = base
        c.mergeMode = .mean
        let layer = try makeLayer(c)
        XCTAssertEqual(layer.run(x.slice(0..<1, axis: 1).reshaped([4, 3]), state: nil).output.shape, [4, 4])
    }

    // MARK: Cell-path options

    func testResetBeforeGRUEqualsTheCellRunner() throws {
        let c = Config(cell: .gru, inputSize: 3, hiddenSize: 4, bidirectional: true, resetAfter: false)
        let layer = try makeLayer(c)
        let forward = try GRUCell(inputSize: 3, hiddenSize: 4, resetAfter: false)
        let backward = try GRUCell(inputSize: 3, hiddenSize: 4, resetAfter: false)
        try forward.loadStateDict(cellStateDict(layer, suffix: "_l0"))
        try backward.loadStateDict(cellStateDict(layer, suffix: "_l0_reverse"))
        let (x, _) = inputs(c, T: 4, B: 3, seed: 8)
        let lengths = [2, 4, 3]
        let fused = layer.run(x, state: nil, lengths: lengths)
        let generic = runBidirectional(forward: forward, backward: backward, over: x, lengths: lengths)
        assertClose(fused.output.value, generic.output.value, within: tolerance(c, T: 4), "output")
        assertClose(fused.state.h.value, Variable.stacked([generic.forwardState, generic.backwardState]).value,
                    within: tolerance(c, T: 4), "h_n")
        // Not the reset-after layer of the same parameters.
        var after = c
        after.resetAfter = true
        let plain = try makeLayer(after)
        try plain.loadStateDict(Dictionary(uniqueKeysWithValues: layer.stateDict().map { ($0.name, $0.tensor) }))
        let difference = zip(plain.run(x, state: nil).output.value.scalars, layer.run(x, state: nil).output.value.scalars)
            .map { abs($0 - $1) }.max()!
        XCTAssertGreaterThan(difference, 0.01)
        checkGradients(try makeLayer(Config(cell: .gru, inputSize: 3, hiddenSize: 4, bias: false, resetAfter: false)),
                       Config(cell: .gru, inputSize: 3, hiddenSize: 4, bias: false, resetAfter: false), "reset-before no bias")
    }

    /// One direction of one layer as a cell over the layer's parameters (copied), run by `runSequence`.
    private func cellDirection(_ layer: any RecurrentLayer, _ c: Config, suffix: String, inputSize: Int) throws
        -> (run: (Variable, Variable, Variable?, [Int], Bool) -> (output: Variable, h: Variable, c: Variable?),
            parameters: [(name: String, parameter: Parameter)]) {
        let dict = cellStateDict(layer, suffix: suffix), H = c.hiddenSize
        switch c.cell {
        case .rnn(let nonlinearity):
            let cell = try RNNCell(inputSize: inputSize, hiddenSize: H, bias: c.bias, nonlinearity: nonlinearity)
            try cell.loadStateDict(dict)
            return ({ x, h0, _, lengths, reversed in
                let r = runSequence(cell, over: x, lengths: lengths, initialState: h0, reversed: reversed)
                return (r.output, r.state, nil)
            }, cell.namedParameters)
        case .gru:
            let cell = try GRUCell(inputSize: inputSize, hiddenSize: H, bias: c.bias, resetAfter: c.resetAfter)
            try cell.loadStateDict(dict)
            return ({ x, h0, _, lengths, reversed in
                let r = runSequence(cell, over: x, lengths: lengths, initialState: h0, reversed: reversed)
                return (r.output, r.state, nil)
            }, cell.namedParameters)
        case .lstm:
            let cell = try LSTMCell(inputSize: inputSize, hiddenSize: H, bias: c.bias, peephole: c.peephole)
            try cell.loadStateDict(dict)
            return ({ x, h0, c0, lengths, reversed in
                let r = runSequence(cell, over: x, lengths: lengths, initialState: LSTMState(h: h0, c: c0!), reversed: reversed)
                return (r.output, r.state.h, r.state.c)
            }, cell.namedParameters)
        }
    }

    func testPaddedBatchesOnTheFastPathEqualTheCellsWithGradients() throws {
        // Sizes that take the fast path (packed products, LSTM gate rows, two threads of 5 rows; hidden 37
        // leaves column tails): the fused kernels with lengths against stacked runSequence over cells,
        // values and every gradient, on both paths.
        let cases = [Config(cell: .gru, inputSize: 6, hiddenSize: 37, numLayers: 2, bidirectional: true, resetAfter: false),
                     Config(cell: .gru, inputSize: 6, hiddenSize: 37, numLayers: 2, bidirectional: true),
                     Config(cell: .lstm, inputSize: 6, hiddenSize: 37, numLayers: 2, bidirectional: true),
                     Config(cell: .lstm, inputSize: 6, hiddenSize: 37, bidirectional: true, peephole: true),
                     Config(cell: .rnn(.tanh), inputSize: 6, hiddenSize: 37, numLayers: 2, bidirectional: true)]
        let lengths = [5, 3, 5, 1, 4, 2, 5, 5, 3, 4], T = 5, B = lengths.count
        let paths = FastGEMM.isSupported ? [(false, 1), (true, 2)] : [(false, 1)]
        for (fast, threads) in paths {
            try withPath(fast: fast, threads: threads) {
                for c in cases {
                    let what = "\(c.cell) resetAfter \(c.resetAfter) peephole \(c.peephole) fast \(fast)"
                    let layer = try makeLayer(c)
                    let (x, state) = inputs(c, T: T, B: B, seed: 19, requiresGrad: true)
                    let fused = layer.run(x, state: state, lengths: lengths)

                    let h0 = state.h.unstacked(axis: 0), c0 = state.c?.unstacked(axis: 0)
                    var layerInput = x, hs: [Variable] = [], cs: [Variable] = []
                    var cellParameters: [(name: String, parameter: Parameter)] = []
                    for k in 0..<c.numLayers {
                        var outputs: [Variable] = []
                        for d in 0..<2 {
                            let suffix = c.suffix(layer: k, direction: d)
                            let direction = try cellDirection(layer, c, suffix: suffix, inputSize: c.layerInputSize(k))
                            let r = direction.run(layerInput, h0[2 * k + d], c0?[2 * k + d], lengths, d == 1)
                            outputs.append(r.output)
                            hs.append(r.h)
                            if let cN = r.c { cs.append(cN) }
                            cellParameters += direction.parameters.map { ($0.name + suffix, $0.parameter) }
                        }
                        layerInput = Variable.concatenated(outputs, axis: 2)
                    }
                    let reference = [layerInput, Variable.stacked(hs)] + (cs.isEmpty ? [] : [Variable.stacked(cs)])
                    let results = [fused.output, fused.state.h] + (fused.state.c.map { [$0] } ?? [])
                    for (i, (a, b)) in zip(results, reference).enumerated() {
                        assertClose(a.value, b.value, within: tolerance(c, T: T), "\(what): result \(i)")
                    }

                    var rng = RandomGenerator(seed: 20)
                    let probes = reference.map { Variable(.uniform(shape: $0.shape, low: -1, high: 1, using: &rng)) }
                    func loss(_ values: [Variable]) -> Variable { zip(values, probes).map { ($0 * $1).sum() }.reduce(Variable(Tensor(0)), +) }
                    loss(results).backward()
                    let fusedGrads = [x.grad!, state.h.grad!] + (state.c.map { [$0.grad!] } ?? [])
                    let fusedParameters = Dictionary(uniqueKeysWithValues: layer.namedParameters.map { ($0.name, $0.parameter.grad!) })
                    x.grad = nil
                    state.h.grad = nil
                    state.c?.grad = nil
                    loss(reference).backward()
                    let cellGrads = [x.grad!, state.h.grad!] + (state.c.map { [$0.grad!] } ?? [])
                    let gradientRule = Float32Tolerance.recurrentLayerGradients(c, sequenceLength: T, batchSize: B)
                    for (i, (a, b)) in zip(fusedGrads, cellGrads).enumerated() {
                        assertClose(a, b, within: gradientRule, "\(what): input/state gradient \(i)")
                    }
                    XCTAssertEqual(Set(fusedParameters.keys), Set(cellParameters.map(\.name)), what)
                    for (name, parameter) in cellParameters {
                        assertClose(fusedParameters[name]!, parameter.grad!, within: gradientRule, "\(what): d\(name)")
                    }
                }
            }
        }
    }

    func testLayerNormLayersEqualTheCells() throws {
        let lengths = [3, 1]
        for c in [Config(cell: .lstm, inputSize: 3, hiddenSize: 8, peephole: true, layerNorm: true),
                  Config(cell: .gru, inputSize: 3, hiddenSize: 8, layerNorm: true),
                  Config(cell: .rnn(.tanh), inputSize: 3, hiddenSize: 8, layerNorm: true)] {
            let layer = try makeLayer(c)
            // Move the gains and shifts away from 1 and 0 so that they matter.
            var rng = RandomGenerator(seed: 9)
            for (name, p) in layer.namedParameters where name.hasPrefix("ln_") {
                p.value = p.value + Tensor.uniform(shape: p.shape, low: -0.3, high: 0.3, using: &rng)
            }
            let (x, state) = inputs(c, T: 3, B: 2, seed: 10)
            let fused = layer.run(x, state: state, lengths: lengths)
            let h0 = state.h.reshaped([2, 8])
            let expected: (output: Variable, h: Variable, c: Variable?)
            switch c.cell {
            case .lstm:
                let cell = try LSTMCell(inputSize: 3, hiddenSize: 8, peephole: true, layerNorm: true)
                try cell.loadStateDict(cellStateDict(layer, suffix: "_l0"))
                let r = runSequence(cell, over: x, lengths: lengths, initialState: LSTMState(h: h0, c: state.c!.reshaped([2, 8])))
                expected = (r.output, r.state.h, r.state.c)
            case .gru:
                let cell = try GRUCell(inputSize: 3, hiddenSize: 8, layerNorm: true)
                try cell.loadStateDict(cellStateDict(layer, suffix: "_l0"))
                let r = runSequence(cell, over: x, lengths: lengths, initialState: h0)
                expected = (r.output, r.state, nil)
            case .rnn:
                let cell = try RNNCell(inputSize: 3, hiddenSize: 8, layerNorm: true)
                try cell.loadStateDict(cellStateDict(layer, suffix: "_l0"))
                let r = runSequence(cell, over: x, lengths: lengths, initialState: h0)
                expected = (r.output, r.state, nil)
            }
            let rule = tolerance(c, T: 3)
            assertClose(fused.output.value, expected.output.value, within: rule, "\(c.cell) output")
            assertClose(fused.state.h.value, expected.h.value.reshaped([1, 2, 8]), within: rule, "\(c.cell) h_n")
            if let cN = expected.c { assertClose(fused.state.c!.value, cN.value.reshaped([1, 2, 8]), within: rule, "\(c.cell) c_n") }
            checkGradients(layer, c, T: 3, B: 2, lengths: lengths, "layer norm \(c.cell)")
        }
    }

    func testRecurrentDropoutDrawsOneMaskPerSequenceAsTheVariationalCell() throws {
        let c = Config(cell: .gru, inputSize: 3, hiddenSize: 6, recurrentDropout: 0.4)
        let layer = try makeLayer(c)
        let cell = try GRUCell(inputSize: 3, hiddenSize: 6)
        try cell.loadStateDict(cellStateDict(layer, suffix: "_l0"))
        let variational = try VariationalDropoutCell(cell, recurrentProbability: 0.4)
        let (x, _) = inputs(c, T: 4, B: 3, seed: 11)
        let lengths = [4, 2, 3]
        GlobalRandom.seed(12)
        let fused = layer.run(x, state: nil, lengths: lengths)
        GlobalRandom.seed(12)
        let generic = runSequence(variational, over: x, lengths: lengths)
        // The mask scales the kept states by 1 / (1 − 0.4).
        let rule = tolerance(c, T: 4, valueBound: 1 / 0.6)
        assertClose(fused.output.value, generic.output.value, within: rule, "training output")
        assertClose(fused.state.h.value, generic.state.inner.value.reshaped([1, 3, 6]), within: rule, "training h_n")
        // In evaluation the layer is the plain fused GRU of the same parameters.
        let plain = try makeLayer(Config(cell: .gru, inputSize: 3, hiddenSize: 6))
        try plain.loadStateDict(Dictionary(uniqueKeysWithValues: layer.stateDict().map { ($0.name, $0.tensor) }))
        let gru = layer as! GRU
        gru.isTraining = false
        XCTAssertEqual(gru(x, lengths: lengths).output.value, (plain as! GRU)(x, lengths: lengths).output.value)
        gru.isTraining = true
        let difference = zip(fused.output.value.scalars, gru(x, lengths: lengths).output.value.scalars).map { abs($0 - $1) }.max()!
        XCTAssertGreaterThan(difference, 1e-3, "a new sequence draws a new mask")
        checkGradients(layer, c, lengths: [3, 2, 1], prepare: { GlobalRandom.seed(13) }, "recurrent dropout GRU")
        let lstm = Config(cell: .lstm, inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, recurrentDropout: 0.3)
        checkGradients(try makeLayer(lstm), lstm, prepare: { GlobalRandom.seed(14) }, "recurrent dropout LSTM")
    }

    func testZoneoutEqualsTheZoneoutCell() throws {
        let c = Config(cell: .lstm, inputSize: 3, hiddenSize: 5, zoneout: 0.3)
        let layer = try makeLayer(c) as! LSTM
        let cell = try LSTMCell(inputSize: 3, hiddenSize: 5)
        try cell.loadStateDict(cellStateDict(layer, suffix: "_l0"))
        let zoned = try ZoneoutCell(cell, probability: 0.3)
        let (x, state) = inputs(c, T: 4, B: 2, seed: 15)
        let initial = LSTMState(h: state.h.reshaped([2, 5]), c: state.c!.reshaped([2, 5]))
        for training in [true, false] {
            layer.isTraining = training
            zoned.isTraining = training
            GlobalRandom.seed(16)
            let fused = layer(x, state: LSTMState(h: state.h, c: state.c!), lengths: [4, 3])
            GlobalRandom.seed(16)
            let generic = runSequence(zoned, over: x, lengths: [4, 3], initialState: initial)
            assertClose(fused.output.value, generic.output.value, within: tolerance(c, T: 4), "training \(training): output")
            assertClose(fused.state.c.value, generic.state.c.value.reshaped([1, 2, 5]), within: tolerance(c, T: 4),
                        "training \(training): c_n")
        }
        layer.isTraining = true
        checkGradients(layer, c, prepare: { GlobalRandom.seed(17) }, "zoneout LSTM training")
        layer.isTraining = false
        checkGradients(layer, c, "zoneout LSTM evaluation")
        let gru = Config(cell: .gru, inputSize: 3, hiddenSize: 4, bidirectional: true, resetAfter: false, zoneout: 0.2)
        checkGradients(try makeLayer(gru), gru, lengths: [2, 3, 1], prepare: { GlobalRandom.seed(18) }, "zoneout reset-before GRU")
    }
}

/// Cost of the options, forward plus backward of one layer call (the figures in docs/architectures.md,
/// section 11). Timing needs a release build and a quiet machine, so it runs only when asked:
///
///     RECURRENT_FULL_RUNS=1 swift test -c release --filter FusedLayerOptionTimingTests
///
/// Asserts that the options that run in the fused kernels stay there: a padded batch costs no more
/// than the full one, and the reset-before GRU and a merged bidirectional output stay within 1.5× of
/// their PyTorch-default counterparts (the cell path is 3–6× slower, so a fallback would fail).
final class FusedLayerOptionTimingTests: XCTestCase {
    override func setUpWithError() throws {
        guard ProcessInfo.processInfo.environment["RECURRENT_FULL_RUNS"] == "1" else {
            throw XCTSkip("full runs: set RECURRENT_FULL_RUNS=1 (and build with -c release)")
        }
    }

    func testCostOfTheOptions() throws {
        typealias C = RecurrentLayerConfiguration
        let T = 50, B = 32, I = 64, H = 256
        var rng = RandomGenerator(seed: 1)
        let x = Variable(.uniform(shape: [T, B, I], low: -1, high: 1, using: &rng))
        let lengths = (0..<B).map { 10 + ($0 * 40) / (B - 1) }   // 10…50, mean 30
        func milliseconds(_ c: C, lengths: [Int]? = nil, repeats: Int = 7) throws -> Double {
            var r = RandomGenerator(seed: 2)
            let layer = try makeRecurrentLayer(c, using: &r)
            var best = Double.infinity
            for _ in 0..<repeats {
                let start = Date()
                let result = layer.run(x, state: nil, lengths: lengths)
                (result.output.sum() + result.state.h.sum()).backward()
                best = min(best, Date().timeIntervalSince(start) * 1000)
            }
            return best
        }
        var lines: [(String, Double)] = []
        func measure(_ name: String, _ c: C, lengths: [Int]? = nil, repeats: Int = 7) throws -> Double {
            let ms = try milliseconds(c, lengths: lengths, repeats: repeats)
            lines.append((name, ms))
            return ms
        }
        let lstm = try measure("LSTM", C(cell: .lstm, inputSize: I, hiddenSize: H))
        let lstmPadded = try measure("LSTM, lengths 10…50", C(cell: .lstm, inputSize: I, hiddenSize: H), lengths: lengths)
        let gru = try measure("GRU", C(cell: .gru, inputSize: I, hiddenSize: H))
        let gruPadded = try measure("GRU, lengths 10…50", C(cell: .gru, inputSize: I, hiddenSize: H), lengths: lengths)
        let resetBefore = try measure("GRU, resetAfter: false", C(cell: .gru, inputSize: I, hiddenSize: H, resetAfter: false))
        let bidirectional = try measure("GRU, bidirectional", C(cell: .gru, inputSize: I, hiddenSize: H, bidirectional: true))
        let merged = try measure("GRU, bidirectional, mergeMode: .mean",
                                 C(cell: .gru, inputSize: I, hiddenSize: H, bidirectional: true, mergeMode: .mean))
        _ = try measure("LSTM, recurrentDropout: 0.25 (training: cell path)",
                        C(cell: .lstm, inputSize: I, hiddenSize: H, recurrentDropout: 0.25), repeats: 3)
        _ = try measure("LSTM, zoneout: 0.1 (cell path)", C(cell: .lstm, inputSize: I, hiddenSize: H, zoneout: 0.1), repeats: 3)
        _ = try measure("LSTM, layerNorm: true (cell path)", C(cell: .lstm, inputSize: I, hiddenSize: H, layerNorm: true), repeats: 3)
        for (name, ms) in lines {
            print(String(format: "%@: %.1f ms (T %d, B %d, I %d, H %d; forward + backward, best of runs)", name, ms, T, B, I, H))
        }
        XCTAssertLessThanOrEqual(lstmPadded, 1.15 * lstm)
        XCTAssertLessThanOrEqual(gruPadded, 1.15 * gru)
        XCTAssertLessThanOrEqual(resetBefore, 1.5 * gru)
        XCTAssertLessThanOrEqual(merged, 1.5 * bidirectional)
    }
}
