import ArgumentParser
import Foundation
import Recurrent

extension ClassificationVocabulary.Level: ExpressibleByArgument {}
extension SequencePooling: ExpressibleByArgument {}

/// `recurrent classify`: sequence classification of labelled text (docs/applications.md).
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify texts: train a recurrent classifier on labelled text against a bag-of-words baseline, predict, evaluate.",
        subcommands: [ClassifyTrainCommand.self, ClassifyPredictCommand.self, ClassifyEvaluateCommand.self,
                      ClassifyGenerateCommand.self, ClassifyDemoCommand.self])
}

/// Where labelled examples come from: a file or folder, and its column names.
struct LabelledDataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The text column of a CSV/TSV file (default: 'text').", valueName: "name"))
    var textColumn: String?

    @Option(help: ArgumentHelp("The label column of a CSV/TSV file (default: 'label').", valueName: "name"))
    var labelColumn: String?

    func read(_ path: String, defaults: (text: String?, label: String?) = (nil, nil)) throws -> [LabelledExample] {
        try LabelledTextReader.read(from: URL(fileURLWithPath: path), textColumn: textColumn ?? defaults.text,
                                    labelColumn: labelColumn ?? defaults.label)
    }
}

/// `recurrent classify train`.
struct ClassifyTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a recurrent text classifier; report accuracy, macro-F1 and the confusion matrix next to a bag-of-words baseline.",
        discussion: """
        The data is a CSV/TSV file with a header line (one example per row; --text-column, --label-column), \
        or a folder with one sub-folder of .txt files per class, or the generated corpus (--corpus sentiment). \
        A stratified --val-fraction of it is held out to choose the best epoch; the scores are reported on \
        --test FILE when given, otherwise on that validation split. The baseline is multinomial logistic \
        regression on the words each text contains, trained and selected on the same split. Writes \
        DIR/config.json (configuration, vocabulary, labels) and DIR/model.safetensors (the best epoch's \
        weights) when training ends; while training, a resumable checkpoint every 30 s (or \
        --checkpoint-every N epochs) in DIR/checkpoints. --resume DIR continues an interrupted run \
        exactly where it stopped (its data, split and settings; --epochs may be raised; give --test \
        again to score on a test file). One run per DIR at a time.

        Example: recurrent classify generate --count 4000 --seed 1 --output train.csv && \
        recurrent classify generate --count 1000 --seed 2 --output test.csv && \
        recurrent classify train --data train.csv --test test.csv --out runs/sentiment
        """)

    enum Corpus: String, ExpressibleByArgument, CaseIterable {
        case sentiment
    }

    @Option(help: ArgumentHelp("Labelled training data: a CSV/TSV file or a folder of class folders.", valueName: "path"))
    var data: String?

    @Option(help: "A generated corpus instead of --data (sentiment: see 'classify generate').")
    var corpus: Corpus?

    @Option(help: "Examples of the generated corpus.")
    var corpusCount = 4000

    @Option(help: ArgumentHelp("Labelled test data, scored after training (same columns as --data).", valueName: "path"))
    var test: String?

    @OptionGroup var columns: LabelledDataOptions

    @Option(help: "Tokens: word (lowercased words and punctuation) or char (characters).")
    var level: ClassificationVocabulary.Level = .word

    @Option(help: "The most frequent tokens kept, counting <pad> and <unk> (the rest read as <unk>).")
    var vocabularySize = 20_000

    @Option(help: "Tokens read per text: the first ones, the rest are ignored (at most \(TextClassifier.maximumMaxLength)).")
    var maxLength = TextClassifier.defaultMaxLength

    @Option(help: "The recurrent cell: \(CellKind.names).")
    var cell: CellKind = .lstm

    @Flag(help: "Read each text in both directions.")
    var bidirectional = false

    @Option(help: "How the outputs become one vector per text: \(SequencePooling.names) (last: each text's final state).")
    var pooling: SequencePooling = .last

    @Option(help: "Embedding size.")
    var embedding = 32

    @Option(help: "Hidden units per direction.")
    var hidden = 64

    @Option(help: "Stacked recurrent layers.")
    var layers = 1

    @Option(help: "Dropout on the pooled vector (and between layers) while training.")
    var dropout: Float = 0

    @Option(help: "Training epochs (the epoch with the best validation accuracy is kept; default 10).")
    var epochs: Int?

    @Option(help: "Texts per batch.")
    var batch = 32

    @Option(help: "Learning rate (Adam).")
    var lr: Float = 0.003

    @Option(help: "Clip the global gradient norm to this value (0: no clipping).")
    var clip: Float = 1

    @Option(help: "The fraction of the data held out for validation (stratified by class).")
    var valFraction = 0.1

    @Option(help: "Random seed (initialisation, split, batch order, generated corpus).")
    var seed: UInt64 = 1

    @Flag(inversion: .prefixedNo, help: "Train and report the bag-of-words logistic-regression baseline.")
    var baseline = true

    @Option(help: ArgumentHelp("The run directory for config.json, model.safetensors and checkpoints (with --resume: default the run's).",
                               valueName: "dir"))
    var out: String?

    @OptionGroup var resuming: ResumeOptions
    private var resume: String? { resuming.resume }

    @Flag(help: "Print JSON lines (one per epoch, then a summary) instead of text.")
    var json = false

    @OptionGroup var threading: ThreadingOptions

    func validate() throws {
        if resume == nil {
            guard (data == nil) != (corpus == nil) else {
                throw ValidationError("give exactly one of --data PATH and --corpus \(Corpus.allCases.map(\.rawValue).joined(separator: "|"))")
            }
            guard out != nil else { throw ValidationError("give --out DIR (or --resume DIR)") }
        } else if data != nil || corpus != nil {
            throw ValidationError("--data and --corpus cannot be combined with --resume (the run remembers its data)")
        }
        guard corpusCount >= 10 else { throw ValidationError("--corpus-count must be at least 10, got \(corpusCount)") }
        guard vocabularySize >= 3 else { throw ValidationError("--vocabulary-size must be at least 3 (<pad>, <unk> and one token), got \(vocabularySize)") }
        guard maxLength >= 1 && maxLength <= TextClassifier.maximumMaxLength else {
            throw ValidationError("--max-length must be in 1...\(TextClassifier.maximumMaxLength), got \(maxLength)")
        }
        guard valFraction >= 0 && valFraction < 1 else { throw ValidationError("--val-fraction must be in [0, 1), got \(valFraction)") }
        guard test != nil || valFraction > 0 else {
            throw ValidationError("--val-fraction 0 leaves nothing to score: give --test FILE or a positive --val-fraction")
        }
        guard clip >= 0 else { throw ValidationError("--clip must be non-negative, got \(clip)") }
        guard hidden >= 1, embedding >= 1, layers >= 1 else { throw ValidationError("--hidden, --embedding and --layers must be positive") }
        guard epochs ?? 1 >= 1, batch >= 1 else { throw ValidationError("--epochs and --batch must be positive") }
        guard lr > 0 else { throw ValidationError("--lr must be positive, got \(lr)") }
        guard dropout >= 0 && dropout < 1 else { throw ValidationError("--dropout must be in [0, 1), got \(dropout)") }
    }

    func run() throws {
        try Console.reportingErrors {
            threading.apply()
            let directory = URL(fileURLWithPath: out ?? resume!)
            try withRunDirectoryLock(directory) { try train(into: directory) }
        }
    }

    /// The data of a run: where it came from, all of it and its split.
    private struct RunData {
        var source: String
        var all: TextClassificationDataset
        var training: TextClassificationDataset
        var validation: TextClassificationDataset
        /// How to read it again (saved in checkpoints).
        var description: [String: String]
    }

    /// Reads (or generates) the labelled texts of `description` (see `RunData.description`) and
    /// encodes them with the run's vocabulary when resuming (`run`), or builds the vocabulary.
    private func readData(_ description: [String: String], resuming run: TextClassificationRun?) throws -> RunData {
        let splitSeed = run?.training.seed ?? seed
        let examples: [LabelledExample]
        let source: String
        if let path = description["data"] {
            examples = try LabelledTextReader.read(from: URL(fileURLWithPath: path), textColumn: description["textColumn"],
                                                   labelColumn: description["labelColumn"])
            source = path
        } else {
            let count = Int(description["corpusCount"] ?? "") ?? corpusCount
            examples = SentimentCorpus.examples(count: count, seed: splitSeed)
            source = "generated sentiment corpus (\(count) examples, seed \(splitSeed))"
        }
        let all = try run.map { try TextClassificationDataset(examples, vocabulary: $0.vocabulary, labels: $0.labels, maxLength: $0.maxLength ?? TextClassifier.defaultMaxLength) }
            ?? TextClassificationDataset(training: examples, level: level, maxVocabularySize: vocabularySize, maxLength: maxLength, path: source)
        let (training, validation) = try all.split(validationFraction: Double(description["validationFraction"] ?? "") ?? valFraction,
                                                   seed: splitSeed)
        return RunData(source: source, all: all, training: training, validation: validation, description: description)
    }

    /// A new trainer and its data, or the run of `--resume` with its data read again.
    private func makeTrainer(_ directory: URL) throws -> (TextClassificationTrainer, RunData) {
        if let resume {
            let checkpoint = try TextClassificationTrainingCheckpoint.load(from: URL(fileURLWithPath: resume))
            let run = try readData(checkpoint.data, resuming: checkpoint.configuration)
            let trainer = try TextClassificationTrainer(resuming: checkpoint, outputDirectory: directory) { run in
                if let epochs { run.training.epochs = epochs }
            }
            return (trainer, run)
        }
        var description = ["validationFraction": "\(valFraction)", "vocabularySize": "\(vocabularySize)"]
        if let data {
            description["data"] = data
            description["textColumn"] = columns.textColumn ?? LabelledTextReader.defaultTextColumn
            description["labelColumn"] = columns.labelColumn ?? LabelledTextReader.defaultLabelColumn
        } else {
            description["corpusCount"] = "\(corpusCount)"
        }
        // Everything that can be wrong with the input is checked before anything is written.
        let run = try readData(description, resuming: nil)
        try checkRunDirectory(directory)
        let modelConfiguration = TextClassifierConfiguration(
            cell: cell, vocabularySize: run.all.vocabulary.count, classCount: run.all.labels.count, embeddingSize: embedding,
            hiddenSize: hidden, numLayers: layers, bidirectional: bidirectional, pooling: pooling, dropout: dropout)
        let trainingConfiguration = TextClassificationTrainingConfiguration(
            epochs: epochs ?? 10, batchSize: batch, learningRate: lr, clipNorm: clip > 0 ? clip : nil, seed: seed)
        var rng = RandomGenerator(seed: seed)
        let model = try TextClassifier(modelConfiguration, vocabulary: run.all.vocabulary, labels: run.all.labels,
                                       maxLength: maxLength, using: &rng)
        let trainer = try TextClassificationTrainer(model: model, configuration: trainingConfiguration, outputDirectory: directory,
                                                    dataSource: description)
        return (trainer, run)
    }

    private func train(into directory: URL) throws {
        let (trainer, run) = try makeTrainer(directory)
        let model = trainer.model, m = model.configuration, all = run.all, training = run.training, validation = run.validation
        let testData = try test.map {
            try TextClassificationDataset(columns.read($0, defaults: (run.description["textColumn"], run.description["labelColumn"])),
                                          vocabulary: all.vocabulary, labels: all.labels, maxLength: model.maxLength)
        }
        let epochs = trainer.configuration.epochs
        let scored = testData ?? validation
        let scoredName = test.map { "test file \($0)" } ?? "validation split"
        if json {
            Console.printJSON(["event": "start", "examples": all.count, "train": training.count, "validation": validation.count,
                               "test": testData?.count ?? 0, "labels": all.labels, "vocabulary": all.vocabulary.count,
                               "parameters": model.parameterCount])
        } else {
            let counts = zip(all.labels, all.classCounts).map { "\($0) \($1)" }.joined(separator: ", ")
            Console.line("\(all.count) examples from \(run.source): \(all.labels.count) classes (\(counts)); "
                         + "\(all.vocabulary.count) \(all.vocabulary.level == .word ? "words" : "characters") in the vocabulary")
            Console.line("train \(training.count), validation \(validation.count)"
                         + (testData.map { ", test \($0.count) (\(test!))" } ?? "")
                         + "; model: \(m.cell.rawValue)\(m.bidirectional ? " bidirectional" : ""), embedding \(m.embeddingSize), "
                         + "hidden \(m.hiddenSize), \(m.numLayers) layer\(m.numLayers == 1 ? "" : "s"), pooling \(m.pooling.rawValue): "
                         + "\(model.parameterCount) parameters")
        }
        let started = Date()
        var lastShown = Date.distantPast
        try trainer.train(training, validation: validation.count > 0 ? validation : nil,
                          checkpoints: resuming.interval, batchProgress: { epoch, k, n, loss in
            guard !json, Console.standardOutputIsTerminal, Date().timeIntervalSince(lastShown) > 0.1 || k == n else { return }
            lastShown = Date()
            Console.progress(String(format: "epoch %d/%d  batch %d/%d  loss %.4f", epoch, epochs, k, n, loss))
        }) { report in
            if json {
                Console.printJSON(["event": "epoch", "epoch": report.epoch, "trainLoss": report.trainingLoss,
                                   "trainAccuracy": report.trainingAccuracy,
                                   "validationLoss": report.validationLoss.map { $0 as Any } ?? NSNull(),
                                   "validationAccuracy": report.validation.map { $0.accuracy as Any } ?? NSNull(),
                                   "best": report.isBest, "seconds": report.seconds])
            } else {
                let validationText = report.validation.map {
                    String(format: "  val loss %.4f  val acc %.4f", report.validationLoss ?? .nan, $0.accuracy)
                } ?? ""
                Console.line(String(format: "epoch %d/%d  loss %.4f  train acc %.4f", report.epoch, epochs, report.trainingLoss,
                                    report.trainingAccuracy) + validationText + (report.isBest ? "  (best)" : "")
                             + "  \(formatDuration(report.seconds))")
            }
        }
        let seconds = Date().timeIntervalSince(started)
        let bestEpoch = trainer.bestEpoch ?? epochs
        let metrics = TextClassificationTrainer.evaluate(model, on: scored).metrics
        let baselineMetrics = try baseline
            ? BagOfWordsClassifier(training: training, validation: validation.count > 0 ? validation : nil,
                                   maxVocabularySize: Int(run.description["vocabularySize"] ?? "") ?? vocabularySize,
                                   seed: trainer.configuration.seed).evaluate(on: scored)
            : nil
        // The best epoch's weights, with the final scores.
        try TextClassificationCheckpoint.save(
            model, to: directory, textColumn: run.description["textColumn"], labelColumn: run.description["labelColumn"],
            training: trainer.configuration,
            summary: .init(epoch: bestEpoch, validationAccuracy: test == nil ? metrics.accuracy : nil,
                           validationMacroF1: test == nil ? metrics.macroF1 : nil, baselineAccuracy: baselineMetrics?.accuracy))
        let out = self.out ?? resume!
        if json {
            var summary: [String: Any] = ["event": "done", "scoredOn": test == nil ? "validation" : "test", "bestEpoch": bestEpoch,
                                          "model": metrics.jsonObject, "seconds": seconds, "checkpoint": out]
            summary["baseline"] = baselineMetrics?.jsonObject ?? NSNull()
            Console.printJSON(summary)
            return
        }
        Console.line("best epoch \(bestEpoch) of \(epochs) (\(formatDuration(seconds))); scores on the \(scoredName) (\(scored.count) examples):")
        Console.line("method                              accuracy  macro-F1")
        Console.line("recurrent (\(m.cell.rawValue), pooling \(m.pooling.rawValue))".padding(toLength: 36, withPad: " ", startingAt: 0)
                     + String(format: "%8.4f  %8.4f", metrics.accuracy, metrics.macroF1))
        if let baselineMetrics {
            Console.line("bag-of-words logistic regression    " + String(format: "%8.4f  %8.4f", baselineMetrics.accuracy, baselineMetrics.macroF1))
        }
        for line in metrics.report(indent: "  ").dropFirst() { Console.line(line) }
        Console.line("saved \(out)/config.json, \(out)/model.safetensors")
    }

    /// Refuses to write into a directory whose config.json belongs to another kind of run.
    private func checkRunDirectory(_ url: URL) throws {
        let configuration = url.appendingPathComponent(TextClassificationCheckpoint.configurationFile)
        guard InputFile.kind(of: configuration) != nil else { return }
        // Anything there that is not a readable classify config.json (a FIFO, a directory, another format) is in use.
        let data = try? InputFile.read(configuration, limit: InputFile.jsonByteLimit)
        let object = data.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        guard object?["format"] as? String == TextClassificationCheckpoint.format else {
            throw CheckpointError.outputDirectoryInUse(path: url.path)
        }
    }
}

/// `recurrent classify predict`.
struct ClassifyPredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Print the most probable label and its probability for each text.",
        discussion: """
        The texts are the arguments, or the lines of --input FILE, or else the lines of standard input \
        (blank lines are skipped). Output: label, probability and text, tab-separated.

        Example: echo "the plot was not good" | recurrent classify predict --checkpoint runs/sentiment
        """)

    @Option(help: ArgumentHelp("The run directory written by 'classify train'.", valueName: "dir"))
    var checkpoint: String

    @Option(help: ArgumentHelp("A file with one text per line ('-': standard input).", valueName: "file"))
    var input: String?

    @Argument(help: "Texts to classify (instead of --input or standard input).")
    var texts: [String] = []

    @Flag(help: "Print one JSON object per text with every label's probability.")
    var json = false

    func validate() throws {
        if input != nil, !texts.isEmpty { throw ValidationError("give texts as arguments or --input FILE, not both") }
    }

    func run() throws {
        try Console.reportingErrors {
            let (classifier, _) = try TextClassificationCheckpoint.load(from: URL(fileURLWithPath: checkpoint))
            var lines = texts
            if texts.isEmpty {
                let data: Data
                if let input, input != "-" {
                    do { data = try InputFile.read(URL(fileURLWithPath: input), limit: .max) } catch let error as InputFileError {
                        throw ClassificationDataError.unreadable(path: input, reason: error.reason)
                    }
                } else {
                    data = FileHandle.standardInput.readDataToEndOfFile()
                }
                guard let text = String(data: data, encoding: .utf8) else {
                    throw ClassificationDataError.unreadable(path: input ?? "standard input", reason: "not valid UTF-8")
                }
                lines = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline).map(String.init)
            }
            lines = lines.filter { !$0.allSatisfy(\.isWhitespace) }
            for start in stride(from: 0, to: lines.count, by: 256) {
                let part = Array(lines[start..<min(start + 256, lines.count)])
                for (text, prediction) in zip(part, classifier.predict(part)) {
                    if json {
                        Console.printJSON(["text": text, "label": prediction.label, "probability": Double(prediction.probability),
                                           "probabilities": Dictionary(uniqueKeysWithValues: zip(classifier.labels,
                                                                                                 prediction.probabilities.map(Double.init)))])
                    } else {
                        Console.line("\(prediction.label)\t\(String(format: "%.4f", prediction.probability))\t\(text)")
                    }
                }
            }
        }
    }
}

/// `recurrent classify evaluate`.
struct ClassifyEvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score a trained classifier on labelled text: accuracy, macro-F1, per-class precision and recall, confusion matrix.",
        discussion: """
        The columns default to those the model was trained with. Every label must be one the model knows.

        Example: recurrent classify evaluate --checkpoint runs/sentiment --data test.csv
        """)

    @Option(help: ArgumentHelp("The run directory written by 'classify train'.", valueName: "dir"))
    var checkpoint: String

    @Option(help: ArgumentHelp("Labelled data: a CSV/TSV file or a folder of class folders.", valueName: "path"))
    var data: String

    @OptionGroup var columns: LabelledDataOptions

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        try Console.reportingErrors {
            let (classifier, contents) = try TextClassificationCheckpoint.load(from: URL(fileURLWithPath: checkpoint))
            let examples = try columns.read(data, defaults: (contents.textColumn, contents.labelColumn))
            let dataset = try TextClassificationDataset(examples, vocabulary: classifier.vocabulary, labels: classifier.labels,
                                                        maxLength: classifier.maxLength)
            let (metrics, loss) = TextClassificationTrainer.evaluate(classifier, on: dataset)
            if json {
                var object = metrics.jsonObject
                object["loss"] = loss
                Console.printJSON(object)
                return
            }
            Console.line("\(dataset.count) examples from \(data); mean cross-entropy \(String(format: "%.4f", loss))")
            for line in metrics.report() { Console.line(line) }
        }
    }
}

/// `recurrent classify generate`.
struct ClassifyGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write the generated sentiment corpus (movie-review-like sentences where word order decides the label).",
        discussion: """
        Negations ("the plot was not good") and contrasts ("the acting was clever but the plot was dull": the \
        clause after "but" decides) make the label depend on word order, so a bag of words cannot reach a \
        recurrent model's accuracy. The texts are generated, not real reviews. CSV with the header text,label \
        (TSV when FILE ends in .tsv).

        Example: recurrent classify generate --count 4000 --seed 1 --output train.csv
        """)

    @Option(help: "Examples to write.")
    var count = 4000

    @Option(help: "Random seed (the same seed gives the same file).")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("The file to write.", valueName: "file"))
    var output: String

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be positive, got \(count)") }
    }

    func run() throws {
        try Console.reportingErrors {
            let url = URL(fileURLWithPath: output)
            let text = url.pathExtension.lowercased() == "tsv"
                ? "text\tlabel\n" + SentimentCorpus.examples(count: count, seed: seed).map { "\($0.text)\t\($0.label)\n" }.joined()
                : SentimentCorpus.csv(count: count, seed: seed)
            try AtomicFile.write(Data(text.utf8), to: url)
            Console.line("wrote \(count) labelled sentences to \(output)")
        }
    }
}
