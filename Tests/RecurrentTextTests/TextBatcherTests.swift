import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim
import RecurrentText
import XCTest

final class TextBatcherTests: XCTestCase {
    func testLectureExampleTwelveTokensTwoRowsWindowsOfThree() throws {
        // The notes' example: [1 … 12] split into two rows, sequence length 3. Token 13 is the last target.
        var batcher = try StreamBatcher(tokens: Array(1...13), batchSize: 2, sequenceLength: 3)
        XCTAssertEqual(batcher.windowsPerEpoch, 2)
        XCTAssertEqual(batcher.rowLength, 6)
        let first = batcher.next()
        XCTAssertEqual(first.inputs, [1, 2, 3, 7, 8, 9])
        XCTAssertEqual(first.targets, [2, 3, 4, 8, 9, 10])
        let second = batcher.next()
        XCTAssertEqual(second.inputs, [4, 5, 6, 10, 11, 12])
        XCTAssertEqual(second.targets, [5, 6, 7, 11, 12, 13])
    }

    func testStreamOfTwentySixWithTwoRowsAndWindowsOfFour() throws {
        // N = 26: W = ⌊25 / 8⌋ = 3 windows, rows of L = 12: row 0 inputs 0…11, row 1 inputs 12…23;
        // token 24 is only a target and token 25 is dropped.
        var batcher = try StreamBatcher(tokens: Array(0..<26), batchSize: 2, sequenceLength: 4)
        XCTAssertEqual(batcher.windowsPerEpoch, 3)
        XCTAssertEqual(batcher.rowLength, 12)
        let expected: [(inputs: [Int], targets: [Int])] = [
            ([0, 1, 2, 3, 12, 13, 14, 15], [1, 2, 3, 4, 13, 14, 15, 16]),
            ([4, 5, 6, 7, 16, 17, 18, 19], [5, 6, 7, 8, 17, 18, 19, 20]),
            ([8, 9, 10, 11, 20, 21, 22, 23], [9, 10, 11, 12, 21, 22, 23, 24]),
        ]
        for epoch in 0..<2 {
            for (window, want) in expected.enumerated() {
                XCTAssertEqual(batcher.position, StreamBatcher.Position(epoch: epoch, window: window))
                let batch = batcher.next()
                XCTAssertEqual(batch.batchSize, 2)
                XCTAssertEqual(batch.sequenceLength, 4)
                XCTAssertEqual(batch.inputs, want.inputs, "epoch \(epoch) window \(window)")
                XCTAssertEqual(batch.targets, want.targets, "epoch \(epoch) window \(window)")
                XCTAssertEqual(batch.startsEpoch, window == 0)
                XCTAssertEqual(batch.position, StreamBatcher.Position(epoch: epoch, window: window))
                XCTAssertEqual(batch.targetCount, 8)
            }
        }
        XCTAssertEqual(batcher.position, StreamBatcher.Position(epoch: 2, window: 0))
    }

    func testRowsAreContiguousAcrossWindowsAndNoPositionRepeats() throws {
        // N = 1000, B = 7, T = 9: W = ⌊999 / 63⌋ = 15, L = 135; 999 − 945 = 54 positions dropped.
        let (B, T) = (7, 9)
        var batcher = try StreamBatcher(tokens: Array(0..<1000), batchSize: B, sequenceLength: T)
        XCTAssertEqual(batcher.windowsPerEpoch, 15)
        var seen = Set<Int>()
        var previous: TextBatch?
        for _ in 0..<batcher.windowsPerEpoch {
            let batch = batcher.next()
            for b in 0..<B {
                for t in 0..<T {
                    let input = batch.inputs[b * T + t]
                    XCTAssertEqual(batch.targets[b * T + t], input + 1)
                    XCTAssertTrue(seen.insert(input).inserted)
                }
                if let previous {
                    // Row b continues exactly where it stopped: the hidden-state carry is valid.
                    XCTAssertEqual(batch.inputs[b * T], previous.inputs[b * T + T - 1] + 1)
                }
            }
            previous = batch
        }
        XCTAssertEqual(seen, Set(0..<945))
        XCTAssertTrue(batcher.next().startsEpoch)
    }

    func testResumingFromASavedPositionEqualsUninterruptedIteration() throws {
        let tokens = (0..<500).map { ($0 * 37 + 11) % 23 }
        var uninterrupted = try StreamBatcher(tokens: tokens, batchSize: 3, sequenceLength: 8)
        XCTAssertEqual(uninterrupted.windowsPerEpoch, 20)
        let all = (0..<50).map { _ in uninterrupted.next() }

        var first = try StreamBatcher(tokens: tokens, batchSize: 3, sequenceLength: 8)
        let before = (0..<27).map { _ in first.next() }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let saved = try encoder.encode(first.position)
        XCTAssertEqual(String(decoding: saved, as: UTF8.self), #"{"epoch":1,"window":7}"#)

        let restored = try JSONDecoder().decode(StreamBatcher.Position.self, from: saved)
        var resumed = try StreamBatcher(tokens: tokens, batchSize: 3, sequenceLength: 8, position: restored)
        let after = (0..<23).map { _ in resumed.next() }
        XCTAssertEqual(before + after, all)

        // restore(_:) on an existing batcher does the same.
        var rewound = try StreamBatcher(tokens: tokens, batchSize: 3, sequenceLength: 8)
        try rewound.restore(restored)
        XCTAssertEqual(rewound.next(), all[27])
    }

    func testInvalidGeometryAndPositionsAreConfigurationErrors() throws {
        XCTAssertThrowsError(try StreamBatcher(tokens: Array(0..<8), batchSize: 2, sequenceLength: 4)) { error in
            XCTAssertEqual(error.localizedDescription,
                           "invalid batchSize × sequenceLength: 2 × 4 needs at least 9 tokens, the stream has 8")
        }
        XCTAssertThrowsError(try StreamBatcher(tokens: Array(0..<100), batchSize: 0, sequenceLength: 4)) { error in
            XCTAssertEqual(error as? ConfigurationError, ConfigurationError(argument: "batchSize", reason: "must be positive, got 0"))
        }
        var batcher = try StreamBatcher(tokens: Array(0..<26), batchSize: 2, sequenceLength: 4)
        XCTAssertThrowsError(try batcher.restore(.init(epoch: 0, window: 3))) { error in
            XCTAssertEqual(error.localizedDescription,
                           "invalid position.window: must be in 0..<3 for this text, batch size and sequence length, got 3")
        }
        XCTAssertThrowsError(try batcher.restore(.init(epoch: -1, window: 0)))
        XCTAssertEqual(batcher.position, .init(epoch: 0, window: 0))
    }

    func testTimeMajorTransposesBatchFirstLayout() throws {
        var batcher = try StreamBatcher(tokens: Array(1...13), batchSize: 2, sequenceLength: 3)
        let batch = batcher.next()
        XCTAssertEqual(batch.timeMajor(batch.inputs), [1, 7, 2, 8, 3, 9])
        XCTAssertEqual(batch.timeMajor(batch.targets), [2, 8, 3, 9, 4, 10])
    }

    // MARK: Evaluation

    func testEvaluationBatchesOfTwentySixTokensPadTheEnd() {
        // 25 predictions in 2 rows of L = 13: row 0 positions 0…12, row 1 positions 13…24; 4 windows of 4.
        let batches = EvaluationBatches(tokens: Array(0..<26), batchSize: 2, sequenceLength: 4)
        XCTAssertEqual(batches.rowLength, 13)
        XCTAssertEqual(batches.count, 4)
        XCTAssertEqual(batches.targetTotal, 25)
        let x = TextBatch.ignoreIndex
        XCTAssertEqual(batches[0].inputs, [0, 1, 2, 3, 13, 14, 15, 16])
        XCTAssertEqual(batches[0].targets, [1, 2, 3, 4, 14, 15, 16, 17])
        XCTAssertTrue(batches[0].startsEpoch)
        XCTAssertEqual(batches[2].inputs, [8, 9, 10, 11, 21, 22, 23, 24])
        XCTAssertEqual(batches[2].targets, [9, 10, 11, 12, 22, 23, 24, 25])
        XCTAssertFalse(batches[2].startsEpoch)
        XCTAssertEqual(batches[3].inputs, [12, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(batches[3].targets, [13, x, x, x, x, x, x, x])
        XCTAssertEqual(batches.map(\.targetCount), [8, 8, 8, 1])
    }

    func testEvaluationBatchesCoverEveryPositionExactlyOnceInRowOrder() {
        for n in [0, 1, 2, 3, 10, 26, 101] {
            for batchSize in 1...5 {
                for sequenceLength in 1...6 {
                    let label = "N \(n), B \(batchSize), T \(sequenceLength)"
                    let batches = EvaluationBatches(tokens: Array(0..<n), batchSize: batchSize, sequenceLength: sequenceLength)
                    var rows = [[Int]](repeating: [], count: batchSize)
                    for batch in batches {
                        for b in 0..<batchSize {
                            for t in 0..<sequenceLength {
                                let (input, target) = (batch.inputs[b * sequenceLength + t], batch.targets[b * sequenceLength + t])
                                if target == TextBatch.ignoreIndex { continue }
                                XCTAssertEqual(target, input + 1, label)
                                rows[b].append(input)
                            }
                        }
                    }
                    // Concatenating the rows gives every input position 0..<N−1 once, in order,
                    // so each row is contiguous and a carried state is valid.
                    XCTAssertEqual(rows.flatMap { $0 }, Array(0..<max(0, n - 1)), label)
                    XCTAssertEqual(batches.reduce(0) { $0 + $1.targetCount }, max(0, n - 1), label)
                }
            }
        }
    }
}
