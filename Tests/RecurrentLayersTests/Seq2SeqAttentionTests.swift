import Foundation
import XCTest
import Recurrent
import RecurrentTestSupport

/// Additive attention and the encoder–decoder: hand-computed values, gradient checks, decoding
/// consistency (teacher forcing, greedy, beam search), reversed sources, padded batches.
final class Seq2SeqAttentionTests: XCTestCase {
    func testWeightedSumByHandAndGradients() {
        // values (S=2, B=2, K=2), weights (B=2, S=2)
        let values = Variable(Tensor(shape: [2, 2, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8]), requiresGrad: true)
        let weights = Variable(Tensor(rows: [[0.25, 0.75], [0.5, 0.5]]), requiresGrad: true)
        let c = weightedSum(values, weights: weights)
        // row 0: 0.25·(1,2) + 0.75·(5,6); row 1: 0.5·(3,4) + 0.5·(7,8)
        XCTAssertEqual(c.value.scalars, [4, 5, 5, 6])
        var rng = RandomGenerator(seed: 1)
        let probe = Variable(.uniform(shape: [2, 2], low: -1, high: 1, using: &rng))
        XCTAssertEqual(GradientCheck().mismatches(of: [("values", values), ("weights", weights)]) {
            (weightedSum(values, weights: weights) * probe).sum()
        }.map(\.description), [])
    }

    func testAdditiveAttentionMatchesTheFormulaAndMasksPadding() throws {
        var rng = RandomGenerator(seed: 2)
        let attention = try AdditiveAttention(querySize: 3, keySize: 2, attentionSize: 4, using: &rng)
        XCTAssertEqual(attention.namedParameters.map(\.name), ["query.weight", "key.weight", "key.bias", "score.weight"])
        let S = 3, B = 2
        let h = Variable(.uniform(shape: [S, B, 2], low: -1, high: 1, using: &rng))
        let s = Variable(.uniform(shape: [B, 3], low: -1, high: 1, using: &rng))
        let lengths = [3, 2]
        let (context, weights) = attention(query: s, projectedKeys: attention.projectKeys(h), values: h, lengths: lengths)
        let Ws = attention.query.weight.value, Wh = attention.key.weight.value, bh = attention.key.bias!.value
        let v = attention.score.weight.value
        for b in 0..<B {
            // e_j = vᵀ tanh(W_s s + W_h h_j + b), in Double.
            var e = [Double]()
            for j in 0..<lengths[b] {
                var total = 0.0
                for a in 0..<4 {
                    var field = Double(bh[a])
                    for k in 0..<3 { field += Double(Ws[a, k]) * Double(s.value[b, k]) }
                    for k in 0..<2 { field += Double(Wh[a, k]) * Double(h.value[j, b, k]) }
                    total += Double(v[0, a]) * Foundation.tanh(field)
                }
                e.append(total)
            }
            let z = e.map { Foundation.exp($0) }.reduce(0, +)
            let a = e.map { Foundation.exp($0) / z }
            for j in 0..<S {
                XCTAssertEqual(Double(weights.value[b, j]), j < lengths[b] ? a[j] : 0, accuracy: 1e-6, "a[\(b), \(j)]")
            }
            for k in 0..<2 {
                let expected = (0..<lengths[b]).map { a[$0] * Double(h.value[$0, b, k]) }.reduce(0, +)
                XCTAssertEqual(Double(context.value[b, k]), expected, accuracy: 1e-6)
            }
        }
    }

    func testAdditiveAttentionGradients() throws {
        var rng = RandomGenerator(seed: 3)
        let attention = try AdditiveAttention(querySize: 3, keySize: 2, attentionSize: 4, using: &rng)
        let h = Variable(.uniform(shape: [3, 2, 2], low: -1, high: 1, using: &rng), requiresGrad: true)
        let s = Variable(.uniform(shape: [2, 3], low: -1, high: 1, using: &rng), requiresGrad: true)
        let probeC = Variable(.uniform(shape: [2, 2], low: -1, high: 1, using: &rng))
        let probeA = Variable(.uniform(shape: [2, 3], low: -1, high: 1, using: &rng))
        let mismatches = GradientCheck().mismatches(
            of: [("h", h), ("s", s)] + attention.namedParameters.map { ($0.name, $0.parameter) }
        ) {
            let (c, a) = attention(query: s, projectedKeys: attention.projectKeys(h), values: h, lengths: [3, 2])
            return (c * probeC).sum() + (a * probeA).sum()
        }
        XCTAssertEqual(mismatches.map(\.description), [])
    }

    private func model(attention: Bool, cell: EncoderDecoder.Cell = .gru, reverse: Bool = false, seed: UInt64 = 7,
                       vocabulary: Int = 5) throws -> EncoderDecoder {
        var rng = RandomGenerator(seed: seed)
        return try EncoderDecoder(.init(sourceVocabularySize: 4, targetVocabularySize: vocabulary, embeddingSize: 3,
                                        hiddenSize: 4, cell: cell, attention: attention, attentionSize: 3,
                                        reverseSource: reverse), using: &rng)
    }

    func testWholeModelGradientsForEveryVariant() throws {
        let sources = [[1, 2, 3], [2, 0]], targets = [[2, 3], [4]]
        for cell in EncoderDecoder.Cell.allCases {
            for attention in [false, true] {
                let m = try model(attention: attention, cell: cell)
                var rng = RandomGenerator(seed: 11)
                // A smooth scalar of the logits (cross-entropy lives in RecurrentOptim).
                let probe = Variable(.uniform(shape: [3, 2, 5], low: -1, high: 1, using: &rng))
                let mismatches = GradientCheck(maxElementsPerVariable: 12).mismatches(
                    of: m.namedParameters.map { ($0.name, $0.parameter) }
                ) {
                    (m.teacherForced(sources: sources, targets: targets).logits.tanh() * probe).sum()
                }
                XCTAssertEqual(mismatches.map(\.description), [], "\(cell), attention \(attention)")
            }
        }
    }

    func testParameterNamesAndTeacherForcedTargets() throws {
        let m = try model(attention: true)
        XCTAssertEqual(m.namedParameters.map(\.name), [
            "source_embedding.weight", "encoder.weight_ih", "encoder.weight_hh", "encoder.bias_ih", "encoder.bias_hh",
            "target_embedding.weight", "decoder.weight_ih", "decoder.weight_hh", "decoder.bias_ih", "decoder.bias_hh",
            "attention.query.weight", "attention.key.weight", "attention.key.bias", "attention.score.weight",
            "output.weight", "output.bias",
        ])
        XCTAssertEqual(m.namedParameters[6].parameter.shape, [12, 3 + 4])
        XCTAssertEqual(try model(attention: false).namedParameters.count, 12)
        let out = m.teacherForced(sources: [[1, 2, 3], [2]], targets: [[2, 3], [4]])
        XCTAssertEqual(out.logits.shape, [3, 2, 5])
        // step 0: 2, 4; step 1: 3, <eos>; step 2: <eos>, ignored
        XCTAssertEqual(out.targets, [2, 4, 3, 1, 1, EncoderDecoder.ignoreIndex])
        let a = try XCTUnwrap(out.attention)
        XCTAssertEqual(a.shape, [2, 3, 3])
        for b in 0..<2 { for i in 0..<3 {
            XCTAssertEqual((0..<3).map { a[b, i, $0] }.reduce(0, +), 1, accuracy: 1e-5)
        } }
        XCTAssertEqual(a[1, 0, 1], 0)  // row 1 has one source token
        XCTAssertThrowsError(try EncoderDecoder(.init(sourceVocabularySize: 3, targetVocabularySize: 4, goToken: 2, endToken: 2))) {
            XCTAssertEqual($0.localizedDescription, "invalid endToken: must differ from goToken 2")
        }
        XCTAssertThrowsError(try EncoderDecoder(.init(sourceVocabularySize: 0, targetVocabularySize: 4)))
    }

    /// log p(target, <eos>) from teacher-forced logits.
    private func logProbability(_ m: EncoderDecoder, source: [Int], target: [Int]) -> Double {
        GradientMode.withoutGradients {
            let out = m.teacherForced(sources: [source], targets: [target])
            let lp = out.logits.logSoftmax().value
            let v = lp.shape[2]
            return out.targets.enumerated().reduce(0.0) { $0 + Double(lp.scalars[$1.offset * v + $1.element]) }
        }
    }

    func testPaddedBatchEqualsEachRowAlone() throws {
        for cell in EncoderDecoder.Cell.allCases {
            let m = try model(attention: true, cell: cell)
            let sources = [[1, 2, 3, 0], [2], [3, 3]], targets = [[2], [4, 4, 3], []]
            let batch = m.teacherForced(sources: sources, targets: targets)
            // The decoder's sums read its embedding (N(0, 1) rows) and the context as well as its state;
            // the stages: 4 source steps, 4 target steps, the attention and the head.
            let rule = Float32Tolerance.recurrentLayer(.init(cell: .lstm, inputSize: 3 + 4, hiddenSize: 4), sequenceLength: 10,
                                                       valueBound: 4)
            for b in 0..<3 {
                let alone = m.teacherForced(sources: [sources[b]], targets: [targets[b]])
                for i in 0...targets[b].count {
                    assertClose(batch.logits.value.row(i).row(b), alone.logits.value.row(i).row(0), within: rule, "\(cell) row \(b) step \(i)")
                }
            }
        }
    }

    func testGreedyAndBeamSearchAgreeWithTeacherForcedProbabilities() throws {
        // Vocabulary: <go> 0, <eos> 1, tokens 2, 3: the complete outputs of at most 3 tokens are
        // 1 + 2 + 4 + 8 = 15 sequences, few enough to enumerate.
        for attention in [false, true] {
            let m = try model(attention: attention, seed: 21, vocabulary: 4)
            let source = [3, 1, 2]
            var all: [[Int]] = [[]]
            var frontier: [[Int]] = [[]]
            for _ in 0..<3 {
                frontier = frontier.flatMap { p in [p + [2], p + [3]] }
                all += frontier
            }
            let scored = all.map { ($0, logProbability(m, source: source, target: $0)) }.sorted { $0.1 > $1.1 }
            let exact = m.beamSearch(source: source, beamWidth: 15, maxLength: 3)
            // Decoding step by step and teacher forcing sum in other orders: each of the up to 4 terms
            // of a log-probability moves by at most twice the largest logit difference (3 source steps,
            // 4 target steps, the attention and the head).
            let logits = Float32Tolerance.recurrentLayer(.init(cell: .lstm, inputSize: 3 + 4, hiddenSize: 4), sequenceLength: 9,
                                                         valueBound: 4)
            let accuracy = Double(2 * 4 * logits.bound)
            XCTAssertEqual(exact.count, 15)
            for (found, expected) in zip(exact, scored) {
                XCTAssertEqual(found.tokens, expected.0)
                XCTAssertEqual(Double(found.logProbability), expected.1, accuracy: accuracy)
                XCTAssertTrue(found.finished)
            }
            let greedy = m.greedyDecode(sources: [source], maxLength: 3)[0]
            let width1 = m.beamSearch(source: source, beamWidth: 1, maxLength: 3)[0]
            if greedy.finished {
                XCTAssertEqual(width1.tokens, greedy.tokens)
                XCTAssertEqual(Double(greedy.logProbability), logProbability(m, source: source, target: greedy.tokens), accuracy: accuracy)
            }
            let beam2 = m.beamSearch(source: source, beamWidth: 2, maxLength: 3)
            XCTAssertGreaterThanOrEqual(beam2[0].logProbability, width1.logProbability - 1e-6)
            if attention {
                let a = try XCTUnwrap(exact[0].attention)
                XCTAssertEqual(a.shape, [exact[0].tokens.count + 1, 3])
            } else {
                XCTAssertNil(exact[0].attention)
            }
        }
    }

    func testReversedSourceIsTheSameModelOnTheReversedTokens() throws {
        let reversed = try model(attention: true, reverse: true)
        let plain = try model(attention: true, reverse: false)  // same seed, same parameters
        let source = [1, 2, 3, 3, 0]
        let a = reversed.teacherForced(sources: [source], targets: [[2, 3]])
        let b = plain.teacherForced(sources: [Array(source.reversed())], targets: [[2, 3]])
        XCTAssertEqual(a.logits.value, b.logits.value)
        // Decoded attention columns are in reading order: reversed relative to the encoder's.
        let ga = reversed.greedyDecode(sources: [source], maxLength: 4)[0]
        let gb = plain.greedyDecode(sources: [Array(source.reversed())], maxLength: 4)[0]
        XCTAssertEqual(ga.tokens, gb.tokens)
        let wa = try XCTUnwrap(ga.attention), wb = try XCTUnwrap(gb.attention)
        for i in 0..<wa.shape[0] { for j in 0..<5 { XCTAssertEqual(wa[i, j], wb[i, 4 - j]) } }
    }
}
