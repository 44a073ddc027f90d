import Foundation
import XCTest
import Recurrent
import RecurrentTestSupport

/// The second-order network: the bilinear field by hand, slice selection against the full
/// contraction, gradients, and learning Tomita grammars with generalisation to longer strings.
final class ArchitectureSecondOrderTests: XCTestCase {
    typealias S = CellTestSupport

    /// stateSize 2, inputSize 2, weight[k, i, j] = 0.1·(4k + 2i + j + 1), bias[k, j] = 0.01·(2k + j + 1).
    private func handNetwork(readout: SecondOrderReadout = .stateNeuron(0)) throws -> SecondOrderRecurrentNetwork {
        let network = try SecondOrderRecurrentNetwork(stateSize: 2, inputSize: 2, readout: readout)
        var dict = ["weight": Tensor(shape: [2, 2, 2], scalars: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]),
                    "bias": Tensor(shape: [2, 2], scalars: [0.01, 0.02, 0.03, 0.04])]
        if readout == .linear {
            dict["readout.weight"] = Tensor(rows: [[1, -2]])
            dict["readout.bias"] = Tensor([0.5])
        }
        try network.loadStateDict(dict)
        return network
    }

    // MARK: Forward by hand

    func testBilinearFieldByHand() throws {
        let network = try handNetwork()
        let x = Variable(Tensor(shape: [1, 2], scalars: [0.5, 1]))
        // Symbol 1 selects w[:, :, 1]: v_0 = 0.2·0.5 + 0.4·1 + 0.02 = 0.52, v_1 = 0.6·0.5 + 0.8·1 + 0.04 = 1.14.
        S.assertClose(network.preactivation(symbols: [1], state: x).value, [0.52, 1.14])
        S.assertClose(network.preactivation(symbols: [0], state: x).value, [0.36, 0.98])
        // A general input u = (0.5, 2): v_k = Σ_i Σ_j w_kij x_i u_j + Σ_j b_kj u_j.
        // v_0 = 0.5·(0.05 + 0.4) + 1·(0.15 + 0.8) + (0.005 + 0.04) = 1.22
        // v_1 = 0.5·(0.25 + 1.2) + 1·(0.35 + 1.6) + (0.015 + 0.08) = 2.77
        let u = Variable(Tensor(shape: [1, 2], scalars: [0.5, 2]))
        S.assertClose(network.preactivation(u, state: x).value, [1.22, 2.77])
        S.assertClose(network(u, state: x).state.value, [1.22, 2.77].map { 1 / (1 + exp(-$0)) })

        // Two symbols from the zero state: the first step sees only the bias column of its symbol,
        // x(1) = σ(b[:, 1]) = σ([0.02, 0.04]); then symbol 0 gives the logit v_0(2) (response neuron 0).
        let x1 = [0.02, 0.04].map { 1 / (1 + exp(-$0)) }
        let v0 = 0.1 * x1[0] + 0.3 * x1[1] + 0.01
        S.assertClose(network.acceptanceLogits(strings: [[1, 0]]).value, [Float(v0)])
        XCTAssertEqual(network.accepts(strings: [[1, 0]]), [v0 > 0])
        // The linear readout: logit = [1, −2]·x(2) + 0.5.
        let linear = try handNetwork(readout: .linear)
        let x2 = [v0, 0.5 * x1[0] + 0.7 * x1[1] + 0.03].map { 1 / (1 + exp(-$0)) }
        S.assertClose(linear.acceptanceLogits(strings: [[1, 0]]).value, [Float(x2[0] - 2 * x2[1] + 0.5)])
    }

    func testSliceSelectionEqualsFullContractionOnOneHotInputs() throws {
        var rng = RandomGenerator(seed: 81)
        for readout in [SecondOrderReadout.stateNeuron(2), .linear] {
            let network = try SecondOrderRecurrentNetwork(stateSize: 4, inputSize: 3, readout: readout, using: &rng)
            let strings = (0..<5).map { _ in (0..<6).map { _ in rng.nextInt(below: 3) } }
            let x0 = Variable(.uniform(shape: [5, 4], low: 0, high: 1, using: &rng))
            var oneHot = Tensor(zeros: [6, 5, 3])
            for (b, string) in strings.enumerated() { for (t, symbol) in string.enumerated() { oneHot[t, b, symbol] = 1 } }
            S.assertClose(network.acceptanceLogits(inputs: Variable(oneHot), initialState: x0).value,
                          network.acceptanceLogits(strings: strings, initialState: x0).value.scalars)
            // And the runner over the cell ends in the same state as stepping through the symbols.
            var state = x0
            for t in 0..<6 { state = network(symbols: strings.map { $0[t] }, state: state) }
            S.assertClose(runSequence(network, over: Variable(oneHot), initialState: x0).state.value, state.value.scalars)
        }
    }

    // MARK: Gradients

    func testGradientsOfTheFullContraction() throws {
        var rng = RandomGenerator(seed: 82)
        for bias in [true, false] {
            let network = try SecondOrderRecurrentNetwork(stateSize: 3, inputSize: 2, bias: bias, readout: .linear, using: &rng)
            let input = S.leaf([4, 2, 2], &rng), x0 = S.leaf([2, 3], &rng, 0, 1)
            let probe = Variable(.uniform(shape: [2], low: -1, high: 1, using: &rng))
            let variables = [("inputs", input), ("initialState", x0)] + network.namedParameters.map { ($0.name, $0.parameter) }
            XCTAssertEqual(variables.count, bias ? 6 : 5)
            let bad = S.gradientMismatches(variables) {
                (network.acceptanceLogits(inputs: input, initialState: x0) * probe).sum()
            }
            XCTAssertTrue(bad.isEmpty, "bias \(bias): \(bad)")
        }
    }

    func testGradientsOfSliceSelection() throws {
        var rng = RandomGenerator(seed: 83)
        let network = try SecondOrderRecurrentNetwork(stateSize: 3, inputSize: 3, readout: .stateNeuron(1), using: &rng)
        // Larger weights than the default so that every slice matters visibly.
        network.weight.value = .uniform(shape: [3, 3, 3], low: -2, high: 2, using: &rng)
        let x0 = S.leaf([4, 3], &rng, 0, 1)
        let strings = [[0, 1, 2, 1, 0], [2, 2, 0, 1, 1], [1, 0, 0, 2, 2], [0, 0, 1, 1, 2]]
        let probe = Variable(.uniform(shape: [4], low: -1, high: 1, using: &rng))
        let probeState = Variable(.uniform(shape: [4, 3], low: -1, high: 1, using: &rng))
        let variables = [("initialState", x0)] + network.namedParameters.map { ($0.name, $0.parameter) }
        let bad = S.gradientMismatches(variables) {
            var state = x0
            for t in 0..<3 { state = network(symbols: strings.map { $0[t] }, state: state) }
            return (network.acceptanceLogits(strings: strings, initialState: x0) * probe).sum() + (state * probeState).sum()
        }
        XCTAssertTrue(bad.isEmpty, "\(bad)")
    }

    // MARK: Parameters and validation

    func testStateDictNamesShapesAndValidation() throws {
        var rng = RandomGenerator(seed: 84)
        let network = try SecondOrderRecurrentNetwork(stateSize: 5, inputSize: 3, readout: .linear, using: &rng)
        XCTAssertEqual(network.namedParameters.map(\.name), ["weight", "bias", "readout.weight", "readout.bias"])
        XCTAssertEqual(network.namedParameters.map(\.parameter.shape), [[5, 5, 3], [5, 3], [1, 5], [1]])
        XCTAssertTrue(network.weight.value.scalars.allSatisfy { abs($0) <= 1 / Float(5).squareRoot() })
        let plain = try SecondOrderRecurrentNetwork(stateSize: 4, inputSize: 2, bias: false)
        XCTAssertEqual(plain.namedParameters.map(\.name), ["weight"])
        XCTAssertEqual(plain.readout, .stateNeuron(0))

        GlobalRandom.seed(9)
        let a = try SecondOrderRecurrentNetwork(stateSize: 3, inputSize: 2, readout: .linear)
        var same = RandomGenerator(seed: 9)
        let b = try SecondOrderRecurrentNetwork(stateSize: 3, inputSize: 2, readout: .linear, using: &same)
        XCTAssertEqual(a.stateDict().map(\.tensor), b.stateDict().map(\.tensor))
        XCTAssertEqual(GlobalRandom.state, same)

        XCTAssertThrowsError(try SecondOrderRecurrentNetwork(stateSize: 0, inputSize: 2)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "stateSize")
        }
        XCTAssertThrowsError(try SecondOrderRecurrentNetwork(stateSize: 2, inputSize: 0)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.argument, "inputSize")
        }
        XCTAssertThrowsError(try SecondOrderRecurrentNetwork(stateSize: 2, inputSize: 2, readout: .stateNeuron(2))) { error in
            XCTAssertEqual(error.localizedDescription, "invalid readout: state neuron 2 is outside 0..<2")
        }
    }

    // MARK: Learning Tomita grammars

    /// Trains on balanced strings of length 0–10 and returns the network and the epochs used.
    ///
    /// Hyper-parameters (shared by the Tomita tests): `stateSize` 4, inputs {0, 1, end marker}
    /// one-hot, bias on, readout state neuron 0 (its last pre-activation is the logit), binary
    /// cross-entropy; Adam, learningRate 0.05. Each epoch draws `perClass` (8) accepted and as many
    /// rejected strings of every length 0–10 (uniform within each class) and takes one step per
    /// length. Every 5 epochs all 2047 strings of length ≤ 10 are classified; once all are right,
    /// 50 more epochs widen the margins. At most 300 epochs.
    static func trainOnTomita(_ grammar: TomitaGrammar, seed: UInt64, stateSize: Int = 4,
                              perClass: Int = 8) throws -> (network: SecondOrderRecurrentNetwork, epochs: Int) {
        var rng = RandomGenerator(seed: seed)
        let task = TomitaTask(grammar: grammar)
        let network = try SecondOrderRecurrentNetwork(stateSize: stateSize, inputSize: 3, using: &rng)
        let optimizer = try Adam(network.parameters, learningRate: 0.05)
        var everyShortString = [TomitaExample]()
        for length in 0...10 { everyShortString += try task.allExamples(length: length) }
        var epochs = 0, epochsSinceAllRight: Int?
        while epochs < 300 {
            epochs += 1
            let examples = try task.balancedExamples(lengths: 0...10, perClass: perClass, using: &rng)
            for group in TomitaTask.groupedByLength(examples) {
                optimizer.zeroGrad()
                let logits = network.acceptanceLogits(strings: group.examples.map { TomitaTask.encoded($0.string) })
                binaryCrossEntropyWithLogits(logits: logits, targets: Tensor(group.examples.map { $0.accepted ? 1 : 0 })).backward()
                optimizer.step()
            }
            if let since = epochsSinceAllRight {
                epochsSinceAllRight = since + 1
                if since + 1 == 50 { break }
            } else if epochs % 5 == 0 && errors(network, everyShortString) == 0 {
                epochsSinceAllRight = 0
            }
        }
        return (network, epochs)
    }

    /// How many examples the network misclassifies.
    static func errors(_ network: SecondOrderRecurrentNetwork, _ examples: [TomitaExample]) -> Int {
        TomitaTask.groupedByLength(examples).reduce(0) { count, group in
            let predicted = network.accepts(strings: group.examples.map { TomitaTask.encoded($0.string) })
            return count + zip(predicted, group.examples).filter { $0 != $1.accepted }.count
        }
    }

    /// Learns `grammar` from strings of length ≤ 10 (model and training strings from `seed`) and counts
    /// the errors on held-out longer strings: 50 accepted and 50 rejected strings of every length
    /// 11–20 (uniform within each class, where the class is not empty) and every string of length 11–13.
    static func tomita(_ grammar: TomitaGrammar, seed: UInt64) throws -> (epochs: Int, wrongSampled: Int, wrongExhaustive: Int) {
        let (network, epochs) = try trainOnTomita(grammar, seed: seed)
        let task = TomitaTask(grammar: grammar)
        var testRng = RandomGenerator(seed: 1000 + seed)
        let sampled = try task.balancedExamples(lengths: 11...20, perClass: 50, using: &testRng)
        var exhaustive = [TomitaExample]()
        for length in 11...13 { exhaustive += try task.allExamples(length: length) }
        let wrongSampled = errors(network, sampled), wrongExhaustive = errors(network, exhaustive)
        print("\(grammar) seed \(seed): \(epochs) epochs; errors on \(sampled.count) sampled strings of length 11-20: \(wrongSampled), "
              + "on all \(exhaustive.count) strings of length 11-13: \(wrongExhaustive)")
        return (epochs, wrongSampled, wrongExhaustive)
    }

    /// 100% accuracy on the held-out longer strings (every one of 20 seeds gets there: docs/learning-margins.md).
    private func assertLearns(_ grammar: TomitaGrammar, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        let run = try Self.tomita(grammar, seed: seed)
        XCTAssertLessThan(run.epochs, 300, "did not fit the training strings within the budget", file: file, line: line)
        XCTAssertEqual(run.wrongSampled, 0, file: file, line: line)
        XCTAssertEqual(run.wrongExhaustive, 0, file: file, line: line)
    }

    func testLearnsTomita1() throws { try assertLearns(.tomita1, seed: 1) }
    func testLearnsTomita2() throws { try assertLearns(.tomita2, seed: 1) }
    func testLearnsTomita4() throws { try assertLearns(.tomita4, seed: 1) }

    func testMarginsOverSeeds() throws {
        try LearningMargins.sweep("Tomita 1, 2, 4") { seed in
            try [TomitaGrammar.tomita1, .tomita2, .tomita4].flatMap { grammar -> [(String, Double)] in
                let run = try Self.tomita(grammar, seed: seed)
                return [("\(grammar) epochs", Double(run.epochs)), ("\(grammar) errors", Double(run.wrongSampled + run.wrongExhaustive))]
            }
        }
    }
}
