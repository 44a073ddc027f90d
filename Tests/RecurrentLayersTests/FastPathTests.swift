import Foundation
import XCTest
import Recurrent
import RecurrentTestSupport

/// The fast paths (AVX-512 packed products, batch split over threads) against the reference path
/// (system BLAS, one thread) and against the scalar Double reference, on shapes large enough to use
/// them: batch 10 (two threads of 5 rows), hidden 37 (column tails in every 32-wide panel), both
/// layouts, two layers, bidirectional, projection and peepholes.
final class FastPathTests: XCTestCase {
    typealias Config = RecurrentLayerConfiguration

    static let cases: [(String, Config)] = [
        ("lstm", Config(cell: .lstm, inputSize: 21, hiddenSize: 37, numLayers: 2, batchFirst: true)),
        ("lstm time-major bidirectional", Config(cell: .lstm, inputSize: 21, hiddenSize: 37, numLayers: 2, bidirectional: true)),
        ("lstm proj peephole", Config(cell: .lstm, inputSize: 21, hiddenSize: 37, numLayers: 2, batchFirst: true,
                                      projSize: 19, peephole: true)),
        ("gru", Config(cell: .gru, inputSize: 21, hiddenSize: 37, numLayers: 2, batchFirst: true)),
        ("rnn tanh", Config(cell: .rnn(.tanh), inputSize: 21, hiddenSize: 37, numLayers: 2, bidirectional: true)),
    ]

    /// Output, final states and every gradient (input, states, parameters) of one forward/backward.
    private func run(_ fusedCase: FusedCase, fast: Bool, threads: Int) throws -> [String: [Float]] {
        let savedFast = FastGEMM.isEnabled, savedThreads = ComputeThreads.count
        FastGEMM.isEnabled = fast
        ComputeThreads.count = threads
        defer { FastGEMM.isEnabled = savedFast; ComputeThreads.count = savedThreads }
        let layer = try AnyFusedLayer(fusedCase.configuration, seed: 11)
        let (x, h0, c0) = fusedCase.inputs(seed: 12)
        let outputs = layer(x, h0: h0, c0: c0)
        // A loss that weights every output element differently.
        var rng = RandomGenerator(seed: 13)
        var loss: Variable?
        for output in outputs {
            let probe = Variable(.uniform(shape: output.shape, low: -1, high: 1, using: &rng))
            let term = (output * probe).sum()
            loss = loss.map { $0 + term } ?? term
        }
        loss!.backward()
        var result: [String: [Float]] = [:]
        for (i, output) in outputs.enumerated() { result["output\(i)"] = output.value.scalars }
        result["dInput"] = x.grad?.scalars
        result["dh0"] = h0?.grad?.scalars
        result["dc0"] = c0?.grad?.scalars
        for (name, parameter) in layer.module.namedParameters { result["d" + name] = parameter.grad?.scalars }
        return result
    }

    func testFastPathEqualsReferencePath() throws {
        try XCTSkipUnless(FastGEMM.isSupported, "no AVX-512 on this CPU: the fast path is the reference path")
        for (name, configuration) in Self.cases {
            let fusedCase = FusedCase(configuration, sequenceLength: 5, batchSize: 10, withState: true)
            let reference = try run(fusedCase, fast: false, threads: 1)
            let rule = Float32Tolerance.recurrentLayer(configuration, sequenceLength: 5)
            let gradientRule = Float32Tolerance.recurrentLayerGradients(configuration, sequenceLength: 5, batchSize: 10)
            var byThreads: [[String: [Float]]] = []
            for threads in [1, 2] {
                let fast = try run(fusedCase, fast: true, threads: threads)
                byThreads.append(fast)
                XCTAssertEqual(Set(fast.keys), Set(reference.keys), name)
                for (key, expected) in reference {
                    assertClose(fast[key] ?? [], expected, within: key.hasPrefix("output") ? rule : gradientRule,
                                "\(name) \(key) threads \(threads)")
                }
            }
            // The work splits never change the order of any sum: results are the same bits for any thread count.
            XCTAssertEqual(byThreads[0], byThreads[1], "\(name): one and two threads differ")
        }
    }

    func testFastForwardMatchesScalarReference() throws {
        for (name, configuration) in Self.cases {
            let fusedCase = FusedCase(configuration, sequenceLength: 5, batchSize: 10, withState: true)
            let savedThreads = ComputeThreads.count
            ComputeThreads.count = 2
            defer { ComputeThreads.count = savedThreads }
            let layer = try AnyFusedLayer(configuration, seed: 21)
            let (x, h0, c0) = fusedCase.inputs(seed: 22)
            let outputs = layer(x, h0: h0, c0: c0)
            let parameters = Dictionary(uniqueKeysWithValues: layer.module.namedParameters.map { ($0.name, $0.parameter.value) })
            let expected = ReferenceStack(configuration: configuration, parameters: parameters)
                .run(input: x.value, h0: h0?.value, c0: c0?.value)
            // Inputs within ±1, initial states within ±0.8.
            let rule = Float32Tolerance.recurrentLayer(configuration, sequenceLength: 5)
            assertClose(outputs[0].value.scalars, expected.output, within: rule, "\(name) output")
            assertClose(outputs[1].value.scalars, expected.h, within: rule, "\(name) h_n")
            if outputs.count > 2 { assertClose(outputs[2].value.scalars, expected.c, within: rule, "\(name) c_n") }
        }
    }

    /// The activation error bounds of FusedLayerTests hold on every kernel family this CPU supports
    /// (the SIMD kernels, and the portable Swift loops of the reference family).
    func testActivationErrorBoundsOnEveryFamily() {
        let xs = (0...40_000).map { Float($0) / 1000 - 20 } + [-1e30, -200, -89, 89, 200, 1e30]
        for family in KernelFamily.supported {
            var sigmoid = [Float](repeating: .nan, count: xs.count), tanh = sigmoid, exp = sigmoid
            KernelFamily.with(family) {
                VectorizedActivation.sigmoid(xs, &sigmoid, count: xs.count)
                VectorizedActivation.tanh(xs, &tanh, count: xs.count)
                VectorizedActivation.exp(xs, &exp, count: xs.count)
            }
            var worstSigmoid = 0.0, worstTanh = 0.0, worstExp = 0.0
            for (i, x) in xs.enumerated() {
                let d = Double(x)
                worstSigmoid = max(worstSigmoid, abs(Double(sigmoid[i]) - 1 / (1 + Foundation.exp(-d))))
                worstTanh = max(worstTanh, abs(Double(tanh[i]) - Foundation.tanh(d)))
                if abs(x) <= 20 { worstExp = max(worstExp, abs(Double(exp[i]) - Foundation.exp(d)) / Foundation.exp(d)) }
            }
            XCTAssertLessThan(worstSigmoid, 3e-7, "\(family)")
            XCTAssertLessThan(worstTanh, 5e-7, "\(family)")
            XCTAssertLessThan(worstExp, 3e-7, "\(family)")
            XCTAssertEqual(Array(tanh.suffix(6)), [-1, -1, -1, 1, 1, 1], "\(family)")
            XCTAssertEqual(Array(sigmoid.suffix(6)), [0, 0, 0, 1, 1, 1], "\(family)")
            // The clamp's top, 88.37, keeps e^x finite (2^k with k ≤ 127).
            XCTAssertTrue(exp.suffix(3).allSatisfy { $0.isFinite && $0 > 2e38 }, "\(family): \(exp.suffix(3))")
        }
    }
}
