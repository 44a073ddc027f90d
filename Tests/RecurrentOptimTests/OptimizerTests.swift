import XCTest
import RecurrentCore
import RecurrentAutodiff
import RecurrentOptim

/// The optimization problem of scripts/reference/optimizers.py: three parameters p0 (2, 3),
/// p1 (3), p2 (2); before step s every gradient is set to `scale · p + offset` (computed in
/// Float, one multiply and one add, as the script does in float32), except that p2 has a gradient
/// only on steps 2 and 4 (otherwise `nil`, so it is skipped).
enum QuadraticProblem {
    static let shapes: [[Int]] = [[2, 3], [3], [2]]
    static let initial: [[Float]] = [[0.5, -1.2, 0.3, 2.0, -0.7, 1.1], [0.25, -0.5, 1.5], [-0.8, 0.6]]
    static let scale: [[Float]] = [[1.0, 0.5, 2.0, 3.0, 0.25, 1.5], [0.75, 2.5, 1.25], [2.0, 0.5]]
    static let offset: [[Float]] = [[0.1, -0.2, 0.3, -0.4, 0.5, -0.6], [0.05, 0.0, -0.3], [0.2, -0.1]]
    static let p2GradientSteps: Set<Int> = [2, 4]

    static func makeParameters(values: [[Float]] = initial) -> [Parameter] {
        zip(shapes, values).map { Variable.parameter(Tensor(shape: $0, scalars: $1)) }
    }

    static func setGradients(_ parameters: [Parameter], step: Int) {
        for (i, p) in parameters.enumerated() {
            if i == 2 && !p2GradientSteps.contains(step) {
                p.grad = nil
            } else {
                p.grad = Tensor(shape: p.shape, scalars: zip(scale[i], p.value.scalars).enumerated().map { j, sp in
                    sp.0 * sp.1 + offset[i][j]
                })
            }
        }
    }

    /// All parameter values concatenated (11 numbers).
    static func flattened(_ parameters: [Parameter]) -> [Float] { parameters.flatMap(\.value.scalars) }

    /// Runs steps `steps` and returns the concatenated values after each one.
    @discardableResult
    static func run(_ optimizer: any Optimizer, steps: ClosedRange<Int>) -> [[Float]] {
        steps.map { step in
            setGradients(optimizer.parameters, step: step)
            optimizer.step()
            return flattened(optimizer.parameters)
        }
    }
}

final class OptimizerTests: XCTestCase {
    typealias Make = ([Parameter]) throws -> any Optimizer

    /// Runs 5 steps and compares every value after every step with PyTorch's trajectory.
    ///
    /// Tolerance: `|x − y| ≤ 1e-6 · max(|y|, 1)`, relative to the problem's scale (values start in
    /// 0.25...2). We do not reproduce PyTorch to the bit, and should not try: its CPU kernels fuse
    /// `a + alpha·b` into one FMA (in vector bodies, and in scalar tails where the compiler
    /// contracts), which rounds once where we round twice; scripts/reference/optimizers.py was
    /// checked by emulating both roundings (Nesterov SGD step 2: torch's value is reproduced
    /// exactly with FMAs in `g + momentum·buf` and `p − lr·d`). Such 1-ulp differences at O(1)
    /// magnitudes become large *relative* differences when a value passes near zero. Observed
    /// worst case over all trajectories: 1.7e-7 absolute; a formula error shows as ≥ 1e-4.
    private func assertTrajectory(_ make: Make, _ expected: [[Float]], tolerance: Float = 1e-6,
                                  file: StaticString = #filePath, line: UInt = #line) throws {
        let optimizer = try make(QuadraticProblem.makeParameters())
        let actual = QuadraticProblem.run(optimizer, steps: 1...5)
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for (step, (a, e)) in zip(actual, expected).enumerated() {
            XCTAssertEqual(a.count, e.count, file: file, line: line)
            for (j, (x, y)) in zip(a, e).enumerated() where !(abs(x - y) <= tolerance * max(abs(y), 1)) {
                XCTFail("step \(step + 1), value \(j): got \(x), PyTorch \(y) (difference \(x - y))", file: file, line: line)
            }
        }
    }

    // MARK: SGD

    func testSGDPlain() throws {
        try assertTrajectory({ try SGD($0, learningRate: 0.1) }, TorchTrajectories.sgdPlain)
    }

    func testSGDMomentum() throws {
        try assertTrajectory({ try SGD($0, learningRate: 0.1, momentum: 0.9) }, TorchTrajectories.sgdMomentum)
    }

    func testSGDMomentumWithDampening() throws {
        try assertTrajectory({ try SGD($0, learningRate: 0.1, momentum: 0.9, dampening: 0.5) },
                             TorchTrajectories.sgdDampening)
    }

    func testSGDNesterov() throws {
        try assertTrajectory({ try SGD($0, learningRate: 0.1, momentum: 0.9, nesterov: true) },
                             TorchTrajectories.sgdNesterov)
    }

    func testSGDWeightDecay() throws {
        try assertTrajectory({ try SGD($0, learningRate: 0.1, momentum: 0.5, weightDecay: 0.1) },
                             TorchTrajectories.sgdWeightDecay)
    }

    // MARK: Adam, AdamW

    func testAdamDefaults() throws {
        try assertTrajectory({ try Adam($0) }, TorchTrajectories.adamDefault)
    }

    func testAdamLargeStepsCustomBetasAndEpsilon() throws {
        try assertTrajectory({ try Adam($0, learningRate: 0.1, betas: (0.8, 0.99), epsilon: 1e-6) },
                             TorchTrajectories.adamLarge)
    }

    func testAdamL2WeightDecay() throws {
        try assertTrajectory({ try Adam($0, learningRate: 0.1, weightDecay: 0.1) }, TorchTrajectories.adamWeightDecay)
    }

    func testAdamAmsgrad() throws {
        try assertTrajectory({ try Adam($0, learningRate: 0.1, amsgrad: true) }, TorchTrajectories.adamAmsgrad)
    }

    func testAdamLowBetasUseTheOtherLerpBranch() throws {
        // 1 − β₁ = 0.7 ≥ 0.5: PyTorch's lerp switches to its second formula.
        try assertTrajectory({ try Adam($0, learningRate: 0.05, betas: (0.3, 0.6)) }, TorchTrajectories.adamLowBeta)
    }

    func testAdamWDefaults() throws {
        try assertTrajectory({ try AdamW($0) }, TorchTrajectories.adamWDefault)
    }

    func testAdamWLargeDecayWithAmsgrad() throws {
        try assertTrajectory({ try AdamW($0, learningRate: 0.1, weightDecay: 0.5, amsgrad: true) },
                             TorchTrajectories.adamWLarge)
    }

    func testAdamWithDecoupledFlagEqualsAdamW() throws {
        let a = try Adam(QuadraticProblem.makeParameters(), learningRate: 0.1, weightDecay: 0.5, decoupledWeightDecay: true)
        let b = try AdamW(QuadraticProblem.makeParameters(), learningRate: 0.1, weightDecay: 0.5)
        XCTAssertEqual(QuadraticProblem.run(a, steps: 1...5), QuadraticProblem.run(b, steps: 1...5))
    }

    // MARK: RMSprop

    func testRMSpropDefaults() throws {
        try assertTrajectory({ try RMSprop($0) }, TorchTrajectories.rmspropDefault)
    }

    func testRMSpropMomentum() throws {
        try assertTrajectory({ try RMSprop($0, alpha: 0.9, momentum: 0.8) }, TorchTrajectories.rmspropMomentum)
    }

    func testRMSpropCentered() throws {
        try assertTrajectory({ try RMSprop($0, alpha: 0.9, centered: true) }, TorchTrajectories.rmspropCentered)
    }

    func testRMSpropCenteredMomentumWeightDecay() throws {
        try assertTrajectory({
            try RMSprop($0, learningRate: 0.05, alpha: 0.7, epsilon: 1e-6, weightDecay: 0.2, momentum: 0.5, centered: true)
        }, TorchTrajectories.rmspropAll)
    }

    // MARK: Adagrad

    func testAdagradDefaults() throws {
        try assertTrajectory({ try Adagrad($0) }, TorchTrajectories.adagradDefault)
    }

    func testAdagradLearningRateDecay() throws {
        try assertTrajectory({ try Adagrad($0, learningRate: 0.1, learningRateDecay: 0.25) }, TorchTrajectories.adagradDecay)
    }

    func testAdagradWeightDecayAndInitialAccumulator() throws {
        try assertTrajectory({
            try Adagrad($0, learningRate: 0.1, learningRateDecay: 0.1, weightDecay: 0.3, initialAccumulatorValue: 0.5,
                        epsilon: 1e-6)
        }, TorchTrajectories.adagradAll)
    }

    // MARK: Defaults and validation

    func testDefaultsArePyTorchs() throws {
        let ps = QuadraticProblem.makeParameters()
        let sgd = try SGD(ps, learningRate: 0.5)
        XCTAssertEqual([sgd.momentum, sgd.dampening, sgd.weightDecay], [0, 0, 0])
        XCTAssertFalse(sgd.nesterov)
        let adam = try Adam(ps)
        XCTAssertEqual([adam.learningRate, adam.betas.0, adam.betas.1, adam.epsilon, adam.weightDecay], [1e-3, 0.9, 0.999, 1e-8, 0])
        XCTAssertFalse(adam.amsgrad)
        XCTAssertFalse(adam.decoupledWeightDecay)
        let adamW = try AdamW(ps)
        XCTAssertEqual([adamW.learningRate, adamW.betas.0, adamW.betas.1, adamW.epsilon, adamW.weightDecay], [1e-3, 0.9, 0.999, 1e-8, 1e-2])
        XCTAssertTrue(adamW.decoupledWeightDecay)
        let rms = try RMSprop(ps)
        XCTAssertEqual([rms.learningRate, rms.alpha, rms.epsilon, rms.weightDecay, rms.momentum], [1e-2, 0.99, 1e-8, 0, 0])
        XCTAssertFalse(rms.centered)
        let ada = try Adagrad(ps)
        XCTAssertEqual([ada.learningRate, ada.learningRateDecay, ada.weightDecay, ada.initialAccumulatorValue, ada.epsilon],
                       [1e-2, 0, 0, 0, 1e-10])
    }

    func testInvalidHyperParametersNameTheArgument() {
        let ps = QuadraticProblem.makeParameters()
        let cases: [(String, () throws -> Any)] = [
            ("learningRate", { try SGD(ps, learningRate: -0.1) }),
            ("learningRate", { try SGD(ps, learningRate: .nan) }),
            ("momentum", { try SGD(ps, learningRate: 0.1, momentum: -0.5) }),
            ("weightDecay", { try SGD(ps, learningRate: 0.1, weightDecay: -1) }),
            ("nesterov", { try SGD(ps, learningRate: 0.1, nesterov: true) }),
            ("nesterov", { try SGD(ps, learningRate: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true) }),
            ("learningRate", { try Adam(ps, learningRate: -1e-3) }),
            ("epsilon", { try Adam(ps, epsilon: -1e-8) }),
            ("betas", { try Adam(ps, betas: (1.0, 0.999)) }),
            ("betas", { try Adam(ps, betas: (-0.1, 0.999)) }),
            ("betas", { try Adam(ps, betas: (0.9, 1.0)) }),
            ("betas", { try AdamW(ps, betas: (0.9, .nan)) }),
            ("weightDecay", { try Adam(ps, weightDecay: -0.01) }),
            ("weightDecay", { try AdamW(ps, weightDecay: -0.01) }),
            ("learningRate", { try RMSprop(ps, learningRate: -1) }),
            ("alpha", { try RMSprop(ps, alpha: -0.9) }),
            ("epsilon", { try RMSprop(ps, epsilon: -1) }),
            ("momentum", { try RMSprop(ps, momentum: -1) }),
            ("weightDecay", { try RMSprop(ps, weightDecay: -1) }),
            ("learningRate", { try Adagrad(ps, learningRate: -1) }),
            ("learningRateDecay", { try Adagrad(ps, learningRateDecay: -1) }),
            ("weightDecay", { try Adagrad(ps, weightDecay: -1) }),
            ("initialAccumulatorValue", { try Adagrad(ps, initialAccumulatorValue: -1) }),
            ("epsilon", { try Adagrad(ps, epsilon: -1) }),
        ]
        for (index, (argument, make)) in cases.enumerated() {
            XCTAssertThrowsError(try make(), "case \(index)") { error in
                XCTAssertEqual((error as? ConfigurationError)?.argument, argument, "case \(index): \(error)")
                XCTAssertTrue(error.localizedDescription.contains(argument), "case \(index): \(error.localizedDescription)")
            }
        }
        // Edge values that PyTorch accepts.
        XCTAssertNoThrow(try SGD(ps, learningRate: 0, momentum: 0.9, dampening: 0, nesterov: true))
        XCTAssertNoThrow(try Adam(ps, learningRate: 0, betas: (0, 0), epsilon: 0))
        XCTAssertNoThrow(try RMSprop(ps, alpha: 0))
    }

    func testParameterListIsValidated() {
        let p = Variable.parameter(Tensor([1, 2]))
        let nonLeaf = p * p
        for (parameters, fragment) in [([], "empty"), ([p, p], "same parameter"), ([p, nonLeaf], "leaf")] as [([Parameter], String)] {
            XCTAssertThrowsError(try Adam(parameters)) { error in
                XCTAssertEqual((error as? ConfigurationError)?.argument, "parameters")
                XCTAssertTrue(error.localizedDescription.contains(fragment), error.localizedDescription)
            }
        }
    }

    // MARK: Behaviour

    func testParametersWithoutGradientAreSkippedAndGetNoState() throws {
        let ps = QuadraticProblem.makeParameters()
        let adam = try Adam(ps, learningRate: 0.1)
        QuadraticProblem.setGradients(ps, step: 1)   // p2 has no gradient on step 1
        adam.step()
        XCTAssertEqual(ps[2].value.scalars, QuadraticProblem.initial[2])
        let names = adam.stateDict().map(\.name)
        XCTAssertEqual(names, ["state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq",
                               "state.1.step", "state.1.exp_avg", "state.1.exp_avg_sq", "param_groups.0.lr"])
    }

    func testZeroGradClearsEveryGradient() throws {
        let ps = QuadraticProblem.makeParameters()
        let sgd = try SGD(ps, learningRate: 0.1)
        QuadraticProblem.setGradients(ps, step: 2)
        sgd.zeroGrad()
        XCTAssertTrue(ps.allSatisfy { $0.grad == nil })
        sgd.step()   // nothing to do
        XCTAssertEqual(QuadraticProblem.flattened(ps), QuadraticProblem.initial.flatMap { $0 })
    }

    func testStateDictNamesAndShapes() throws {
        let ps = QuadraticProblem.makeParameters()
        let cases: [(any Optimizer, [String])] = [
            (try SGD(ps, learningRate: 0.1, momentum: 0.9), ["momentum_buffer"]),
            (try Adam(ps, amsgrad: true), ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
            (try RMSprop(ps, momentum: 0.5, centered: true), ["step", "square_avg", "momentum_buffer", "grad_avg"]),
            (try Adagrad(ps), ["step", "sum"]),
        ]
        for (optimizer, keys) in cases {
            QuadraticProblem.run(optimizer, steps: 1...2)
            let dict = optimizer.stateDict()
            let expectedNames = (0..<3).flatMap { i in keys.map { "state.\(i).\($0)" } } + ["param_groups.0.lr"]
            XCTAssertEqual(dict.map(\.name), expectedNames, "\(type(of: optimizer))")
            for (name, tensor) in dict {
                let parts = name.split(separator: ".")
                if parts.last == "step" || parts.last == "lr" {
                    XCTAssertEqual(tensor.shape, [], name)
                } else {
                    XCTAssertEqual(tensor.shape, QuadraticProblem.shapes[Int(parts[1])!], name)
                }
            }
            // Steps are counted per parameter: p2 had a gradient only on step 2.
            let steps = dict.filter { $0.name.hasSuffix(".step") }.map(\.tensor.scalar)
            XCTAssertTrue(steps.isEmpty || steps == [2, 2, 1], "\(type(of: optimizer)): \(steps)")
        }
        // SGD without momentum keeps no state at all.
        let plain = try SGD(ps, learningRate: 0.1)
        QuadraticProblem.run(plain, steps: 1...2)
        XCTAssertEqual(plain.stateDict().map(\.name), ["param_groups.0.lr"])
        // Adagrad's state exists before the first step, as in PyTorch.
        let fresh = try Adagrad(QuadraticProblem.makeParameters(), initialAccumulatorValue: 0.25)
        XCTAssertEqual(fresh.stateDict().first { $0.name == "state.1.sum" }?.tensor.scalars, [0.25, 0.25, 0.25])
    }

    func testElementResultsDoNotDependOnTheirPositionInTheBuffer() throws {
        // The update loops run four elements at a time plus a one-element tail. One parameter of
        // 11 elements (two chunks of four, a tail of three) must end bit for bit where 11
        // one-element parameters (all tail) end.
        let values: [Float] = [0.5, -1.2, 0.3, 2.0, -0.7, 1.1, 0.25, -0.5, 1.5, -0.8, 0.6]
        let scale: [Float] = [1.0, 0.5, 2.0, 3.0, 0.25, 1.5, 0.75, 2.5, 1.25, 2.0, 0.5]
        let makers: [Make] = [
            { try SGD($0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.1, nesterov: true) },
            { try SGD($0, learningRate: 0.1, momentum: 0.9, dampening: 0.2) },
            { try Adam($0, learningRate: 0.1, weightDecay: 0.1, amsgrad: true) },
            { try AdamW($0, learningRate: 0.1, betas: (0.3, 0.9)) },
            { try RMSprop($0, weightDecay: 0.1, momentum: 0.5, centered: true) },
            { try RMSprop($0, alpha: 0.3) },
            { try Adagrad($0, learningRate: 0.1, learningRateDecay: 0.1, weightDecay: 0.1) },
        ]
        for (index, make) in makers.enumerated() {
            let whole = try make([Variable.parameter(Tensor(values))])
            let pieces = try make(values.map { Variable.parameter(Tensor([$0])) })
            for _ in 0..<4 {
                for optimizer in [whole, pieces] {
                    let current = optimizer.parameters.flatMap(\.value.scalars)
                    let grads = zip(scale, current).map { $0 * $1 - 0.1 }
                    if optimizer === whole {
                        whole.parameters[0].grad = Tensor(grads)
                    } else {
                        for (p, g) in zip(pieces.parameters, grads) { p.grad = Tensor([g]) }
                    }
                    optimizer.step()
                }
            }
            XCTAssertEqual(whole.parameters[0].value.scalars, pieces.parameters.flatMap(\.value.scalars), "optimizer \(index)")
        }
    }

    func testAmsgradMaximumPropagatesNaNLikeTorchMaximum() throws {
        // torch.maximum(max_exp_avg_sq, exp_avg_sq) is NaN where either is NaN; a plain `max`
        // would drop a NaN held in the running maximum. Elements 1 and 5 (in the SIMD chunk and in
        // the tail) carry NaN; the others must be unaffected.
        let p = Variable.parameter(Tensor([1, 2, 3, 4, 5, 6]))
        let adam = try Adam([p], learningRate: 0.1, amsgrad: true)
        p.grad = Tensor([1, 1, 1, 1, 1, 1])
        adam.step()
        var state = adam.stateDict()
        let index = state.firstIndex { $0.name == "state.0.max_exp_avg_sq" }!
        state[index].tensor.scalars[1] = .nan
        state[index].tensor.scalars[5] = .nan
        try adam.loadStateDict(state)
        adam.step()
        XCTAssertEqual(p.value.scalars.map(\.isNaN), [false, true, false, false, false, true])
    }

    // MARK: Checkpoints

    /// 3 steps, save, new optimizer over fresh parameters holding the saved values, load, 2 steps:
    /// bit-identical to 5 uninterrupted steps. The learning rate is changed before step 3 (as a
    /// scheduler would) and must come back from the state dict.
    private func assertResumeIsBitIdentical(_ make: Make, file: StaticString = #filePath, line: UInt = #line) throws {
        func lowerRate(_ optimizer: any Optimizer) { optimizer.learningRate *= 0.5 }

        let straight = try make(QuadraticProblem.makeParameters())
        QuadraticProblem.run(straight, steps: 1...2)
        lowerRate(straight)
        QuadraticProblem.run(straight, steps: 3...5)

        let first = try make(QuadraticProblem.makeParameters())
        QuadraticProblem.run(first, steps: 1...2)
        lowerRate(first)
        QuadraticProblem.run(first, steps: 3...3)
        let saved = first.stateDict()
        let savedValues = first.parameters.map(\.value.scalars)

        let resumed = try make(QuadraticProblem.makeParameters(values: savedValues))
        XCTAssertNotEqual(resumed.learningRate, first.learningRate, file: file, line: line)
        try resumed.loadStateDict(saved)
        XCTAssertEqual(resumed.learningRate, first.learningRate, file: file, line: line)
        QuadraticProblem.run(resumed, steps: 4...5)

        XCTAssertEqual(QuadraticProblem.flattened(resumed.parameters), QuadraticProblem.flattened(straight.parameters),
                       "\(type(of: straight))", file: file, line: line)
        let a = resumed.stateDict(), b = straight.stateDict()
        XCTAssertEqual(a.map(\.name), b.map(\.name), file: file, line: line)
        XCTAssertEqual(a.map(\.tensor), b.map(\.tensor), file: file, line: line)
        // The same through the dictionary form used by checkpoint files.
        let viaDictionary = try make(QuadraticProblem.makeParameters(values: savedValues))
        try viaDictionary.loadStateDict(Dictionary(uniqueKeysWithValues: saved.map { ($0.name, $0.tensor) }))
        QuadraticProblem.run(viaDictionary, steps: 4...5)
        XCTAssertEqual(QuadraticProblem.flattened(viaDictionary.parameters), QuadraticProblem.flattened(straight.parameters),
                       file: file, line: line)
    }

    func testResumeSGDIsBitIdentical() throws {
        try assertResumeIsBitIdentical { try SGD($0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.1, nesterov: true) }
        try assertResumeIsBitIdentical { try SGD($0, learningRate: 0.1, momentum: 0.9, dampening: 0.3) }
        try assertResumeIsBitIdentical { try SGD($0, learningRate: 0.1) }
    }

    func testResumeAdamIsBitIdentical() throws {
        try assertResumeIsBitIdentical { try Adam($0, learningRate: 0.1, weightDecay: 0.1, amsgrad: true) }
        try assertResumeIsBitIdentical { try AdamW($0, learningRate: 0.1, amsgrad: false) }
    }

    func testResumeRMSpropIsBitIdentical() throws {
        try assertResumeIsBitIdentical { try RMSprop($0, weightDecay: 0.1, momentum: 0.5, centered: true) }
        try assertResumeIsBitIdentical { try RMSprop($0) }
    }

    func testResumeAdagradIsBitIdentical() throws {
        try assertResumeIsBitIdentical {
            try Adagrad($0, learningRate: 0.1, learningRateDecay: 0.1, weightDecay: 0.1, initialAccumulatorValue: 0.1)
        }
    }

    func testLoadStateDictRejectsMismatchesAndLeavesTheOptimizerUnchanged() throws {
        let source = try Adam(QuadraticProblem.makeParameters(), learningRate: 0.1)
        QuadraticProblem.run(source, steps: 1...2)
        let good = source.stateDict()

        func replacing(_ name: String, with tensor: Tensor?) -> [(name: String, tensor: Tensor)] {
            good.compactMap { $0.name == name ? tensor.map { t in (name: name, tensor: t) } : $0 }
        }
        let cases: [(String, [(name: String, tensor: Tensor)], OptimizerStateError.Problem)] = [
            ("state.1.exp_avg", replacing("state.1.exp_avg", with: Tensor([1, 2])), .shapeMismatch(expected: [3], found: [2])),
            ("state.0.exp_avg_sq", replacing("state.0.exp_avg_sq", with: nil), .missing),
            ("state.2.step", replacing("state.2.step", with: nil), .missing),
            ("state.0.step", replacing("state.0.step", with: Tensor(1.5)), .invalidValue("")),
            ("state.0.step", replacing("state.0.step", with: Tensor(-1)), .invalidValue("")),
            ("state.0.step", replacing("state.0.step", with: Tensor([1, 1])), .shapeMismatch(expected: [], found: [2])),
            ("param_groups.0.lr", replacing("param_groups.0.lr", with: nil), .missing),
            ("param_groups.0.lr", replacing("param_groups.0.lr", with: Tensor(-0.1)), .invalidValue("")),
            ("state.3.exp_avg", good + [(name: "state.3.exp_avg", tensor: Tensor([1]))], .unexpected),
            ("state.0.max_exp_avg_sq", good + [(name: "state.0.max_exp_avg_sq", tensor: Tensor(zeros: [2, 3]))], .unexpected),
            ("state.0.momentum_buffer", good + [(name: "state.0.momentum_buffer", tensor: Tensor(zeros: [2, 3]))], .unexpected),
            ("state.1.exp_avg", good + [(name: "state.1.exp_avg", tensor: Tensor(zeros: [3]))], .duplicate),
        ]
        let target = try Adam(QuadraticProblem.makeParameters(), learningRate: 0.2)
        QuadraticProblem.run(target, steps: 1...1)
        let before = target.stateDict()
        for (entry, entries, problem) in cases {
            XCTAssertThrowsError(try target.loadStateDict(entries), entry) { error in
                guard let error = error as? OptimizerStateError else { return XCTFail("\(error)") }
                XCTAssertEqual(error.entry, entry)
                XCTAssertEqual(error.owner, "Adam")
                if case .invalidValue = problem, case .invalidValue = error.problem {} else {
                    XCTAssertEqual(error.problem, problem, entry)
                }
                XCTAssertTrue(error.localizedDescription.contains(entry), error.localizedDescription)
            }
            XCTAssertEqual(target.stateDict().map(\.tensor), before.map(\.tensor), "changed by a failed load of \(entry)")
        }
        // An amsgrad optimizer needs max_exp_avg_sq.
        let amsgrad = try Adam(QuadraticProblem.makeParameters(), amsgrad: true)
        XCTAssertThrowsError(try amsgrad.loadStateDict(good)) { error in
            XCTAssertEqual(error as? OptimizerStateError,
                           OptimizerStateError(owner: "Adam", entry: "state.0.max_exp_avg_sq", problem: .missing))
        }
        // Adagrad's state is required for every parameter.
        let adagrad = try Adagrad(QuadraticProblem.makeParameters())
        let adagradState = adagrad.stateDict().filter { !$0.name.hasPrefix("state.2.") }
        XCTAssertThrowsError(try adagrad.loadStateDict(adagradState)) { error in
            XCTAssertEqual((error as? OptimizerStateError)?.entry, "state.2.step")
        }
    }

    func testStepCountSaturatesAtTwoToTheTwentyFourLikePyTorch() throws {
        // PyTorch keeps `step` as a float32 tensor and adds 1: at 2^24 the sum rounds back to 2^24.
        let ps = QuadraticProblem.makeParameters()
        let adam = try Adam(ps)
        QuadraticProblem.run(adam, steps: 2...2)
        let big: Float = 16_777_216
        try adam.loadStateDict(adam.stateDict().map { $0.name.hasSuffix(".step") ? ($0.name, Tensor(big)) : $0 })
        QuadraticProblem.run(adam, steps: 2...2)
        XCTAssertEqual(adam.stateDict().filter { $0.name.hasSuffix(".step") }.map(\.tensor.scalar), [big, big, big])
    }

    // MARK: Convergence

    func testAdamSolvesLeastSquares() throws {
        // y = x · Wᵀ + b with batchSize 32, inputSize 4, outputSize 2, no noise; the fit starts at
        // zero. Loss 1.6 at the start; with lr 0.05 it falls to ~6e-5 after 100 steps and ~5e-10
        // after 200, so the bound below (1e-8 within 200 steps) leaves a margin of ~20x.
        var rng = RandomGenerator(seed: 7)
        let x = Variable(.uniform(shape: [32, 4], low: -1, high: 1, using: &rng))
        let trueWeight = Tensor(rows: [[0.5, -1.0, 2.0, 0.25], [-1.5, 0.75, 0.0, 1.0]])
        let trueBias = Tensor([0.3, -0.2])
        let y = Variable(x.value.matmul(trueWeight, transposeOther: true).addingBroadcast(trueBias))
        let weight = Variable.parameter(Tensor(zeros: [2, 4]))
        let bias = Variable.parameter(Tensor(zeros: [2]))
        let adam = try Adam([weight, bias], learningRate: 0.05)

        func loss() -> Variable {
            let residual = linear(x, weight: weight, bias: bias) - y
            return (residual * residual).mean()
        }
        let initialLoss = loss().value.scalar
        for _ in 0..<200 {
            adam.zeroGrad()
            loss().backward()
            adam.step()
        }
        let finalLoss = loss().value.scalar
        XCTAssertGreaterThan(initialLoss, 1)
        XCTAssertLessThan(finalLoss, 1e-8, "initial loss \(initialLoss)")
        XCTAssertTrue(weight.value.isClose(to: trueWeight, rtol: 0, atol: 1e-3), "\(weight.value)")
        XCTAssertTrue(bias.value.isClose(to: trueBias, rtol: 0, atol: 1e-3), "\(bias.value)")
    }
}

// BEGIN GENERATED: output of scripts/reference/optimizers.py (torch.optim, float32 hyper-parameters)
// MARK: optimizer trajectories (scripts/reference/optimizers.py, torch 2.15.0+cu132)
enum TorchTrajectories {
    static let sgdPlain: [[Float]] = [
        [0.439999998, -1.12, 0.210000008, 1.44000006, -0.732500017, 0.995000005, 0.226249993, -0.375, 1.34249997, -0.800000012, 0.600000024],
        [0.386000007, -1.04400003, 0.138000011, 1.0480001, -0.764187515, 0.905749977, 0.204281241, -0.28125, 1.20468748, -0.660000026, 0.580000043],
        [0.337400019, -0.971800029, 0.080400005, 0.773600101, -0.795082808, 0.829887509, 0.18396014, -0.2109375, 1.08410156, -0.660000026, 0.580000043],
        [0.293660015, -0.903210044, 0.0343200006, 0.581520081, -0.825205743, 0.765404403, 0.16516313, -0.158203125, 0.978588879, -0.548000038, 0.561000049],
        [0.254294008, -0.838049531, -0.00254400051, 0.447064042, -0.854575574, 0.71059376, 0.147775888, -0.118652344, 0.886265278, -0.548000038, 0.561000049],
    ]
    static let sgdMomentum: [[Float]] = [
        [0.439999998, -1.12, 0.210000008, 1.44000006, -0.732500017, 0.995000005, 0.226249993, -0.375, 1.34249997, -0.800000012, 0.600000024],
        [0.331999987, -0.972000003, 0.0570000075, 0.54400003, -0.793437541, 0.811249971, 0.18290624, -0.168750003, 1.0629375, -0.660000026, 0.580000043],
        [0.19159998, -0.770200014, -0.122099996, -0.38560003, -0.878445327, 0.584187448, 0.125178903, 0.0590624809, 0.708464026, -0.660000026, 0.580000043],
        [0.0360799804, -0.530070007, -0.288870007, -1.06656003, -0.982991219, 0.352203071, 0.0588358827, 0.249328092, 0.330879927, -0.422000021, 0.543000042],
        [-0.117496014, -0.267449498, -0.41118899, -1.31945598, -1.10250771, 0.15058668, -0.0102855265, 0.358235121, -0.0203057341, -0.422000021, 0.543000042],
    ]
    static let sgdDampening: [[Float]] = [
        [0.439999998, -1.12, 0.210000008, 1.44000006, -0.732500017, 0.995000005, 0.226249993, -0.375, 1.34249997, -0.800000012, 0.600000024],
        [0.358999997, -1.00999999, 0.0930000022, 0.740000069, -0.777593791, 0.855875015, 0.193890616, -0.215625003, 1.13184369, -0.660000026, 0.580000043],
        [0.263150007, -0.875750005, -0.0366000123, 0.0190000553, -0.833458245, 0.69647187, 0.154996291, -0.0452343822, 0.886512816, -0.660000026, 0.580000043],
        [0.158727512, -0.723031282, -0.164580017, -0.612749994, -0.898318052, 0.530773699, 0.111679032, 0.113771476, 0.625307977, -0.478000045, 0.55250001],
        [0.0518108904, -0.557508647, -0.278304011, -1.06941247, -0.970462859, 0.371837318, 0.0660055354, 0.242655322, 0.366141886, -0.478000045, 0.55250001],
    ]
    static let sgdNesterov: [[Float]] = [
        [0.386000007, -1.0480001, 0.129000008, 0.936000049, -0.761749983, 0.9005, 0.204875007, -0.262499988, 1.20074999, -0.800000012, 0.600000024],
        [0.245060012, -0.845640063, -0.0499200001, 0.0248800982, -0.84689188, 0.672807515, 0.146942824, -0.0365624987, 0.84499687, -0.534000039, 0.562000036],
        [0.0963926017, -0.610340238, -0.198758408, -0.516589522, -0.950431585, 0.457701623, 0.0826935619, 0.125085935, 0.489216685, -0.534000039, 0.562000036],
        [-0.0436672419, -0.358641893, -0.296170384, -0.662738562, -1.06752682, 0.284490407, 0.0180040374, 0.202927142, 0.177887723, -0.255680025, 0.511410058],
        [-0.162748992, -0.105507709, -0.337072909, -0.515990853, -1.19358981, 0.169310257, -0.0422002897, 0.20473817, -0.0595197976, -0.255680025, 0.511410058],
    ]
    static let sgdWeightDecay: [[Float]] = [
        [0.435000002, -1.10800004, 0.207000002, 1.42000008, -0.725499988, 0.984000027, 0.223749995, -0.370000005, 1.32749999, -0.800000012, 0.600000024],
        [0.34465, -0.975520015, 0.087030001, 0.729800045, -0.762857497, 0.828559995, 0.186606243, -0.208800003, 1.09203744, -0.65200001, 0.574000001],
        [0.251563489, -0.830748796, -0.0212312993, 0.198462009, -0.804836214, 0.6782704, 0.147172838, -0.0739119947, 0.856881142, -0.65200001, 0.574000001],
        [0.167348251, -0.688518286, -0.100903384, -0.0887302235, -0.84765631, 0.554602325, 0.109946445, 0.0127491308, 0.653624058, -0.461080015, 0.536559999],
        [0.0968323201, -0.556091905, -0.149549723, -0.164819971, -0.889398396, 0.464031935, 0.076987803, 0.0527649187, 0.493756264, -0.461080015, 0.536559999],
    ]
    static let adamDefault: [[Float]] = [
        [0.499000013, -1.199, 0.299000025, 1.99899995, -0.700999975, 1.09899998, 0.248999998, -0.499000013, 1.49899995, -0.800000012, 0.600000024],
        [0.498000056, -1.19800007, 0.298000097, 1.99800003, -0.701999962, 1.09800005, 0.248000085, -0.498000056, 1.49800003, -0.799000025, 0.599000037],
        [0.497000158, -1.19700015, 0.297000259, 1.9970001, -0.70299989, 1.09700012, 0.247000307, -0.497000188, 1.4970001, -0.799000025, 0.599000037],
        [0.496000379, -1.19600022, 0.29600054, 1.99600017, -0.703999817, 1.09600031, 0.246000722, -0.496000439, 1.49600017, -0.798000038, 0.598000109],
        [0.49500072, -1.19500029, 0.295001, 1.99500024, -0.704999685, 1.09500062, 0.245001391, -0.495000869, 1.49500036, -0.798000038, 0.598000109],
    ]
    static let adamLarge: [[Float]] = [
        [0.400000155, -1.10000014, 0.200000137, 1.89999998, -0.799999654, 1.00000012, 0.150000423, -0.400000066, 1.4000001, -0.800000012, 0.600000024],
        [0.30137226, -1.00039434, 0.102090068, 1.8003298, -0.899495304, 0.901108921, 0.0536735728, -0.301784605, 1.30052352, -0.700000107, 0.500000536],
        [0.20542492, -0.901477814, 0.00853005797, 1.70123136, -0.998096883, 0.804327011, -0.0341776907, -0.207190484, 1.20197773, -0.700000107, 0.500000536],
        [0.113827042, -0.803568244, -0.0775869861, 1.60296154, -1.09537411, 0.710885108, -0.106685452, -0.118668392, 1.10481381, -0.601108909, 0.402508855],
        [0.0286147222, -0.707003891, -0.152445197, 1.50578976, -1.19085824, 0.622251868, -0.156876549, -0.039253071, 1.00952506, -0.601108909, 0.402508855],
    ]
    static let adamWeightDecay: [[Float]] = [
        [0.399999976, -1.10000002, 0.200000018, 1.89999998, -0.800000012, 1, 0.149999976, -0.399999976, 1.39999998, -0.800000012, 0.600000024],
        [0.300904393, -1.00023246, 0.101458535, 1.80018079, -0.89934653, 0.900658369, 0.0528045222, -0.301187396, 1.30029488, -0.699999988, 0.5],
        [0.203634799, -0.900877059, 0.00608899444, 1.70067811, -0.997427404, 0.802592874, -0.0375039577, -0.204871237, 1.20112085, -0.699999988, 0.5],
        [0.109440923, -0.802134275, -0.0835825205, 1.60163975, -1.09345865, 0.706595898, -0.114551067, -0.112915389, 1.10274792, -0.600687265, 0.401514381],
        [0.019958131, -0.704226553, -0.16416654, 1.50322652, -1.18645453, 0.613664389, -0.171280771, -0.027814433, 1.00548267, -0.600687265, 0.401514381],
    ]
    static let adamAmsgrad: [[Float]] = [
        [0.400000006, -1.10000002, 0.200000003, 1.89999998, -0.800000012, 1, 0.150000006, -0.400000006, 1.39999998, -0.800000012, 0.600000024],
        [0.300882697, -1.00022006, 0.101418957, 1.80018127, -0.899711728, 0.90069443, 0.0526739135, -0.301187426, 1.30030048, -0.699999988, 0.5],
        [0.203541607, -0.900829315, 0.00590936095, 1.70068002, -0.998905241, 0.802743495, -0.0381465256, -0.204871267, 1.20114279, -0.699999988, 0.5],
        [0.10918308, -0.802015245, -0.0841032565, 1.60164464, -1.09731829, 0.707001686, -0.116473407, -0.112915412, 1.10280323, -0.600694418, 0.401742488],
        [0.0193814859, -0.703984797, -0.165362164, 1.50323629, -1.19465363, 0.614551663, -0.175470367, -0.0278144628, 1.00559676, -0.600694418, 0.401742488],
    ]
    static let adamLowBeta: [[Float]] = [
        [0.449999988, -1.1500001, 0.25, 1.95000005, -0.75, 1.05000007, 0.200000003, -0.449999988, 1.45000005, -0.800000012, 0.600000024],
        [0.400678635, -1.10023582, 0.200942978, 1.90020084, -0.799706757, 1.00057161, 0.15143767, -0.400834739, 1.40030313, -0.75, 0.550000012],
        [0.35232389, -1.05078447, 0.153284103, 1.85066652, -0.84902072, 0.951943755, 0.105163217, -0.352887243, 1.35101283, -0.75, 0.550000012],
        [0.30506444, -1.00165594, 0.107296154, 1.80140352, -0.897924244, 0.904203176, 0.0618899949, -0.30636403, 1.30214834, -0.700571537, 0.501083136],
        [0.258936286, -0.952821732, 0.063160345, 1.75238526, -0.946447432, 0.857352316, 0.022361666, -0.261375308, 1.25367963, -0.700571537, 0.501083136],
    ]
    static let adamWDefault: [[Float]] = [
        [0.498995006, -1.19898796, 0.298997015, 1.99897993, -0.700992942, 1.09898901, 0.248997495, -0.498995006, 1.49898493, -0.800000012, 0.600000024],
        [0.497990042, -1.19797599, 0.297994107, 1.99795997, -0.701985896, 1.09797812, 0.247995093, -0.497990042, 1.49796999, -0.798992038, 0.598994017],
        [0.496985197, -1.19696403, 0.296991289, 1.99694002, -0.70297879, 1.09696722, 0.246992826, -0.496985197, 1.49695504, -0.798992038, 0.598994017],
        [0.495980442, -1.19595206, 0.29598859, 1.99592006, -0.703971684, 1.09595644, 0.245990768, -0.495980471, 1.49594009, -0.797984064, 0.597988069],
        [0.494975805, -1.19494021, 0.294986099, 1.99490011, -0.704964519, 1.09494579, 0.244988978, -0.494975924, 1.49492526, -0.797984064, 0.597988069],
    ]
    static let adamWLarge: [[Float]] = [
        [0.375, -1.03999996, 0.184999987, 1.79999995, -0.764999986, 0.944999933, 0.137500003, -0.375, 1.32499993, -0.800000012, 0.600000024],
        [0.25752148, -0.888412178, 0.0775619373, 1.61045432, -0.826583505, 0.799160182, 0.0339804515, -0.257992476, 1.15941525, -0.659999967, 0.469999999],
        [0.148454443, -0.745124757, -0.0206706896, 1.43118787, -0.884811878, 0.663483024, -0.0563896745, -0.150502622, 1.00332892, -0.659999967, 0.469999999],
        [0.0490307137, -0.610056221, -0.107371725, 1.26206827, -0.939746022, 0.539425433, -0.127700433, -0.0547095612, 0.856912732, -0.528187394, 0.349324286],
        [-0.0392064787, -0.483152092, -0.179736614, 1.10300314, -0.991447031, 0.428877145, -0.174779922, 0.0267019905, 0.720425189, -0.528187394, 0.349324286],
    ]
    static let rmspropDefault: [[Float]] = [
        [0.399999976, -1.10000002, 0.199999973, 1.89999998, -0.800000012, 1, 0.149999991, -0.399999976, 1.39999998, -0.800000012, 0.600000024],
        [0.335791767, -1.03142309, 0.138413727, 1.83107948, -0.868011892, 0.934732437, 0.0933382958, -0.337339103, 1.33208501, -0.699999988, 0.5],
        [0.286769122, -0.97647202, 0.0929774791, 1.77566779, -0.922203362, 0.884263217, 0.0545722842, -0.290433139, 1.27802408, -0.699999988, 0.5],
        [0.246704757, -0.92956835, 0.0570717715, 1.7282393, -0.968238771, 0.842520595, 0.0262585711, -0.252825439, 1.23213816, -0.634732425, 0.439807057],
        [0.212753594, -0.8881284, 0.0276765339, 1.68623102, -1.00873554, 0.80672431, 0.00494878739, -0.221570909, 1.19180417, -0.634732425, 0.439807057],
    ]
    static let rmspropMomentum: [[Float]] = [
        [0.468377233, -1.16837728, 0.268377244, 1.96837723, -0.731622756, 1.06837726, 0.218377233, -0.468377233, 1.46837723, -0.800000012, 0.600000024],
        [0.420734704, -1.12035561, 0.220945135, 1.92032397, -0.77959305, 1.02064633, 0.171312973, -0.420860261, 1.42041564, -0.768377244, 0.568377256],
        [0.36479643, -1.06322253, 0.165688246, 1.86309326, -0.836566925, 0.964425623, 0.117277756, -0.365327001, 1.36346889, -0.768377244, 0.568377256],
        [0.305230111, -1.00123787, 0.107543446, 1.80091548, -0.898234904, 0.904278934, 0.0617516339, -0.306602061, 1.30185509, -0.720646322, 0.521052539],
        [0.245071322, -0.937069356, 0.0498188511, 1.73643446, -0.961888671, 0.843141973, 0.00862996839, -0.247877777, 1.23828971, -0.720646322, 0.521052539],
    ]
    static let rmspropCentered: [[Float]] = [
        [0.466666669, -1.16666675, 0.266666681, 1.9666667, -0.73333329, 1.06666672, 0.216666669, -0.466666669, 1.4666667, -0.800000012, 0.600000024],
        [0.441879541, -1.14143217, 0.242129162, 1.94139504, -0.75850749, 1.04177499, 0.192567587, -0.442028373, 1.44150281, -0.76666671, 0.566666722],
        [0.42042172, -1.11930883, 0.22104761, 1.91921711, -0.780541718, 1.02016056, 0.172154456, -0.420794487, 1.41948378, -0.76666671, 0.566666722],
        [0.400680035, -1.09872377, 0.201789945, 1.8985635, -0.80101496, 1.00021875, 0.153766885, -0.401340306, 1.39902961, -0.741774976, 0.542256951],
        [0.381917, -1.07894182, 0.183620781, 1.87869978, -0.820663095, 0.98121202, 0.136677593, -0.382929355, 1.37940443, -0.741774976, 0.542256951],
    ]
    static let rmspropAll: [[Float]] = [
        [0.390891403, -1.09089136, 0.190891311, 1.89089108, -0.809107661, 0.990891278, 0.14089188, -0.390891254, 1.39089119, -0.800000012, 0.600000024],
        [0.245954439, -0.939619005, 0.050201457, 1.73888552, -0.948674679, 0.843481541, 0.00906378403, -0.247985974, 1.24016058, -0.690891206, 0.490891814],
        [0.0991460159, -0.767959714, -0.0788326561, 1.56464469, -1.07305586, 0.686552465, -0.0853327811, -0.109675206, 1.07045925, -0.690891206, 0.490891814],
        [-0.0220117625, -0.584578514, -0.163057253, 1.37493932, -1.14894605, 0.540819049, -0.117675655, -0.00721789617, 0.89198947, -0.543936133, 0.349394679],
        [-0.0993875787, -0.396752298, -0.196051985, 1.17365396, -1.17337084, 0.426065743, -0.104045227, 0.0462361872, 0.714579642, -0.543936133, 0.349394679],
    ]
    static let adagradDefault: [[Float]] = [
        [0.49000001, -1.19000006, 0.290000021, 1.99000001, -0.709999979, 1.09000003, 0.239999995, -0.49000001, 1.49000001, -0.800000012, 0.600000024],
        [0.482988596, -1.18295121, 0.283008844, 1.98294795, -0.717043698, 1.08298004, 0.233043268, -0.483000726, 1.48295712, -0.790000021, 0.590000033],
        [0.47729373, -1.17720687, 0.27734071, 1.97719944, -0.722781181, 1.07727373, 0.227420777, -0.477321863, 1.47722077, -0.790000021, 0.590000033],
        [0.472381681, -1.17223954, 0.272458702, 1.97222733, -0.727741003, 1.07234895, 0.222590163, -0.472427815, 1.47226226, -0.782980025, 0.583019018],
        [0.468003124, -1.1678021, 0.268112212, 1.96778488, -0.732170463, 1.06795681, 0.218298659, -0.468068421, 1.46783423, -0.782980025, 0.583019018],
    ]
    static let adagradDecay: [[Float]] = [
        [0.400000006, -1.10000002, 0.200000018, 1.89999998, -0.800000012, 1, 0.150000006, -0.400000006, 1.39999998, -0.800000012, 0.600000024],
        [0.348785251, -1.04528475, 0.150884777, 1.84500921, -0.854262412, 0.947936714, 0.104825288, -0.350024402, 1.34581518, -0.699999988, 0.5],
        [0.315570772, -1.00860095, 0.119767115, 1.80805528, -0.890500844, 0.913876593, 0.077622205, -0.318047225, 1.30965316, -0.699999988, 0.5],
        [0.291632891, -0.981594324, 0.0977071449, 1.78081286, -0.917117655, 0.889184952, 0.0590670258, -0.295216411, 1.28310347, -0.647936702, 0.451999992],
        [0.273272723, -0.960566044, 0.0810016394, 1.7595824, -0.9378106, 0.870164216, 0.0454536118, -0.277830571, 1.26246834, -0.647936702, 0.451999992],
    ]
    static let adagradAll: [[Float]] = [
        [0.427239358, -1.11461365, 0.218625322, 1.90064406, -0.716052532, 1.01100302, 0.209577441, -0.410739303, 1.4055903, -0.800000012, 0.600000024],
        [0.378461003, -1.05766857, 0.168553725, 1.83834374, -0.729379833, 0.954795659, 0.179597303, -0.356982589, 1.34569252, -0.708171904, 0.552662551],
        [0.342117012, -1.0147804, 0.132997185, 1.79237688, -0.740648627, 0.913693011, 0.156288013, -0.318890959, 1.30145919, -0.708171904, 0.552662551],
        [0.313467234, -0.980501831, 0.105928577, 1.75599301, -0.750320911, 0.881511271, 0.13756004, -0.289812088, 1.26648808, -0.651380539, 0.517019391],
        [0.290052235, -0.952089667, 0.084422648, 1.72599864, -0.758727789, 0.855260551, 0.122139424, -0.266603947, 1.23770607, -0.651380539, 0.517019391],
    ]
}
// END GENERATED
