import XCTest
import Recurrent
import RecurrentTestSupport

/// The batch-1 stepper against the model's own forward pass, token by token with the state carried.
final class LanguageModelStepperTests: XCTestCase {
    private func model(_ cell: LanguageModel.Cell, hidden: Int, layers: Int, seed: UInt64) throws -> LanguageModel {
        var rng = RandomGenerator(seed: seed)
        let model = try LanguageModel(.init(cell: cell, vocabularySize: 11, embeddingSize: 6, hiddenSize: hidden,
                                            numLayers: layers), using: &rng)
        model.isTraining = false
        return model
    }


    func testStepsEqualTheModelForEveryCell() throws {
        let tokens = [3, 0, 10, 7, 7, 1, 4, 9, 2, 5, 6, 8]
        for cell in LanguageModel.Cell.allCases {
            // Hidden 40 and 70: panels with tails; 3 layers: layers above the first read W_ih.
            for (hidden, layers) in [(40, 3), (70, 1)] {
                let model = try model(cell, hidden: hidden, layers: layers, seed: 5)
                let stepper = LanguageModelStepper(model)
                var state: RecurrentLayerState?
                for (i, token) in tokens.enumerated() {
                    let (logits, next) = GradientMode.withoutGradients { model([token], batchSize: 1, sequenceLength: 1, state: state) }
                    state = next
                    stepper.step(token)
                    // Only the order of the Float additions in the products differs.
                    assertClose(stepper.logits, logits.value.scalars, within: .languageModel(model, sequenceLength: i + 1),
                                "\(cell) hidden \(hidden) layers \(layers) step \(i)")
                }
                let rule = Float32Tolerance.languageModel(model, sequenceLength: tokens.count)
                assertClose(stepper.state.h.value.scalars, state!.h.value.scalars, within: rule, "\(cell) final h")
                if let c = state!.c {
                    assertClose(try XCTUnwrap(stepper.state.c).value.scalars, c.value.scalars, within: rule, "\(cell) final c")
                }
                XCTAssertEqual(stepper.state.h.shape, [layers, 1, hidden])
            }
        }
    }

    /// Layer options beyond the cell names: a ReLU RNN runs on the step rows, layer norm and the
    /// reset-before GRU on the fallback path; all equal the model.
    func testStepsEqualTheModelForLayerOptions() throws {
        let tokens = [3, 0, 10, 7, 7, 1, 4, 9]
        let options: [(String, (inout RecurrentLayerConfiguration) -> Void, LanguageModel.Cell)] = [
            ("relu rnn", { $0.cell = .rnn(.relu) }, .rnn),
            ("layer-norm lstm", { $0.layerNorm = true }, .lstm),
            ("reset-before gru", { $0.resetAfter = false }, .gru),
        ]
        for (name, change, cell) in options {
            var configuration = LanguageModel.Configuration(cell: cell, vocabularySize: 11, embeddingSize: 6, hiddenSize: 24,
                                                            numLayers: 2)
            change(&configuration.recurrent)
            var rng = RandomGenerator(seed: 8)
            let model = try LanguageModel(configuration, using: &rng)
            model.isTraining = false
            let stepper = LanguageModelStepper(model)
            var state: RecurrentLayerState?
            for (i, token) in tokens.enumerated() {
                let (logits, next) = GradientMode.withoutGradients { model([token], batchSize: 1, sequenceLength: 1, state: state) }
                state = next
                stepper.step(token)
                assertClose(stepper.logits, logits.value.scalars, within: .languageModel(model, sequenceLength: i + 1), "\(name) step \(i)")
            }
        }
    }

    func testCarriedStateCanBeHandedInAndReset() throws {
        for cell in [LanguageModel.Cell.lstm, .gru] {
            let model = try model(cell, hidden: 33, layers: 2, seed: 6)
            // A prime of 5 tokens in one call, then one token at a time from its state.
            let (_, primed) = GradientMode.withoutGradients { model([1, 2, 3, 4, 5], batchSize: 1, sequenceLength: 5, state: nil) }
            let (expected, _) = GradientMode.withoutGradients { model([6], batchSize: 1, sequenceLength: 1, state: primed) }
            let stepper = LanguageModelStepper(model)
            stepper.state = primed
            stepper.step(6)
            assertClose(stepper.logits, expected.value.scalars, within: .languageModel(model, sequenceLength: 6), "\(cell) after a handed-in state")

            stepper.reset()
            stepper.step(6)
            let (fromZero, _) = GradientMode.withoutGradients { model([6], batchSize: 1, sequenceLength: 1, state: nil) }
            assertClose(stepper.logits, fromZero.value.scalars, within: .languageModel(model, sequenceLength: 1), "\(cell) after reset")
        }
    }

    /// Hidden 256: W_hh (1024 × 256) is large enough to be split over the worker threads; each output
    /// is still summed by one thread in the same order, so the logits are the same bits on any count.
    func testLogitsDoNotDependOnTheThreadCount() throws {
        let model = try model(.lstm, hidden: 256, layers: 2, seed: 9)
        let saved = ComputeThreads.count
        defer { ComputeThreads.count = saved }
        var runs: [[Float]] = []
        for threads in [1, 2, 3] {
            ComputeThreads.count = threads
            let stepper = LanguageModelStepper(model)
            var logits: [Float] = []
            for token in [1, 4, 1, 5, 9, 2, 6] {
                stepper.step(token)
                logits += stepper.logits
            }
            runs.append(logits)
        }
        XCTAssertEqual(runs[1], runs[0])
        XCTAssertEqual(runs[2], runs[0])
    }

    func testTheStepperIsASnapshotOfTheParameters() throws {
        let model = try model(.lstm, hidden: 16, layers: 1, seed: 7)
        let stepper = LanguageModelStepper(model)
        stepper.step(2)
        let before = stepper.logits
        model.head.bias!.value = Tensor(zeros: [11])
        stepper.reset()
        stepper.step(2)
        XCTAssertEqual(stepper.logits, before, "a stepper keeps the parameters it was made with")
        let fresh = LanguageModelStepper(model)
        fresh.step(2)
        XCTAssertNotEqual(fresh.logits, before)
    }
}
