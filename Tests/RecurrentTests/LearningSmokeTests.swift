import XCTest
import Recurrent
import RecurrentTestSupport

/// A bounded learning run: an LSTM trained with Adam must learn to echo its input 5 steps later.
final class LearningSmokeTests: XCTestCase {
    /// Trains with `seed` (at most 1500 steps, stopping at 99.5 % on the training evaluations) and
    /// judges on sequences the model has never seen, from an unrelated seed: the held-out accuracy, the
    /// steps taken and the first evaluation's accuracy.
    static func delayedEcho(seed: UInt64) throws -> (accuracy: Double, steps: Int, firstAccuracy: Double) {
        let task = try DelayedEchoTask(vocabularySize: 8, delay: 5, sequenceLength: 20)
        var training = DelayedEchoTraining()
        training.maxSteps = 1500
        training.targetAccuracy = 0.995
        training.seed = seed
        let (model, history) = try training.run(task)
        var rng = RandomGenerator(seed: 2024)
        let accuracy = DelayedEchoTraining.accuracy(of: model, on: task, batchSize: 512, using: &rng)
        return (accuracy, try XCTUnwrap(history.last).step, try XCTUnwrap(history.first).accuracy)
    }

    /// Thresholds inside the margins over 20 seeds (docs/learning-margins.md).
    func testLSTMLearnsDelayedEchoAbove99Percent() throws {
        let run = try Self.delayedEcho(seed: 1)
        XCTAssertLessThanOrEqual(run.steps, 1500)
        XCTAssertGreaterThan(run.accuracy, 0.99, "accuracy after \(run.steps) steps")
        // Chance level is 1/8: the first evaluation must be far below the last, or nothing was learned.
        XCTAssertLessThan(run.firstAccuracy, 0.6)
    }

    func testMarginsOverSeeds() throws {
        try LearningMargins.sweep("delayed echo") { seed in
            let run = try Self.delayedEcho(seed: seed)
            return [("accuracy", run.accuracy), ("steps", Double(run.steps)), ("first accuracy", run.firstAccuracy)]
        }
    }

    func testTrainingIsDeterministicUnderASeed() throws {
        let task = try DelayedEchoTask(vocabularySize: 6, delay: 2, sequenceLength: 10)
        var training = DelayedEchoTraining()
        training.maxSteps = 30
        training.evaluationInterval = 10
        let first = try training.run(task)
        let second = try training.run(task)
        XCTAssertEqual(first.history.map(\.loss), second.history.map(\.loss))
        XCTAssertEqual(first.model.stateDict().map(\.tensor), second.model.stateDict().map(\.tensor))
    }
}
