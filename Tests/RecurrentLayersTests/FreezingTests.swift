import XCTest
import Recurrent

/// Per-parameter freezing (`Variable.requiresGrad` on a leaf): no gradient for the frozen parameter,
/// the others' gradients unchanged and right by finite differences.
final class FreezingTests: XCTestCase {
    /// A 2-layer LSTM language model over 5 tokens; 2 × 8 tokens take the token-table input path
    /// (more than twice as many tokens as vocabulary entries), 1 × 4 tokens the plain one.
    private func makeModel(cell: LanguageModel.Cell = .lstm) throws -> LanguageModel {
        var rng = RandomGenerator(seed: 11)
        return try LanguageModel(.init(cell: cell, vocabularySize: 5, embeddingSize: 3, hiddenSize: 4, numLayers: 2), using: &rng)
    }

    private let tokens = [0, 3, 1, 4, 2, 2, 0, 1, 4, 4, 3, 0, 1, 2, 3, 1]
    private let targets = [3, 1, 4, 2, 2, 0, 1, 4, 4, 3, 0, 1, 2, 3, 1, 0]

    private func loss(_ model: LanguageModel, batchSize: Int = 2, sequenceLength: Int = 8) -> Variable {
        let n = batchSize * sequenceLength
        let (logits, _) = model(Array(tokens.prefix(n)), batchSize: batchSize, sequenceLength: sequenceLength)
        return crossEntropy(logits: logits, targets: Array(targets.prefix(n)))
    }

    private func gradients(_ model: LanguageModel, batchSize: Int, sequenceLength: Int) -> [String: [Float]?] {
        model.zeroGrad()
        loss(model, batchSize: batchSize, sequenceLength: sequenceLength).backward()
        return Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.parameter.grad?.scalars) })
    }

    func testFrozenParametersGetNoGradientAndTheOthersTheSameOnes() throws {
        for (batchSize, sequenceLength) in [(2, 8), (1, 4)] {
            for frozenName in ["embedding.weight", "lstm.weight_hh_l0", "lstm.bias_ih_l1", "head.weight"] {
                let model = try makeModel()
                let reference = gradients(model, batchSize: batchSize, sequenceLength: sequenceLength)
                let frozen = try XCTUnwrap(model.namedParameters.first { $0.name == frozenName }?.parameter)
                frozen.requiresGrad = false
                let grads = gradients(model, batchSize: batchSize, sequenceLength: sequenceLength)
                for (name, grad) in grads {
                    if name == frozenName {
                        XCTAssertNil(grad, "\(name) is frozen")
                    } else {
                        // Bit for bit: freezing only skips work, it changes no arithmetic of the others.
                        XCTAssertEqual(grad, reference[name]!, "\(name) with \(frozenName) frozen (\(batchSize)×\(sequenceLength))")
                    }
                }
                frozen.requiresGrad = true
                let again = gradients(model, batchSize: batchSize, sequenceLength: sequenceLength)
                XCTAssertEqual(again[frozenName]!, reference[frozenName]!, "unfrozen again")
            }
        }
    }

    /// Finite differences for every parameter that is not frozen, with the embedding frozen (the fused
    /// layer then skips its input gradient) and with a recurrent weight frozen.
    func testGradientsOfTheUnfrozenParametersMatchFiniteDifferences() throws {
        for cell in [LanguageModel.Cell.lstm, .gru] {
            for frozenName in ["embedding.weight", "\(cell.moduleName).weight_ih_l1"] {
                let model = try makeModel(cell: cell)
                model.namedParameters.first { $0.name == frozenName }!.parameter.requiresGrad = false
                let checked = model.namedParameters.filter { $0.parameter.requiresGrad }.map { (name: $0.name, variable: $0.parameter) }
                XCTAssertEqual(checked.count, model.namedParameters.count - 1)
                let mismatches = GradientCheck(maxElementsPerVariable: 12).mismatches(of: checked) { loss(model) }
                XCTAssertTrue(mismatches.isEmpty, "\(cell) with \(frozenName) frozen: \(mismatches.prefix(5))")
                XCTAssertNil(model.namedParameters.first { $0.name == frozenName }!.parameter.grad)
            }
        }
    }

    func testFreezingClearsTheGradientAndModulesFreezeWhole() throws {
        let model = try makeModel()
        loss(model).backward()
        XCTAssertNotNil(model.embedding.weight.grad)
        model.embedding.weight.requiresGrad = false
        XCTAssertNil(model.embedding.weight.grad, "freezing drops a stale gradient")
        model.recurrent.setFrozen(true)
        XCTAssertEqual(model.trainableParameters.count, 2, "only the head's weight and bias")
        model.zeroGrad()
        loss(model).backward()
        XCTAssertTrue(model.recurrent.parameters.allSatisfy { $0.grad == nil })
        XCTAssertNotNil(model.head.weight.grad)
        model.setFrozen(false)
        XCTAssertEqual(model.trainableParameters.count, model.parameters.count)
        // Freezing is for leaves; the state dict still holds frozen parameters.
        model.embedding.weight.requiresGrad = false
        XCTAssertEqual(model.stateDict().count, model.parameters.count)
    }

    /// Optimizers and clipping skip a frozen parameter even when it holds a gradient set by hand.
    func testOptimizersAndClippingSkipFrozenParameters() throws {
        for kind in ["adam", "sgd", "rmsprop", "adagrad"] {
            let a = Variable.parameter(Tensor(shape: [2], scalars: [1, 2]))
            let b = Variable.parameter(Tensor(shape: [2], scalars: [3, 4]))
            let parameters = [a, b]
            let optimizer: any Optimizer
            switch kind {
            case "adam": optimizer = try Adam(parameters, learningRate: 0.1)
            case "sgd": optimizer = try SGD(parameters, learningRate: 0.1)
            case "rmsprop": optimizer = try RMSprop(parameters, learningRate: 0.1)
            default: optimizer = try Adagrad(parameters, learningRate: 0.1)
            }
            b.requiresGrad = false
            a.grad = Tensor(shape: [2], scalars: [3, 4])
            b.grad = Tensor(shape: [2], scalars: [100, 100])
            let norm = clipGradientNorm(parameters, maxNorm: 1)
            XCTAssertEqual(norm, 5, accuracy: 1e-6, "\(kind): the frozen gradient does not count")
            XCTAssertEqual(b.grad!.scalars, [100, 100], "\(kind): the frozen gradient is not scaled")
            clipGradientValue(parameters, clipValue: 0.5)
            XCTAssertEqual(b.grad!.scalars, [100, 100])
            optimizer.step()
            XCTAssertEqual(b.value.scalars, [3, 4], "\(kind) must not move a frozen parameter")
            XCTAssertNotEqual(a.value.scalars, [1, 2], "\(kind) moves the others")
            if kind == "adam" || kind == "rmsprop" {   // lazy state: none for a parameter never stepped
                XCTAssertFalse(optimizer.stateDict().contains { $0.name.hasPrefix("state.1.") }, "\(kind): no state for the frozen one")
            }
        }
    }
}
