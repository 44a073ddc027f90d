import ArgumentParser
import Foundation
import Recurrent

/// `recurrent demo`: the lecture's worked examples, then a small LSTM language model trained on a
/// generated arithmetic corpus, sampled, and the sampled equations checked. The built-in default job
/// of `scripts/main.sh` (about a minute).
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Worked examples, then train a small language model on generated arithmetic and check its samples."
    )

    @Option(help: "Random seed for the corpus, initialisation and sampling.")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Seconds of training.", valueName: "seconds"))
    var timeBudget: Double = 45

    @Option(help: ArgumentHelp("The run directory (replaced if it holds an earlier run).", valueName: "dir"))
    var out = "runs/demo"

    @OptionGroup var threading: ThreadingOptions

    func validate() throws {
        guard timeBudget > 0 else { throw ValidationError("--time-budget must be positive, got \(timeBudget)") }
    }

    func run() throws {
        try Console.reportingErrors {
            threading.apply()
            try printWorkedExamples()
            Console.line("")
            try trainArithmeticModel()
        }
    }

    /// The two forward-propagation examples of lecture 01 ("Recurrent Neural Network", the worked
    /// examples of forward propagation; values printed to two decimals).
    private func printWorkedExamples() throws {
        Console.line("Worked examples (lecture 01, forward propagation)")
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
        Console.line("  'dogs', input 'd':  h = \(format(h.value))   y = softmax(w_y h) = \(format(y.value))")

        // Series {0.2, 0.4, ...}: two sigmoid hidden units (see the errata), linear output.
        let wx = Variable(Tensor(rows: [[0.6], [0.2]]))
        let wy = Variable(Tensor(rows: [[0.4, 0.7]]))
        let hs = linear(Variable(Tensor(rows: [[0.2]])), weight: wx, bias: nil).sigmoid()  // zero state: w_h h = 0
        let ys = linear(hs, weight: wy, bias: nil)
        Console.line("  series, input 0.2: h = \(format(hs.value))   y = w_y h = \(format(ys.value))")
    }

    private func format(_ t: Tensor) -> String {
        "[" + t.scalars.map { String(format: "%.2f", $0) }.joined(separator: ", ") + "]"
    }
}

extension DemoCommand {
    /// Trains an LSTM language model on generated equations such as `12+7=19`, samples from it and
    /// counts how many sampled equations are correct.
    private func trainArithmeticModel() throws {
        let text = GeneratedCorpus.arithmetic(lines: 200_000, seed: seed)
        Console.line("Language model: a 2-layer LSTM (hidden 128) learns arithmetic from \(text.count) generated characters")
        Console.line("such as \"\(text.split(separator: "\n").prefix(3).joined(separator: "  "))\"; \(Int(timeBudget)) s of training.")
        let configuration = TrainingConfiguration(
            model: .init(cell: .lstm, vocabularySize: 1, embeddingSize: 32, hiddenSize: 128, numLayers: 2),
            batchSize: 32, sequenceLength: 64, learningRate: 0.005, timeBudget: timeBudget, evaluateEvery: 500, seed: seed)
        let corpus = try TextCorpus(text: text, source: "built-in arithmetic corpus", configuration: configuration.corpusConfiguration)
        let outURL = URL(fileURLWithPath: out)
        try withRunDirectoryLock(outURL) {
            try removeEarlierRun(at: outURL)
            try train(configuration, on: corpus, into: outURL)
        }
    }

    /// Trains into `outURL`, samples and checks the sampled equations.
    private func train(_ configuration: TrainingConfiguration, on corpus: TextCorpus, into outURL: URL) throws {
        let trainer = try LanguageModelTrainer(configuration: configuration, corpus: corpus, outputDirectory: outURL)
        let stopper = StopOnInterrupt(trainer.stopRequest)
        defer { stopper.cancel() }
        var progress = ProgressPrinter(json: false)
        let summary = try trainer.train { event in progress.handle(event) }
        progress.finish(summary, runDirectory: trainer.checkpointStore?.runDirectory)

        Console.line("\nSample (temperature 0.5):")
        let generator = try TextGenerator(model: trainer.model, vocabulary: corpus.vocabulary,
                                          options: .init(temperature: 0.5, seed: seed))
        let sample = try generator.generate(prime: "", length: 400).text
        Console.line(sample.split(separator: "\n").prefix(12).map { "  " + $0 }.joined(separator: "\n"))
        let check = GeneratedCorpus.checkArithmetic(sample)
        Console.line(String(format: "%d of %d sampled equations are correct (%.0f%%).", check.correct, check.total,
                     check.total > 0 ? 100 * Double(check.correct) / Double(check.total) : 0))
        Console.line("More: recurrent sample --checkpoint \(out) --prime \"7*8=\" --temperature 0")
    }

    /// Empties `url` (locked by this run) if it holds an earlier run (a `checkpoints` folder); refuses anything else.
    private func removeEarlierRun(at url: URL) throws {
        let manager = FileManager.default
        let contents = try manager.contentsOfDirectory(atPath: url.path).filter { $0 != RunDirectoryLock.fileName }
        guard contents.contains("checkpoints") || contents.isEmpty else {
            throw ConfigurationError(argument: "--out", reason: "\(url.path) exists and is not a run directory; choose another")
        }
        for entry in contents { try manager.removeItem(at: url.appendingPathComponent(entry)) }
    }
}
