import ArgumentParser
import Dispatch
import Foundation
import Recurrent

/// `recurrent train`: a language model on any text, with truncated BPTT over contiguous streams.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a character- or word-level language model on a text file.",
        discussion: """
        The text is split into a training part and, at its end, a validation part (--val-fraction). \
        Each of the --batch rows reads its own contiguous stretch of the text, --seq steps per window, \
        and carries its hidden state from window to window (truncated BPTT). Checkpoints, metrics.csv \
        and loss.svg go to --out; Ctrl-C stops cleanly after the current step with a final checkpoint.

        Example: recurrent train --text input.txt --cell lstm --hidden 256 --layers 2 --time-budget 300
        """
    )

    enum Corpus: String, ExpressibleByArgument, CaseIterable {
        case arithmetic, sentences
    }

    @Option(help: ArgumentHelp("The text file to train on.", valueName: "file"))
    var text: String?

    @Option(help: "A built-in generated corpus instead of --text (\(Corpus.allCases.map(\.rawValue).joined(separator: ", "))).")
    var corpus: Corpus?

    @Option(help: "Lines of the built-in corpus.")
    var corpusLines = 20_000

    @Option(help: "Token level: character, word or byte (byte accepts any file, also non-UTF-8).")
    var level: Vocabulary.Level = .character

    @Option(help: "Word level: the vocabulary size besides <unk>.")
    var vocabularySize = 10_000

    @Option(help: "The recurrent cell: \(CellKind.names).")
    var cell: LanguageModel.Cell = .lstm

    @Option(help: "Hidden units per layer.")
    var hidden = 256

    @Option(help: "Recurrent layers.")
    var layers = 2

    @Option(help: "Dropout between recurrent layers while training, in [0, 1].")
    var dropout: Float = 0.25

    @Option(help: "Embedding size.")
    var embedding = 64

    @Option(help: "Rows per batch (contiguous streams).")
    var batch = 32

    @Option(help: "Steps per window: the truncated-BPTT length, k1 = k2 (default 64).")
    var seq: Int?

    @Option(help: "Truncated BPTT(k1, k2): new steps per window, i.e. steps between updates (the same as --seq).")
    var k1: Int?

    @Option(help: "Truncated BPTT(k1, k2): steps each update back-propagates through (default k1).")
    var k2: Int?

    @Flag(help: "Carry the hidden state across epoch boundaries (continuous) instead of resetting it (epochwise).")
    var continuous = false

    @Option(help: "The optimizer: adam, sgd, rmsprop or adagrad.")
    var optimizer: TrainingConfiguration.OptimizerKind = .adam

    @Option(help: "Learning rate.")
    var lr: Float = 0.002

    @Option(help: "Learning-rate decay per epoch, in (0, 1] (1: constant).")
    var lrDecay: Float = 0.97

    @Option(help: "Clip the global gradient norm to this value (0: no clipping).")
    var clip: Float = 5

    @Option(help: "Clip every gradient element to ±this value (default: no value clipping).")
    var clipValue: Float?

    @Option(help: "Stop after this many epochs (default 10 unless --time-budget is given).")
    var epochs: Int?

    @Option(help: ArgumentHelp("Stop after this many seconds of training (evaluations not counted).", valueName: "seconds"))
    var timeBudget: Double?

    @Option(help: "Stop after this many steps.")
    var maxSteps: Int?

    @Option(help: "The fraction at the end of the text used for validation, in [0, 1).")
    var valFraction: Double = 0.1

    @Option(help: "Evaluate, sample and checkpoint every this many steps.")
    var evalEvery = 200

    @Option(help: "Random seed (initialisation, dropout, samples, built-in corpus).")
    var seed: UInt64 = 1

    @Option(name: .customLong("init"), help: "Initialisation of the recurrent weights: pytorch (default), orthogonal or identity.")
    var initialization: InitializationScheme?

    @Option(help: ArgumentHelp("LSTM: the forget-gate bias (bias_ih + bias_hh of the f block; 1 is common).", valueName: "x"))
    var forgetBias: Float?

    @Option(help: ArgumentHelp("Word level: load the rows of known words from a GloVe or word2vec text file (dimension = --embedding).",
                               valueName: "file"))
    var embeddings: String?

    @Flag(help: "Keep the embedding loaded by --embeddings fixed while training.")
    var freezeEmbeddings = false

    @OptionGroup var threading: ThreadingOptions

    @Option(help: ArgumentHelp("The run directory for checkpoints, metrics.csv and loss.svg.", valueName: "dir"))
    var out: String?

    @Option(help: ArgumentHelp("Continue the run saved in this directory, exactly where it stopped.", valueName: "dir"))
    var resume: String?

    @Option(help: "Characters (tokens) sampled at each evaluation (0: none).")
    var sampleLength = 200

    @Option(help: "Temperature of the samples shown at evaluations.")
    var sampleTemperature: Float = 0.8

    @Flag(help: "Print one JSON object per evaluation and a final summary instead of progress.")
    var json = false

    func validate() throws {
        if resume == nil {
            guard (text == nil) != (corpus == nil) else {
                throw ValidationError("give exactly one of --text FILE and --corpus \(Corpus.allCases.map(\.rawValue).joined(separator: "|"))")
            }
        } else if corpus != nil {
            throw ValidationError("--corpus cannot be combined with --resume (the run remembers its text)")
        } else if embeddings != nil || freezeEmbeddings || initialization != nil || forgetBias != nil {
            throw ValidationError("--embeddings, --freeze-embeddings, --init and --forget-bias cannot be combined with --resume (the run remembers its weights and settings)")
        }
        if embeddings != nil && level != .word {
            throw ValidationError("--embeddings needs --level word, got --level \(level.rawValue)")
        }
        if freezeEmbeddings && embeddings == nil { throw ValidationError("--freeze-embeddings needs --embeddings FILE") }
        guard corpusLines > 0 else { throw ValidationError("--corpus-lines must be positive, got \(corpusLines)") }
        guard sampleLength >= 0 else { throw ValidationError("--sample-length must not be negative, got \(sampleLength)") }
        guard clip >= 0 else { throw ValidationError("--clip must not be negative, got \(clip)") }
        if let k1 {
            guard k1 > 0 else { throw ValidationError("--k1 must be positive, got \(k1)") }
            if let seq, seq != k1 { throw ValidationError("--k1 \(k1) and --seq \(seq) disagree (--k1 is --seq)") }
        }
        if let k2, k2 <= 0 { throw ValidationError("--k2 must be positive, got \(k2)") }
    }

    func run() throws {
        try Console.reportingErrors {
            threading.apply()
            // A resumed checkpoint outside a run directory, without --out, writes nothing.
            guard let directory = try runDirectory() else { return try train() }
            try withRunDirectoryLock(directory) { try train() }
        }
    }

    /// Where the run writes: --out, the resumed checkpoint's run directory, or runs/<name of the text>.
    private func runDirectory() throws -> URL? {
        if let out { return URL(fileURLWithPath: out) }
        if let resume { return try TrainingCheckpoint.resolve(URL(fileURLWithPath: resume)).run }
        return URL(fileURLWithPath: "runs").appendingPathComponent(
            text.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent } ?? corpus!.rawValue)
    }

    private func train() throws {
        let trainer = try makeTrainer()
        trainer.sampleHook = sampleLength > 0 ? sampleHook : nil
        let stopper = StopOnInterrupt(trainer.stopRequest)
        defer { stopper.cancel() }
        var progress = ProgressPrinter(json: json)
        let summary = try trainer.train { event in progress.handle(event) }
        progress.finish(summary, runDirectory: trainer.checkpointStore?.runDirectory)
    }

    // MARK: Building the run

    /// k1: --k1 or --seq.
    private var windowLength: Int { k1 ?? seq ?? 64 }

    private var trainingConfiguration: TrainingConfiguration {
        let model = LanguageModel.Configuration(cell: cell, vocabularySize: 1, embeddingSize: embedding,
                                                hiddenSize: hidden, numLayers: layers, dropout: dropout)
        var configuration = TrainingConfiguration(
            model: model, level: level, maxVocabularySize: vocabularySize, validationFraction: valFraction,
            batchSize: batch, sequenceLength: windowLength, optimizer: optimizer, learningRate: lr, learningRateDecay: lrDecay,
            clipNorm: clip > 0 ? clip : nil, clipValue: clipValue,
            epochs: epochs ?? (timeBudget == nil && maxSteps == nil ? 10 : nil), timeBudget: timeBudget,
            maxSteps: maxSteps, evaluateEvery: evalEvery, seed: seed)
        configuration.backpropagationLength = k2.flatMap { $0 == windowLength ? nil : $0 }
        configuration.continuousState = continuous ? true : nil
        configuration.initialization = initialization
        configuration.forgetBias = forgetBias
        configuration.freezeEmbeddings = freezeEmbeddings ? true : nil
        return configuration
    }

    private func makeTrainer() throws -> LanguageModelTrainer {
        let outURL = out.map { URL(fileURLWithPath: $0) }
        if let resume {
            let checkpoint = try TrainingCheckpoint.load(from: URL(fileURLWithPath: resume))
            let configuration = checkpoint.configuration.corpusConfiguration
            let corpus: TextCorpus
            if text == nil, let builtIn = BuiltInCorpus(source: checkpoint.corpusSource) {
                corpus = try TextCorpus(text: builtIn.text, source: builtIn.source, configuration: configuration,
                                        vocabulary: checkpoint.vocabulary)
            } else {
                corpus = try TextCorpus.load(from: URL(fileURLWithPath: text ?? checkpoint.corpusSource),
                                             configuration: configuration, vocabulary: checkpoint.vocabulary)
            }
            return try LanguageModelTrainer(resuming: checkpoint, corpus: corpus, outputDirectory: outURL) { config in
                if let epochs { config.epochs = epochs }
                if let timeBudget { config.timeBudget = timeBudget }
                if let maxSteps { config.maxSteps = maxSteps }
                config.evaluateEvery = evalEvery
            }
        }
        let configuration = trainingConfiguration
        try configuration.validate()
        let corpusData: TextCorpus
        if let text {
            corpusData = try TextCorpus.load(from: URL(fileURLWithPath: text), configuration: configuration.corpusConfiguration)
        } else {
            let builtIn = BuiltInCorpus(kind: corpus!, lines: corpusLines, seed: seed)
            corpusData = try TextCorpus(text: builtIn.text, source: builtIn.source, configuration: configuration.corpusConfiguration)
        }
        let trainer = try LanguageModelTrainer(configuration: configuration, corpus: corpusData, outputDirectory: try runDirectory())
        if let embeddings { try loadEmbeddings(embeddings, into: trainer) }
        return trainer
    }

    /// `--embeddings FILE`: reads the vectors, copies the rows of the words they know, reports how many.
    private func loadEmbeddings(_ path: String, into trainer: LanguageModelTrainer) throws {
        let vectors = try WordVectors.load(contentsOf: URL(fileURLWithPath: path))
        let report = try trainer.loadPretrainedEmbeddings(vectors, source: path)
        if json {
            Console.printJSON(["event": "embeddings", "file": path, "found": report.found,
                               "found_lowercase": report.foundByLowercase, "missing": report.missing,
                               "vocabulary_size": report.vocabularySize, "frozen": freezeEmbeddings])
        } else {
            Console.line("embeddings: \(report.found) of \(report.vocabularySize) vocabulary tokens found in \(path)"
                         + (report.foundByLowercase > 0 ? " (\(report.foundByLowercase) by lower case)" : "")
                         + "; \(report.missing) keep their random initialisation"
                         + (freezeEmbeddings ? "; the embedding is frozen" : ""))
        }
    }

    private var sampleHook: LanguageModelTrainer.SampleHook {
        let length = sampleLength, temperature = sampleTemperature
        return { model, vocabulary, generator in
            let sampler = try TextGenerator(model: model, vocabulary: vocabulary,
                                            options: .init(temperature: temperature))
            sampler.random = generator
            defer { generator = sampler.random }
            return try sampler.generate(prime: "", length: length).text
        }
    }
}

/// A generated corpus, named in checkpoints as `builtin:KIND:LINES:SEED` so that a resumed run
/// regenerates exactly the same text.
struct BuiltInCorpus {
    var kind: TrainCommand.Corpus
    var lines: Int
    var seed: UInt64

    init(kind: TrainCommand.Corpus, lines: Int, seed: UInt64) {
        self.kind = kind
        self.lines = lines
        self.seed = seed
    }

    /// Parses a checkpoint's corpus source; nil when it names a file.
    init?(source: String) {
        let parts = source.split(separator: ":")
        guard parts.count == 4, parts[0] == "builtin", let kind = TrainCommand.Corpus(rawValue: String(parts[1])),
              let lines = Int(parts[2]), let seed = UInt64(parts[3]) else { return nil }
        self.init(kind: kind, lines: lines, seed: seed)
    }

    var source: String { "builtin:\(kind.rawValue):\(lines):\(seed)" }

    var text: String {
        switch kind {
        case .arithmetic: return GeneratedCorpus.arithmetic(lines: lines, seed: seed)
        case .sentences: return GeneratedCorpus.sentences(lines: lines, seed: seed)
        }
    }
}

/// Turns training events into terminal progress, plain lines or JSON lines.
struct ProgressPrinter {
    let json: Bool
    private var start: TrainingStart?
    private var lastValidation: Double?
    private var lastShown = ContinuousClock.now - .seconds(1)

    init(json: Bool) { self.json = json }

    mutating func handle(_ event: TrainingEvent) {
        switch event {
        case .started(let s):
            start = s
            guard !json else { return }
            Console.line(String(format: "%@: %d parameters, %d training and %d validation tokens, %d steps per epoch",
                                s.resumed ? "resuming at step \(s.step)" : "training", s.parameterCount,
                                s.trainingTokens, s.validationTokens, s.windowsPerEpoch))
        case .step(let r):
            guard !json else { return }
            // A terminal line is redrawn at most 10 times a second; plain output gets a line every 50 steps.
            let now = ContinuousClock.now
            if Console.standardOutputIsTerminal ? now - lastShown < .milliseconds(100) : r.step % 50 != 0 { return }
            lastShown = now
            let eta = r.fractionComplete > 0 ? r.trainingSeconds * (1 - r.fractionComplete) / r.fractionComplete : .nan
            let validation = lastValidation.map { String(format: "%.4f", $0) } ?? "-"
            Console.progress(String(format: "epoch %.2f  step %d  loss %.4f  val %@  %.0f tok/s  ETA %@",
                                    Double(r.epoch) + Double(r.window + 1) / Double(r.windowsPerEpoch), r.step,
                                    r.trainLoss, validation, r.tokensPerSecond, formatDuration(eta)))
        case .evaluated(let e):
            lastValidation = e.validationLoss ?? lastValidation
            if json {
                Console.printJSON(jsonObject(e, event: "evaluation"))
                return
            }
            var line = String(format: "step %d  epoch %.2f  train %.4f", e.step, e.epoch, e.trainLoss)
            if let loss = e.validationLoss, let bits = e.validationBitsPerToken {
                line += String(format: "  val %.4f (%.3f bits)%@", loss, bits, e.isBest ? "  best" : "")
            }
            line += String(format: "  %.0f tok/s  %@", e.tokensPerSecond, formatDuration(e.trainingSeconds))
            Console.line(line)
            if let sample = e.sample {
                Console.line(sample.split(separator: "\n", omittingEmptySubsequences: false)
                    .map { "  | " + $0 }.joined(separator: "\n"))
            }
        case .checkpointWritten, .finished:
            break
        }
    }

    func finish(_ summary: TrainingSummary, runDirectory: URL?) {
        if json {
            Console.printJSON(jsonObject(summary, event: "summary"))
            return
        }
        var line = "done (\(summary.stopReason.rawValue.replacingOccurrences(of: "_", with: " "))): \(summary.steps) steps"
        line += String(format: " in %@ of training, %.0f tok/s", formatDuration(summary.seconds), summary.tokensPerSecond)
        if let loss = summary.validationLoss, let bits = summary.validationBitsPerToken {
            line += String(format: "; val loss %.4f nats (%.3f bits) per token", loss, bits)
        }
        Console.line(line)
        if let runDirectory { Console.line("checkpoints, metrics.csv and loss.svg in \(runDirectory.path)") }
    }

    private func jsonObject<T: Encodable>(_ value: T, event: String) -> [String: Any] {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard let data = try? encoder.encode(value),
              var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return ["event": event] }
        object["event"] = event
        return object
    }
}

/// Requests a clean stop on the first Ctrl-C (SIGINT); a second one ends the process.
final class StopOnInterrupt {
    private let source: DispatchSourceSignal

    init(_ request: LanguageModelTrainer.StopRequest) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [source] in
            request.request()
            Console.printError("\nstopping after this step (Ctrl-C again to quit now)")
            source.cancel()
            signal(SIGINT, SIG_DFL)
        }
        source.resume()
    }

    func cancel() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}

extension Vocabulary.Level: ExpressibleByArgument {}
extension LanguageModel.Cell: ExpressibleByArgument {}
extension TrainingConfiguration.OptimizerKind: ExpressibleByArgument {}
