import XCTest
import Recurrent
import RecurrentTestSupport

/// bf16 and int8 weights (`ReducedPrecisionMatrix`, the C kernels of every family) and the
/// reduced-precision `LanguageModelStepper`.
final class ReducedPrecisionTests: XCTestCase {
    private func randomValues(_ count: Int, _ rng: inout RandomGenerator, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in scale * (Float(rng.next() % 2_000_001) / 1_000_000 - 1) }
    }

    /// Runs `body` once per family this CPU supports, then restores the current family.
    private func forEachFamily(_ body: (KernelFamily) throws -> Void) rethrows {
        let saved = KernelFamily.current
        defer { KernelFamily.current = saved }
        for family in KernelFamily.supported {
            KernelFamily.current = family
            try body(family)
        }
    }

    // MARK: - Kernels

    /// Every family's product against a Double sum over the *stored* (quantized) weights: the only
    /// differences left are the Float32 roundings of the accumulation, bounded by k·2⁻²⁴·Σ|x w|
    /// (`Float32Tolerance` with each column's own Σ|x w|). Shapes with n and k off every multiple of
    /// 8, 16 and 32, both storage orders, beta 0 and 1, and guard cells past n that must stay untouched.
    func testKernelsMatchADoubleReferenceOfTheStoredWeights() throws {
        var rng = RandomGenerator(seed: 11)
        let shapes = [(1, 1), (7, 5), (31, 3), (33, 17), (65, 2), (70, 129), (97, 300), (130, 61)]
        var checked = 0
        forEachFamily { family in
            for precision in [WeightPrecision.bfloat16, .int8] {
                for (n, k) in shapes {
                    for transposed in [true, false] {
                        let b = randomValues(n * k, &rng, scale: 2)
                        let matrix = b.withUnsafeBufferPointer {
                            ReducedPrecisionMatrix(precision, transposed: transposed, k: k, n: n, b: $0.baseAddress!,
                                                   ldb: transposed ? k : n)
                        }
                        let x = randomValues(k, &rng)
                        let y0 = randomValues(n, &rng)
                        for beta: Float in [0, 1] {
                            let guardValue: Float = -12345
                            var y = y0 + [Float](repeating: guardValue, count: 40)
                            y.withUnsafeMutableBufferPointer { matrix.multiplyVector(x, beta: beta, into: $0.baseAddress!, threads: 1) }
                            var exacts: [Double] = [], magnitudes: [Double] = []
                            for j in 0..<n {
                                var exact = beta == 1 ? Double(y0[j]) : 0, magnitude = beta == 1 ? abs(Double(y0[j])) : 0
                                for kk in 0..<k {
                                    let w = Double(matrix.element(kk, j))
                                    // The stored value is within one quantization step of the original.
                                    let original = Double(transposed ? b[j * k + kk] : b[kk * n + j])
                                    let step = precision == .int8 ? Double(matrix.scale(j)) / 2 : abs(original) / 256
                                    XCTAssertLessThanOrEqual(abs(w - original), step * (1 + 1e-4) + 1e-30)
                                    exact += Double(x[kk]) * w
                                    magnitude += abs(Double(x[kk]) * w)
                                }
                                exacts.append(exact)
                                magnitudes.append(magnitude)
                            }
                            assertClose(Array(y[..<n]), exacts, within: Float32Tolerance(reductionLength: k + 1), magnitudes: magnitudes,
                                        "\(family) \(precision) n \(n) k \(k) trans \(transposed) beta \(beta)")
                            XCTAssertEqual(Array(y[n...]), [Float](repeating: guardValue, count: 40),
                                           "\(family) \(precision) n \(n) k \(k): wrote past n")
                            checked += 1
                        }
                    }
                }
            }
        }
        XCTAssertEqual(checked, KernelFamily.supported.count * 2 * shapes.count * 2 * 2)
    }

    /// A matrix large enough to be split over two threads (k·n ≥ 2¹⁸) gives the same bits as one
    /// thread: each thread computes whole panel pairs with the same arithmetic.
    func testThreadedProductsEqualOneThread() throws {
        var rng = RandomGenerator(seed: 12)
        let n = 333, k = 800
        let weight = randomValues(n * k, &rng)
        let x = randomValues(k, &rng)
        forEachFamily { family in
            for precision in [WeightPrecision.bfloat16, .int8] {
                let matrix = ReducedPrecisionMatrix(precision, weight: weight, n: n, k: k)
                var one = [Float](repeating: 0, count: n), two = [Float](repeating: 0, count: n)
                one.withUnsafeMutableBufferPointer { matrix.multiplyVector(x, beta: 0, into: $0.baseAddress!, threads: 1) }
                two.withUnsafeMutableBufferPointer { matrix.multiplyVector(x, beta: 0, into: $0.baseAddress!, threads: 2) }
                XCTAssertEqual(one, two, "\(family) \(precision)")
                XCTAssertGreaterThan(one.map(abs).max()!, 1, "a real product, not zeros")
            }
        }
    }

    /// bf16 keeps the top 16 bits after rounding to nearest, ties to even (1 + 2⁻⁸ is halfway between
    /// 1 and 1 + 2⁻⁷).
    func testBFloat16RoundsToNearestEven() {
        let cases: [(Float, Float)] = [
            (1, 1),
            (1 + 0x1p-8, 1),                                  // tie, down to the even 1.0
            (1 + 3 * 0x1p-8, 1 + 0x1p-6),                     // tie, up to the even 1 + 2⁻⁶
            (1 + 0x1p-8 + 0x1p-20, 1 + 0x1p-7),               // just above the tie
            (-(1 + 0x1p-8), -1),
            (3.14159274, 3.140625),
            (-0.1, -0.10009765625),
            (65535, 65536),
            (Float.greatestFiniteMagnitude, .infinity),       // rounds past the largest bf16
            (0x1p-130, 0x1p-130),                             // a subnormal with few bits stays exact
        ]
        let values = cases.map(\.0)
        let matrix = ReducedPrecisionMatrix(.bfloat16, weight: values, n: values.count, k: 1)
        for (j, (input, expected)) in cases.enumerated() {
            XCTAssertEqual(matrix.element(0, j), expected, "bf16(\(input))")
        }
        let nan = ReducedPrecisionMatrix(.bfloat16, weight: [.nan], n: 1, k: 1)
        XCTAssertTrue(nan.element(0, 0).isNaN)
    }

    /// int8: one scale per output row of W (column of op(B)) = max |w| / 127, q = round(w / scale).
    func testInt8ScalesAndRounding() {
        let rows: [[Float]] = [
            [0.5, -1.27, 0.3, 0.014],
            [0, 0, 0, 0],
            [2, 0.5, -0.9, 0.0079],
        ]
        let matrix = ReducedPrecisionMatrix(.int8, weight: rows.flatMap { $0 }, n: 3, k: 4)
        XCTAssertEqual(matrix.scale(0), Float(1.27) / 127)
        XCTAssertEqual(matrix.scale(1), 0)
        XCTAssertEqual(matrix.scale(2), Float(2) / 127)
        let q0: [Float] = [50, -127, 30, 1], q2: [Float] = [127, 32, -57, 1]   // 0.5 / (2/127) = 31.75 → 32
        for kk in 0..<4 {
            XCTAssertEqual(matrix.element(kk, 0), q0[kk] * matrix.scale(0), "row 0 column \(kk)")
            XCTAssertEqual(matrix.element(kk, 1), 0)
            XCTAssertEqual(matrix.element(kk, 2), q2[kk] * matrix.scale(2), "row 2 column \(kk)")
        }
        XCTAssertEqual(matrix.byteCount, 32 * 4 + 32 * 4, "one byte per weight plus one Float scale per panel column")
    }

    // MARK: - Stepper

    private func model(_ cell: LanguageModel.Cell, hidden: Int, layers: Int, seed: UInt64,
                       vocabularySize: Int = 37) throws -> LanguageModel {
        var rng = RandomGenerator(seed: seed)
        let model = try LanguageModel(.init(cell: cell, vocabularySize: vocabularySize, embeddingSize: 12, hiddenSize: hidden,
                                            numLayers: layers), using: &rng)
        model.isTraining = false
        return model
    }

    /// Float32 (the default) is the unchanged path: the same bits with or without the argument, and the
    /// model's own forward pass up to the order of the additions.
    func testFloat32IsTheExactPath() throws {
        let tokens = [3, 0, 36, 7, 7, 1, 4, 19, 2, 25]
        for cell in [LanguageModel.Cell.lstm, .gru, .rnn] {
            let model = try model(cell, hidden: 70, layers: 2, seed: 21)
            let plain = LanguageModelStepper(model), explicit = LanguageModelStepper(model, precision: .float32)
            XCTAssertEqual(explicit.precision, .float32)
            var state: RecurrentLayerState?
            for (steps, token) in zip(1..., tokens) {
                plain.step(token)
                explicit.step(token)
                XCTAssertEqual(plain.logits, explicit.logits, "\(cell): float32 must be bit-identical")
                let (logits, next) = GradientMode.withoutGradients { model([token], batchSize: 1, sequenceLength: 1, state: state) }
                state = next
                assertClose(plain.logits, logits.value.scalars, within: .languageModel(model, sequenceLength: steps), "\(cell)")
            }
        }
    }

    /// bf16 and int8 logits stay near Float32's. Bound: a bf16 weight is within 2⁻⁸ (relative) of the
    /// Float, an int8 weight within half a step, max|w_row|/254, of it; every product therefore moves
    /// by at most 2⁻⁸ (bf16) or 1/254 · Σ_k max|w_row|·|h_k| (int8) of its magnitude, and sigmoid
    /// and tanh do not amplify (Lipschitz ≤ 1). Over 2 layers and 16 steps with the state carried
    /// the differences stay of that order, so we require max|Δlogit| ≤ 2 % (bf16) and 5 % (int8) of
    /// the Float32 logits' range at every step — and that they are not zero (the reduced weights are used).
    func testReducedLogitsStayCloseToFloat32() throws {
        var rng = RandomGenerator(seed: 22)
        let tokens = (0..<16).map { _ in Int(rng.next() % 37) }
        try forEachFamily { family in
            for cell in [LanguageModel.Cell.lstm, .gru, .rnn] {
                let model = try model(cell, hidden: 96, layers: 2, seed: 23)
                let reference = LanguageModelStepper(model)
                for (precision, bound) in [(WeightPrecision.bfloat16, Float(0.02)), (.int8, 0.05)] {
                    let stepper = LanguageModelStepper(model, precision: precision)
                    XCTAssertEqual(stepper.precision, precision)
                    reference.reset()
                    var largestDifference: Float = 0
                    for (i, token) in tokens.enumerated() {
                        reference.step(token)
                        stepper.step(token)
                        let range = reference.logits.max()! - reference.logits.min()!
                        let difference = zip(stepper.logits, reference.logits).map { abs($0 - $1) }.max()!
                        XCTAssertLessThanOrEqual(difference, bound * range, "\(family) \(cell) \(precision) step \(i)")
                        largestDifference = max(largestDifference, difference)
                    }
                    XCTAssertGreaterThan(largestDifference, 0, "\(family) \(cell) \(precision) should differ from float32")
                }
            }
        }
    }

    /// `totalCrossEntropy` is the batch-1 evaluation loss; bf16 and int8 change it by well under 1 %.
    func testStepperLossMatchesTheEvaluationAndMovesLittle() throws {
        var rng = RandomGenerator(seed: 24)
        let tokens = (0..<300).map { _ in Int(rng.next() % 37) }
        for cell in [LanguageModel.Cell.lstm, .gru] {
            let model = try model(cell, hidden: 64, layers: 2, seed: 25)
            // Against the evaluation over 10 tokens in windows of 4 (the state carried twice): a mean of
            // −log softmax, each term within twice the largest logit difference. (Over all 300 tokens
            // the worst-case rule, linear in the steps, would allow more than the 1 % asserted below.)
            let prefix = Array(tokens.prefix(10))
            let evaluation = try model.evaluate(tokens: prefix, batchSize: 1, sequenceLength: 4)
            let logits = Float32Tolerance.languageModel(model, sequenceLength: prefix.count)
            XCTAssertEqual(LanguageModelStepper(model).totalCrossEntropy(prefix) / Double(prefix.count - 1), evaluation.loss,
                           accuracy: 2 * Double(logits.bound), "\(cell)")
            let float32 = LanguageModelStepper(model).totalCrossEntropy(tokens) / Double(tokens.count - 1)
            XCTAssertEqual(float32, log(37), accuracy: 0.1, "an untrained model is near uniform")
            for precision in [WeightPrecision.bfloat16, .int8] {
                let reduced = LanguageModelStepper(model, precision: precision).totalCrossEntropy(tokens) / Double(tokens.count - 1)
                XCTAssertEqual(reduced, float32, accuracy: 0.01 * float32, "\(cell) \(precision)")
                XCTAssertNotEqual(reduced, float32)
            }
        }
        XCTAssertEqual(LanguageModelStepper(try model(.lstm, hidden: 8, layers: 1, seed: 1)).totalCrossEntropy([4]), 0)
    }

    /// Configurations the stepper runs through the model (here the reset-before GRU) stay Float32.
    func testFallbackConfigurationsReportFloat32() throws {
        var configuration = LanguageModel.Configuration(cell: .gru, vocabularySize: 37, embeddingSize: 12, hiddenSize: 16)
        configuration.recurrent.resetAfter = false
        var rng = RandomGenerator(seed: 26)
        let model = try LanguageModel(configuration, using: &rng)
        model.isTraining = false
        let stepper = LanguageModelStepper(model, precision: .int8)
        XCTAssertEqual(stepper.precision, .float32)
        stepper.step(3)
        let (logits, _) = GradientMode.withoutGradients { model([3], batchSize: 1, sequenceLength: 1, state: nil) }
        assertClose(stepper.logits, logits.value.scalars, within: .languageModel(model, sequenceLength: 1))
    }

    // MARK: - Generation

    func testGeneratorSamplesWithReducedWeightsAndRejectsReducedBeams() throws {
        let vocabulary = Vocabulary.characters(of: "ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefgh\n")
        let model = try model(.gru, hidden: 48, layers: 2, seed: 27, vocabularySize: vocabulary.count)
        let float32 = try TextGenerator(model: model, vocabulary: vocabulary, options: .init(temperature: 0, seed: 3))
        let explicit = try TextGenerator(model: model, vocabulary: vocabulary,
                                         options: .init(temperature: 0, seed: 3, precision: .float32))
        XCTAssertEqual(try float32.generate(prime: "ABC", length: 40).ids, try explicit.generate(prime: "ABC", length: 40).ids)
        for precision in [WeightPrecision.bfloat16, .int8] {
            let generator = try TextGenerator(model: model, vocabulary: vocabulary,
                                              options: .init(temperature: 1, seed: 3, precision: precision))
            let text = try generator.generate(prime: "ABC", length: 50)
            XCTAssertEqual(text.ids.count, 50)
            XCTAssertTrue(text.logProbability.isFinite && text.logProbability < 0)
        }
        XCTAssertThrowsError(try TextGenerator.Options(beamWidth: 2, precision: .int8).validate()) { error in
            XCTAssertTrue("\(error)".contains("precision"), "\(error)")
        }
    }
}
