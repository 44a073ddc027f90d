import ArgumentParser
import Foundation
import Recurrent

/// `recurrent demo`: the lecture's worked examples, then a short LSTM training run on a task with a
/// known answer. The built-in default job of `scripts/main.sh`.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the lecture's worked examples and train a small LSTM on a delayed-echo task."
    )

    @Option(help: "Random seed for initialisation and data.")
    var seed: UInt64 = 1

    @Option(help: "Training steps for the delayed-echo task.")
    var steps: Int = 1500

    @Option(help: "How many steps the echo lags behind the input.")
    var delay: Int = 5

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
        guard delay >= 0 && delay < 50 else { throw ValidationError("--delay must be in 0..<50, got \(delay)") }
    }

    func run() throws {
        try Console.reportingErrors {
            try printWorkedExamples()
            print("")
            try trainDelayedEcho()
        }
    }

    /// The two forward-propagation examples of ../shared/reference/01 (values printed to two decimals).
    private func printWorkedExamples() throws {
        print("Worked examples (lecture 01, forward propagation)")
        // 'dogs': vocabulary {d, o, g, s}, three tanh hidden units, no biases, input 'd' = one-hot.
        let cell = try RNNCell(inputSize: 4, hiddenSize: 3, bias: false)
        try cell.loadStateDict([
            "weight_ih": Tensor(rows: [[0.6, 0.8, 0.4, 0.8], [0.2, 0.9, 0.8, 0.7], [0.9, 0.8, 0.1, 0.2]]),
            "weight_hh": Tensor(rows: [[0.1, 0.5, 0.1], [0.5, 0.9, 0.3], [0.3, 0.2, 0.1]]),
        ])
        let output = try Linear(inputSize: 3, outputSize: 4, bias: false)
        try output.loadStateDict(["weight": Tensor(rows: [[0.9, 0.8, 0.3], [0.2, 0.3, 0.4], [0.6, 0.9, 0.1], [0.5, 0.0, 0.3]])])
        let h = cell(Variable(Tensor(shape: [1, 4], scalars: [1, 0, 0, 0])), state: nil).output
        let y = output(h).softmax()
        print("  'dogs', input 'd':  h = \(format(h.value))   y = softmax(w_y h) = \(format(y.value))")

        // Series {0.2, 0.4, ...}: two sigmoid hidden units (see the errata), linear output.
        let wx = Variable(Tensor(rows: [[0.6], [0.2]]))
        let wy = Variable(Tensor(rows: [[0.4, 0.7]]))
        let hs = linear(Variable(Tensor(rows: [[0.2]])), weight: wx, bias: nil).sigmoid()  // zero state: w_h h = 0
        let ys = linear(hs, weight: wy, bias: nil)
        print("  series, input 0.2: h = \(format(hs.value))   y = w_y h = \(format(ys.value))")
    }

    private func format(_ t: Tensor) -> String {
        "[" + t.scalars.map { String(format: "%.2f", $0) }.joined(separator: ", ") + "]"
    }
}

extension DemoCommand {
    /// Trains a small LSTM to repeat its input `delay` steps later and prints its progress.
    private func trainDelayedEcho() throws {
        let task = try DelayedEchoTask(vocabularySize: 8, delay: delay, sequenceLength: max(20, 2 * delay + 10))
        var training = DelayedEchoTraining()
        training.maxSteps = steps
        training.seed = seed
        print("Training an LSTM (hidden \(training.hiddenSize), Adam lr \(training.learningRate)) to echo its input \(delay) steps later")
        let clock = ContinuousClock()
        let start = clock.now
        let (_, history) = try training.run(task) { progress in
            print(String(format: "  step %4d  loss %.4f  accuracy %6.2f%%", progress.step, progress.loss, 100 * progress.accuracy))
        }
        let seconds = (clock.now - start) / .seconds(1)
        let last = history.last!
        print(String(format: "Reached %.2f%% accuracy after %d steps in %.1f s.", 100 * last.accuracy, last.step, seconds))
    }
}
