import XCTest
import Recurrent

/// A bounded learning run: an LSTM trained with Adam must learn to echo its input 5 steps later.
final class LearningSmokeTests: XCTestCase {
    func testLSTMLearnsDelayedEchoAbove99Percent() throws {
        let task = try DelayedEchoTask(vocabularySize: 8, delay: 5, sequenceLength: 20)
        var training = DelayedEchoTraining()
        training.maxSteps = 1500
        training.targetAccuracy = 0.995
        training.seed = 1
        let (model, history) = try training.run(task)
        let last = try XCTUnwrap(history.last)
        XCTAssertLessThanOrEqual(last.step, 1500)
        // Judge on sequences the model has never seen, from an unrelated seed.
        var rng = RandomGenerator(seed: 2024)
        let accuracy = DelayedEchoTraining.accuracy(of: model, on: task, batchSize: 512, using: &rng)
        XCTAssertGreaterThan(accuracy, 0.99, "accuracy after \(last.step) steps")
        // Chance level is 1/8: the first evaluation must be far below the last, or nothing was learned.
        XCTAssertLessThan(try XCTUnwrap(history.first).accuracy, 0.6)
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
