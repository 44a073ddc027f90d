import Foundation
import XCTest
import Recurrent
import RecurrentTestSupport

/// The seq2seq demo (docs/architectures.md, "Encoder–decoder"): reversing digit strings, exact-sequence
/// accuracy with and without attention as the source grows longer, and the attention heatmap.
///
/// The learning test trains two models (about 9 s together in a release build); set
/// RECURRENT_ARTIFACTS_DIR to also write the heatmap SVG there. Full runs over seeds:
///
///     RECURRENT_FULL_RUNS=1 swift test -c release --filter Seq2SeqDemoTests
final class Seq2SeqDemoTests: XCTestCase {
    static func trainReversal(attention: Bool, seed: UInt64, maxLength: Int = 10, steps: Int = 600) throws
        -> (DigitSequenceTask, EncoderDecoder) {
        let task = try DigitSequenceTask(kind: .reverse, lengths: 1...maxLength)
        var training = Seq2SeqTraining()
        training.attention = attention
        training.steps = steps
        training.hiddenSize = 32
        training.embeddingSize = 16
        training.batchSize = 32
        training.seed = seed
        return (task, try training.train(task))
    }

    static func accuracies(_ model: EncoderDecoder, _ task: DigitSequenceTask, lengths: [Int], count: Int, seed: UInt64) -> [Double] {
        var rng = RandomGenerator(seed: seed)
        return lengths.map { Seq2SeqTraining.exactAccuracy(of: model, on: task, length: $0, count: count, using: &rng) }
    }

    /// Both models trained with `seed` for 900 steps: their exact-sequence accuracies at source lengths
    /// 3, 6 and 10 (200 strings each), and the attention model.
    static func comparison(seed: UInt64) throws
        -> (task: DigitSequenceTask, attended: EncoderDecoder, plain: [Double], attention: [Double]) {
        let lengths = [3, 6, 10]
        let (task, plain) = try trainReversal(attention: false, seed: seed, steps: 900)
        let (_, attended) = try trainReversal(attention: true, seed: seed, steps: 900)
        return (task, attended, accuracies(plain, task, lengths: lengths, count: 200, seed: 77),
                accuracies(attended, task, lengths: lengths, count: 200, seed: 77))
    }

    /// How closely the attention of a reversal follows the anti-diagonal over 40 length-10 sources:
    /// the fraction of rows whose argmax is within one position of L − 1 − i, the mean attention mass
    /// within two positions, and one source the model reversed exactly with its attention weights.
    static func diagonal(_ attended: EncoderDecoder, _ task: DigitSequenceTask) throws
        -> (nearDiagonal: Double, bandMass: Double, sample: (source: [Int], decoded: [Int], weights: Tensor)?) {
        var rng = RandomGenerator(seed: 5)
        var rowsNearDiagonal = 0, rows = 0
        var bandMass: Float = 0
        var sample: (source: [Int], decoded: [Int], weights: Tensor)?
        for _ in 0..<40 {
            let source = task.source(length: 10, using: &rng)
            let decoded = attended.greedyDecode(sources: [source], maxLength: 12)[0]
            let weights = try XCTUnwrap(decoded.attention)
            XCTAssertEqual(weights.shape[1], 10)
            for i in 0..<min(10, weights.shape[0]) {
                let row = (0..<10).map { weights[i, $0] }
                let argmax = row.firstIndex(of: row.max()!)!
                rowsNearDiagonal += abs(argmax - (9 - i)) <= 1 ? 1 : 0
                rows += 1
                bandMass += (max(0, 7 - i)...min(9, 11 - i)).map { row[$0] }.reduce(0, +)
            }
            if sample == nil, decoded.tokens == task.target(for: source) { sample = (source, decoded.tokens, weights) }
        }
        return (Double(rowsNearDiagonal) / Double(rows), Double(bandMass / Float(rows)), sample)
    }

    func testAttentionBeatsTheFixedContextOnLongSources() throws {
        #if DEBUG
        throw XCTSkip("trains two seq2seq models for about 9 s in a release build; run with -c release")
        #else
        let (task, attended, a, b) = try Self.comparison(seed: 1)
        print("reverse, exact accuracy at lengths [3, 6, 10]: plain \(a), attention \(b)")
        // Seed 1 on this machine's default orders: plain [0.99, 0.69, 0.015], attention [0.995, 0.995,
        // 0.95]. But 900 steps leave the attention model anywhere between 0.26 and 0.99 at length 10
        // over 20 seeds (median 0.61; 0.875, 0.965 and 0.48 for seed 1 under other OpenBLAS kernels and
        // thread counts, 0.775 on an Intel Xeon), the fixed context between 0 and 0.03; at length 3
        // 0.82–1 and 0.955–1 (docs/learning-margins.md). The bounds sit below the worst of the 20 seeds.
        // Short sources: both models are mostly right.
        XCTAssertGreaterThanOrEqual(a[0], 0.9)
        XCTAssertGreaterThanOrEqual(b[0], 0.7)
        // The fixed context fails on long sources; attention gets some of them right on every seed.
        XCTAssertLessThan(a[2], 0.1)
        XCTAssertGreaterThanOrEqual(b[2], 0.15)
        XCTAssertGreaterThanOrEqual(b[2] - a[2], 0.15)

        // The attention of a reversal follows the anti-diagonal: output step i looks at source
        // position L − 1 − i or a neighbour (an encoder output h_j also carries x_{j−1}; the model
        // used here often reads the digit at h_{j+1}). Single rows can tie between two neighbours, so
        // only these aggregates are asserted (over 20 seeds: 0.91–1 and 0.95–0.99). The last row
        // (emitting <eos>) is free.
        let diagonal = try Self.diagonal(attended, task)
        print("attention: argmax within one position in \(diagonal.nearDiagonal) of rows, mass within two positions \(diagonal.bandMass)")
        XCTAssertGreaterThanOrEqual(diagonal.nearDiagonal, 0.85)
        XCTAssertGreaterThanOrEqual(diagonal.bandMass, 0.85)
        let (source, tokens, weights) = try XCTUnwrap(diagonal.sample, "no length-10 source reversed exactly")
        let map = try SVGHeatmap(title: "Attention while reversing \(source.map(String.init).joined())",
                                 values: (0..<weights.shape[0]).map { i in (0..<10).map { Double(weights[i, $0]) } },
                                 rowLabels: tokens.map { String($0 - 2) } + ["<eos>"],
                                 columnLabels: source.map(String.init), xLabel: "source digit j", yLabel: "output step i")
        if let directory = ProcessInfo.processInfo.environment["RECURRENT_ARTIFACTS_DIR"] {
            try map.render().write(toFile: directory + "/attention-reverse.svg", atomically: true, encoding: .utf8)
        }
        #endif
    }

    func testMarginsOverSeeds() throws {
        try LearningMargins.sweep("seq2seq reversal") { seed in
            let (task, attended, a, b) = try Self.comparison(seed: seed)
            let diagonal = try Self.diagonal(attended, task)
            return [("plain at 3", a[0]), ("attention at 3", b[0]), ("plain at 10", a[2]), ("attention at 10", b[2]),
                    ("gain at 10", b[2] - a[2]), ("argmax near diagonal", diagonal.nearDiagonal), ("band mass", diagonal.bandMass)]
        }
    }

    /// Seeds 1–5, lengths 1–10 (600 steps) and lengths 1–12 (1500 steps); 500 strings per length.
    /// Asserts that on every seed attention is ahead at the longest length (measured margins:
    /// 0.49–0.97 at length 10, 0.20–0.88 at length 12).
    func testFullRunsOverSeeds() throws {
        guard ProcessInfo.processInfo.environment["RECURRENT_FULL_RUNS"] == "1" else {
            throw XCTSkip("full runs: set RECURRENT_FULL_RUNS=1 (and build with -c release)")
        }
        for (maxLength, steps) in [(10, 600), (12, 1500)] {
            let lengths = Array(stride(from: 2, through: maxLength, by: 2))
            for seed: UInt64 in 1...5 {
                var longest = [Double]()
                for attention in [false, true] {
                    let start = Date()
                    let (task, model) = try Self.trainReversal(attention: attention, seed: seed, maxLength: maxLength, steps: steps)
                    let seconds = Date().timeIntervalSince(start)
                    let acc = Self.accuracies(model, task, lengths: lengths, count: 500, seed: 1000 + seed)
                    print(String(format: "lengths 1-%d steps %d seed %d attention %@ (%.1f s): ", maxLength, steps, seed,
                                 attention ? "on " : "off", seconds)
                          + zip(lengths, acc).map { String(format: "%d:%.3f", $0, $1) }.joined(separator: " "))
                    longest.append(acc.last!)
                }
                XCTAssertGreaterThanOrEqual(longest[1] - longest[0], 0.15, "lengths 1-\(maxLength), seed \(seed)")
            }
        }
    }
}
