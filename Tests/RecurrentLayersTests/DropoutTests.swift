import XCTest
import Recurrent
import RecurrentTestSupport

final class DropoutTests: XCTestCase {
    // MARK: The dropout op

    func testIdentityWhenNotTrainingOrProbabilityZero() {
        var rng = RandomGenerator(seed: 1)
        let x = Variable(.uniform(shape: [3, 4], low: -1, high: 1, using: &rng), requiresGrad: true)
        let before = rng
        XCTAssertTrue(dropout(x, probability: 0.5, training: false, using: &rng) === x)
        XCTAssertTrue(dropout(x, probability: 0, training: true, using: &rng) === x)
        XCTAssertTrue(dropout(x, probability: 0.5, training: false) === x)
        XCTAssertEqual(rng, before, "no mask is drawn")
    }

    func testProbabilityOneGivesZerosAndZeroGradient() {
        var rng = RandomGenerator(seed: 2)
        let x = Variable(.uniform(shape: [5, 3], low: 1, high: 2, using: &rng), requiresGrad: true)
        let y = dropout(x, probability: 1, training: true, using: &rng)
        XCTAssertEqual(y.value, Tensor(zeros: [5, 3]))
        y.sum().backward()
        XCTAssertEqual(x.grad, Tensor(zeros: [5, 3]))
    }

    func testInvertedScalingKeepsTheExpectedValue() {
        var rng = RandomGenerator(seed: 3)
        let n = 20_000, p: Float = 0.3
        let y = dropout(Variable(Tensor(repeating: 1, shape: [n])), probability: p, training: true, using: &rng).value
        let dropped = y.scalars.filter { $0 == 0 }.count
        XCTAssertEqual(Double(dropped) / Double(n), 0.3, accuracy: 0.015)   // ~5 standard deviations
        XCTAssertTrue(y.scalars.allSatisfy { $0 == 0 || $0 == 1 / (1 - p) })
        XCTAssertEqual(Double(y.mean()), 1, accuracy: 0.03)
    }

    func testGradientIsTheMaskAndChecksWithAFixedSeed() {
        var rng = RandomGenerator(seed: 4)
        let x = Variable(.uniform(shape: [4, 5], low: -1, high: 1, using: &rng), requiresGrad: true)
        let probe = Variable(.uniform(shape: [4, 5], low: -1, high: 1, using: &rng))
        var maskRng = RandomGenerator(seed: 5)
        let mask = Tensor.dropoutMask(shape: [4, 5], probability: 0.4, using: &maskRng)
        XCTAssertTrue(mask.scalars.contains(0) && mask.scalars.contains { $0 > 1 }, "the mask drops and keeps")
        let bad = GradientCheck().mismatches(of: [("x", x)]) {
            var rng = RandomGenerator(seed: 5)   // the same mask on every evaluation
            return (dropout(x, probability: 0.4, training: true, using: &rng).tanh() * probe).sum()
        }
        XCTAssertTrue(bad.isEmpty, "\(bad)")
        var again = RandomGenerator(seed: 5)
        dropout(x, probability: 0.4, training: true, using: &again).sum().backward()
        XCTAssertEqual(x.grad, mask)
    }

    func testGlobalOverloadFollowsTheGlobalSeed() {
        let x = Variable(Tensor(repeating: 1, shape: [50]))
        GlobalRandom.seed(6)
        let a = dropout(x, probability: 0.5, training: true).value
        GlobalRandom.seed(6)
        let b = dropout(x, probability: 0.5, training: true).value
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, dropout(x, probability: 0.5, training: true).value)
    }

    // MARK: Dropout between the layers of RNN / LSTM / GRU

    func testEvaluationModeIsDeterministicAndEqualsNoDropout() throws {
        var rng = RandomGenerator(seed: 7)
        let withDropout = try LSTM(inputSize: 3, hiddenSize: 4, numLayers: 3, dropout: 0.5, bidirectional: true, using: &rng)
        let without = try LSTM(inputSize: 3, hiddenSize: 4, numLayers: 3, bidirectional: true, using: &rng)
        try without.loadStateDict(Dictionary(uniqueKeysWithValues: withDropout.stateDict().map { ($0.name, $0.tensor) }))
        withDropout.isTraining = false
        let x = Variable(.uniform(shape: [5, 2, 3], low: -1, high: 1, using: &rng))
        let a = withDropout(x), b = withDropout(x), reference = without(x)
        XCTAssertEqual(a.output.value, b.output.value)
        XCTAssertEqual(a.output.value, reference.output.value)
        XCTAssertEqual(a.state.h.value, reference.state.h.value)
    }

    func testTrainingWithDropoutDiffersBetweenCallsAndFromEvaluation() throws {
        var rng = RandomGenerator(seed: 8)
        let gru = try GRU(inputSize: 3, hiddenSize: 4, numLayers: 2, dropout: 0.5, using: &rng)
        let x = Variable(.uniform(shape: [5, 2, 3], low: -1, high: 1, using: &rng))
        let first = gru(x).output.value, second = gru(x).output.value
        XCTAssertNotEqual(first, second)
        gru.isTraining = false
        XCTAssertNotEqual(first, gru(x).output.value)
        // A single layer has no boundary to drop at (dropout applies after every layer but the last).
        let single = try RNN(inputSize: 3, hiddenSize: 4, dropout: 0.5, using: &rng)
        let training = single(x).output.value
        single.isTraining = false
        XCTAssertEqual(training, single(x).output.value)
    }

    func testLayerDropoutIsInvertedDropoutOfTheLowerLayerOutput() throws {
        // A 2-layer bidirectional LSTM with dropout p equals layer 0, then dropout(p) drawn from
        // GlobalRandom, then layer 1, each run separately with the same parameters and seed.
        var rng = RandomGenerator(seed: 9)
        let p: Float = 0.4
        let stacked = try LSTM(inputSize: 3, hiddenSize: 4, numLayers: 2, dropout: p, bidirectional: true, using: &rng)
        let lower = try LSTM(inputSize: 3, hiddenSize: 4, bidirectional: true, using: &rng)
        let upper = try LSTM(inputSize: 8, hiddenSize: 4, bidirectional: true, using: &rng)
        let dict = Dictionary(uniqueKeysWithValues: stacked.stateDict().map { ($0.name, $0.tensor) })
        func layer(_ k: Int) -> [String: Tensor] {
            Dictionary(uniqueKeysWithValues: dict.compactMap { name, tensor in
                let marker = "_l\(k)"
                guard let range = name.range(of: marker) else { return nil }
                return (name.replacingCharacters(in: range, with: "_l0"), tensor)
            })
        }
        try lower.loadStateDict(layer(0))
        try upper.loadStateDict(layer(1))
        let x = Variable(.uniform(shape: [4, 3, 3], low: -1, high: 1, using: &rng))
        GlobalRandom.seed(10)
        let fused = stacked(x).output.value
        GlobalRandom.seed(10)
        let dropped = dropout(lower(x).output, probability: p, training: true)
        let composed = upper(dropped).output.value
        // Layer 1 reads the kept outputs of layer 0 scaled by 1 / (1 − p).
        assertClose(fused, composed, within: .recurrentLayer(stacked.configuration, sequenceLength: 4, valueBound: 1 / (1 - p)))
        XCTAssertTrue(dropped.value.scalars.contains(0))
    }

    func testDropoutOneCutsTheLowerLayersOff() throws {
        var rng = RandomGenerator(seed: 11)
        let rnn = try RNN(inputSize: 3, hiddenSize: 4, numLayers: 2, dropout: 1, using: &rng)
        let x1 = Variable(.uniform(shape: [4, 2, 3], low: -1, high: 1, using: &rng), requiresGrad: true)
        let x2 = Variable(.uniform(shape: [4, 2, 3], low: -1, high: 1, using: &rng))
        let y = rnn(x1).output
        XCTAssertEqual(y.value, rnn(x2).output.value, "the top layer sees only zeros")
        y.sum().backward()
        XCTAssertEqual(x1.grad, Tensor(zeros: [4, 2, 3]))
        XCTAssertEqual(rnn.namedParameters[0].parameter.grad, Tensor(zeros: [4, 3]), "weight_ih_l0 gets no gradient")
        XCTAssertGreaterThan(rnn.namedParameters[5].parameter.grad!.norm(), 0, "weight_hh_l1 does")
    }

    func testGradientsCheckThroughLayerDropoutWithAFixedSeed() throws {
        var rng = RandomGenerator(seed: 12)
        let lstm = try LSTM(inputSize: 3, hiddenSize: 4, numLayers: 2, batchFirst: true, dropout: 0.3,
                            bidirectional: true, using: &rng)
        let gru = try GRU(inputSize: 3, hiddenSize: 4, numLayers: 2, dropout: 0.3, using: &rng)
        let x = Variable(.uniform(shape: [2, 4, 3], low: -1, high: 1, using: &rng), requiresGrad: true)
        let probeL = Variable(.uniform(shape: [2, 4, 8], low: -1, high: 1, using: &rng))
        let probeG = Variable(.uniform(shape: [2, 4, 4], low: -1, high: 1, using: &rng))
        let variables = [("x", x)] + lstm.namedParameters.map { ("lstm." + $0.name, $0.parameter) }
            + gru.namedParameters.map { ("gru." + $0.name, $0.parameter) }
        let bad = GradientCheck().mismatches(of: variables) {
            GlobalRandom.seed(13)   // the same masks on every evaluation
            let a = lstm(x).output
            let b = gru(x.reshaped([4, 2, 3])).output.reshaped([2, 4, 4])
            return (a * probeL).sum() + (b * probeG).sum()
        }
        XCTAssertTrue(bad.isEmpty, "\(bad.prefix(8))")
        // And the masks really act: another seed gives another loss.
        GlobalRandom.seed(13)
        let l1 = (lstm(x).output * probeL).sum().value.scalar
        GlobalRandom.seed(14)
        let l2 = (lstm(x).output * probeL).sum().value.scalar
        XCTAssertNotEqual(l1, l2)
    }

    /// A layer's own generator: its masks depend only on it (not on anything else drawn in the
    /// process) and `GlobalRandom` is left alone, on the fused path and on the cell path (zoneout,
    /// recurrent dropout, dropout between layers).
    func testLayersDrawTheirMasksFromTheirOwnGenerator() throws {
        var rng = RandomGenerator(seed: 21)
        let fused = try LSTM(inputSize: 3, hiddenSize: 5, numLayers: 2, dropout: 0.5, using: &rng)
        let cellPath = try GRU(inputSize: 3, hiddenSize: 5, numLayers: 2, dropout: 0.5, recurrentDropout: 0.3, zoneout: 0.2,
                               using: &rng)
        let x = Variable(.uniform(shape: [6, 2, 3], low: -1, high: 1, using: &rng))
        for (name, layer) in [("fused LSTM", fused as any RecurrentLayer), ("cell-path GRU", cellPath)] {
            func run(generator: RandomGenerator, globalSeed: UInt64) -> (output: [Float], global: RandomGenerator, after: RandomGenerator) {
                if let lstm = layer as? LSTM { lstm.dropoutGenerator = generator }
                if let gru = layer as? GRU { gru.dropoutGenerator = generator }
                GlobalRandom.seed(globalSeed)
                let before = GlobalRandom.state
                let output = layer.run(x, state: nil).output.value.scalars
                XCTAssertEqual(GlobalRandom.state, before, "\(name): GlobalRandom untouched")
                let after = (layer as? LSTM)?.dropoutGenerator ?? (layer as? GRU)?.dropoutGenerator
                return (output, before, try! XCTUnwrap(after))
            }
            let a = run(generator: RandomGenerator(seed: 5), globalSeed: 1)
            let b = run(generator: RandomGenerator(seed: 5), globalSeed: 2)
            let c = run(generator: RandomGenerator(seed: 6), globalSeed: 1)
            XCTAssertEqual(a.output, b.output, "\(name): same own generator, different global seed → same masks")
            XCTAssertNotEqual(a.output, c.output, "\(name): another own generator → other masks")
            XCTAssertNotEqual(a.after, RandomGenerator(seed: 5), "\(name): the masks were drawn from the own generator")
        }
    }
}
