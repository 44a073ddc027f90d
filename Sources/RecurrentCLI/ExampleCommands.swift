import ArgumentParser
import Foundation
import Recurrent

// The lectures' topologies as runnable demos on generated data (docs/architectures.md):
// `recurrent seq2seq`, `recurrent detect`, `recurrent classify demo`.

/// `recurrent seq2seq`: reversing digit strings with and without attention, accuracy by length.
struct Seq2SeqCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seq2seq",
        abstract: "Encoder–decoder demo: reverse digit strings with and without attention; accuracy by source length.")

    @Option(help: "Training steps per model.")
    var steps = 900

    @Option(help: "The longest source length trained and tested.")
    var maxLength = 10

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Write the attention heatmap of one reversal to this SVG file.", valueName: "file"))
    var heatmap: String?

    @OptionGroup var threading: ThreadingOptions

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
        guard (2...30).contains(maxLength) else { throw ValidationError("--max-length must be in 2...30, got \(maxLength)") }
    }

    func run() throws {
        try Console.reportingErrors {
            threading.apply()
            let task = try DigitSequenceTask(kind: .reverse, lengths: 1...maxLength)
            var models: [(name: String, model: EncoderDecoder)] = []
            for attention in [false, true] {
                var training = Seq2SeqTraining()
                training.attention = attention
                training.steps = steps
                training.seed = seed
                let name = attention ? "with attention" : "fixed context"
                Console.line("training the encoder–decoder \(name) (\(steps) steps)")
                models.append((name, try training.train(task, reportInterval: max(1, steps / 3)) { progress in
                    Console.line(String(format: "  step %d  loss %.4f", progress.step, progress.loss))
                }))
            }
            let lengths = Array(stride(from: 2, through: maxLength, by: max(1, maxLength / 5)))
            Console.line("\nexact-sequence accuracy (500 fresh strings per length)")
            Console.line("length  " + models.map { $0.name.padding(toLength: 16, withPad: " ", startingAt: 0) }.joined())
            for length in lengths {
                let cells = models.map { entry -> String in
                    var rng = RandomGenerator(seed: seed &+ UInt64(length))
                    let accuracy = Seq2SeqTraining.exactAccuracy(of: entry.model, on: task, length: length, count: 500, using: &rng)
                    return String(format: "%-16.3f", accuracy)
                }
                Console.line(String(format: "%6d  ", length) + cells.joined())
            }
            if let heatmap { try writeHeatmap(models[1].model, task: task, to: heatmap) }
        }
    }

    private func writeHeatmap(_ model: EncoderDecoder, task: DigitSequenceTask, to path: String) throws {
        var rng = RandomGenerator(seed: seed)
        let source = task.source(length: maxLength, using: &rng)
        let decoded = model.greedyDecode(sources: [source], maxLength: maxLength + 2)[0]
        guard let weights = decoded.attention else { return }
        let rows = weights.shape[0], columns = weights.shape[1]
        let map = try SVGHeatmap(
            title: "Attention while reversing \(source.map(String.init).joined())",
            values: (0..<rows).map { i in (0..<columns).map { Double(weights[i, $0]) } },
            rowLabels: (decoded.tokens.map { String($0 - 2) } + ["<eos>"]).prefix(rows).map { $0 },
            columnLabels: source.map(String.init), xLabel: "source digit j", yLabel: "output step i")
        try AtomicFile.write(Data(map.render().utf8), to: URL(fileURLWithPath: path))
        Console.line("attention heatmap written to \(path)")
    }
}

/// `recurrent detect`: finds the word "udacity" in a random letter stream (lecture 04).
struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Sequence detection demo: spot \"udacity\" in a random letter stream; precision and recall at threshold 0.9.")

    @Option(help: "The word to detect (letters a–z).")
    var word = "udacity"

    @Option(help: "Training steps.")
    var steps = 400

    @Option(help: "Letters in the evaluation stream.")
    var evaluationLength = 20_000

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @OptionGroup var threading: ThreadingOptions

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
        guard evaluationLength > 0 else { throw ValidationError("--evaluation-length must be positive, got \(evaluationLength)") }
    }

    func run() throws {
        try Console.reportingErrors {
            threading.apply()
            let task = try WordDetectionTask(word: word)
            var training = WordDetectionTraining()
            training.steps = steps
            training.seed = seed
            Console.line("training a GRU tagger to signal the end of \"\(word)\" (\(steps) steps)")
            let model = try training.train(task) { step, loss in
                if step % max(1, steps / 4) == 0 { Console.line(String(format: "  step %d  loss %.4f", step, loss)) }
            }
            let score = training.evaluate(model, on: task, length: evaluationLength, seed: seed &+ 1)
            Console.line(String(format: "on %d fresh letters at threshold %.1f: precision %.4f, recall %.4f (%d found, %d false alarms, %d missed)",
                                evaluationLength, training.threshold, score.precision, score.recall,
                                score.truePositives, score.falsePositives, score.falseNegatives))
        }
    }
}

/// `recurrent classify demo`: many-to-one sequence classification (sum of symbols modulo 3).
struct ClassifyDemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Many-to-one demo: classify symbol sequences by their sum modulo 3 from the final state.")

    @Option(help: "Training steps.")
    var steps = 300

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @OptionGroup var threading: ThreadingOptions

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
    }

    func run() throws {
        try Console.reportingErrors {
            threading.apply()
            let task = try ModularSumTask(modulus: 3, lengths: 1...10)
            Console.line("training a GRU classifier on sequences of length 1–10 (\(steps) steps)")
            let model = try task.train(steps: steps, seed: seed)
            var rng = RandomGenerator(seed: seed &+ 1)
            for length in [5, 10, 15, 20] {
                let accuracy = task.accuracy(of: model, length: length, count: 1000, using: &rng)
                Console.line(String(format: "  length %2d%@: accuracy %.3f", length, length > 10 ? " (longer than trained)" : "", accuracy))
            }
        }
    }
}
