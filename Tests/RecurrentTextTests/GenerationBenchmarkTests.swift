import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentText
import XCTest

/// Per-token latency of batch-1 generation. Runs only with `RECURRENT_BENCHMARK=1` (meaningful in a
/// release build: `RECURRENT_BENCHMARK=1 swift test -c release --filter GenerationBenchmarkTests`);
/// prints µs/token for the whole generator and for its parts.
final class GenerationBenchmarkTests: XCTestCase {
    /// The best of three timings of `body`, per iteration (the machine is shared: the minimum is the
    /// least disturbed run).
    private func microseconds(_ iterations: Int, _ body: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1000 / Double(iterations))
        }
        return best
    }

    func testPerTokenLatency() throws {
        guard ProcessInfo.processInfo.environment["RECURRENT_BENCHMARK"] == "1" else {
            throw XCTSkip("set RECURRENT_BENCHMARK=1 to run the generation benchmark")
        }
        let threads = Int(ProcessInfo.processInfo.environment["RECURRENT_BENCHMARK_THREADS"] ?? "1") ?? 1
        BLAS.setThreads(threads)
        let tokens = 3000
        let V = 65
        let vocabulary = Vocabulary.characters(of: String((0..<V).map { Character(Unicode.Scalar(UInt8(48 + $0))) }))
        for hidden in [128, 512] {
            var rng = RandomGenerator(seed: 1)
            let E = 64
            let model = try LanguageModel(.init(cell: .lstm, vocabularySize: V, embeddingSize: E, hiddenSize: hidden, numLayers: 2),
                                          using: &rng)
            var line = "LSTM 2×\(hidden), embedding \(E), vocabulary \(V), BLAS threads \(threads):"
            for (label, options) in [("sample T=0.8", TextGenerator.Options(temperature: 0.8, seed: 1)),
                                     ("greedy", .init(temperature: 0)), ("top-k 10", .init(topK: 10, seed: 1))] {
                let generator = try TextGenerator(model: model, vocabulary: vocabulary, options: options)
                try generator.generate(prime: "0123", length: 200)
                var count = 0
                let us = try microseconds(tokens) {
                    try generator.generate(prime: "0", length: tokens) { _ in count += 1 }
                }
                XCTAssertEqual(count, 3 * tokens)
                line += String(format: " %@ %.1f µs/token;", label, us)
            }
            let (modelUS, layerUS) = GradientMode.withoutGradients { () -> (Double, Double) in
                model.isTraining = false
                var state = model([1], batchSize: 1, sequenceLength: 1).state
                let modelUS = microseconds(tokens) {
                    for t in 0..<tokens { state = model([t % V], batchSize: 1, sequenceLength: 1, state: state).state }
                }
                let input = Variable(Tensor(repeating: 0.1, shape: [1, 1, E]))
                var layerState = model.recurrent.run(input, state: nil).state
                let layerUS = microseconds(tokens) {
                    for _ in 0..<tokens { layerState = model.recurrent.run(input, state: layerState).state }
                }
                return (modelUS, layerUS)
            }
            // The arithmetic floor: the same matrix-vector products straight through BLAS.
            let shapes = [(4 * hidden, E), (4 * hidden, hidden), (4 * hidden, hidden), (4 * hidden, hidden), (V, hidden)]
            let matrices = shapes.map { [Float](repeating: 0.01, count: $0.0 * $0.1) }
            var x = [Float](repeating: 0.1, count: 4 * hidden), y = [Float](repeating: 0, count: 4 * hidden)
            let gemvUS = microseconds(tokens) {
                for _ in 0..<tokens {
                    for (shape, a) in zip(shapes, matrices) {
                        a.withUnsafeBufferPointer { a in
                            BLAS.gemv(transpose: false, rows: shape.0, columns: shape.1, a: a.baseAddress!, lda: shape.1,
                                      x: &x, beta: 0, y: &y)
                        }
                    }
                }
            }
            // The same products with the two input projections (x · W_ihᵀ) as one-row GEMMs, which is
            // how the fused layer computes them for a sequence of one step.
            let mixedUS = microseconds(tokens) {
                for _ in 0..<tokens {
                    for (index, (shape, a)) in zip(shapes, matrices).enumerated() {
                        a.withUnsafeBufferPointer { a in
                            if index == 0 || index == 2 {
                                BLAS.gemm(transposeA: false, transposeB: true, m: 1, n: shape.0, k: shape.1, a: &x,
                                          lda: shape.1, b: a.baseAddress!, ldb: shape.1, beta: 1, c: &y, ldc: shape.0)
                            } else {
                                BLAS.gemv(transpose: false, rows: shape.0, columns: shape.1, a: a.baseAddress!, lda: shape.1,
                                          x: &x, beta: 0, y: &y)
                            }
                        }
                    }
                }
            }
            line += String(format: " model call %.1f, recurrent layer %.1f, bare GEMVs %.1f, same with 1-row GEMMs for x·W_ihᵀ %.1f µs/token",
                           modelUS, layerUS, gemvUS, mixedUS)
            print(line)
        }
    }
}
