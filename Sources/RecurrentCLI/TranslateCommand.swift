import ArgumentParser
import Foundation
import Recurrent

/// `recurrent translate`: encoder–decoder translation on a parallel text (docs/applications.md, "Translation").
struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Translation / transduction: train an encoder–decoder on tab-separated pairs, translate, generate a task.",
        subcommands: [TranslateTrainCommand.self, TranslatePredictCommand.self, TranslateGenerateCommand.self])
}

/// The token level as typed: `character` (or `char`) and `word`.
struct TranslateLevelArgument: ExpressibleByArgument {
    var level: TranslationLevel
    init?(argument: String) {
        switch argument {
        case "character", "char": level = .character
        case "word": level = .word
        default: return nil
        }
    }
    static var allValueStrings: [String] { ["character", "word"] }
    var defaultValueDescription: String { level.rawValue }
}

/// The recurrent cell of encoder and decoder.
enum TranslateCell: String, ExpressibleByArgument, CaseIterable {
    case gru, lstm
    var kind: EncoderDecoder.Cell { self == .gru ? .gru : .lstm }
}

/// `recurrent translate train`.
struct TranslateTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an encoder–decoder on a parallel text; print the held-out exact match and BLEU-4.",
        discussion: """
        The file has one pair per line, source TAB target, in UTF-8 (blank lines are skipped). A random \
        --val-fraction of the pairs (by --seed) is held out; the vocabularies (<pad>, <s>, </s>, <unk> and \
        the tokens) come from the rest. Training: teacher forcing on shuffled padded batches, Adam, \
        gradient-norm clipping. The held-out pairs are then decoded (greedy, or --beam N) and scored by \
        exact match and corpus BLEU-4 over the level's tokens (characters at character level). With \
        --run-dir, writes DIR/config.json, DIR/model.safetensors and, with attention, DIR/attention.svg \
        (the first held-out pair) when training ends, and while training a resumable checkpoint every \
        30 s (or --checkpoint-every N steps) in DIR/checkpoints. --resume DIR continues an interrupted run \
        exactly where it stopped (its pairs file and settings; --steps or --epochs may be raised). One run \
        per DIR at a time.

        Example: recurrent translate generate --task dates --count 5000 --out dates.tsv
                 recurrent translate train --pairs dates.tsv --steps 1500 --run-dir runs/dates
        """)

    @Option(help: ArgumentHelp("The parallel text: one 'source<TAB>target' pair per line (with --resume: default the run's).",
                               valueName: "file"))
    var pairs: String?

    @Option(help: ArgumentHelp("Token level: character (or char) or word (whitespace-separated).", valueName: "level"))
    var level = TranslateLevelArgument(argument: "character")!

    @Flag(inversion: .prefixedNo, help: "Additive attention over the source (off: one fixed context vector).")
    var attention = true

    @Option(help: "The recurrent cell of encoder and decoder: gru or lstm.")
    var cell: TranslateCell = .gru

    @Option(help: "State size of encoder and decoder.")
    var hidden = 64

    @Option(help: "Embedding size of source and target tokens.")
    var embedding = 32

    @Option(help: "Training steps (batches); default 1000 unless --epochs is given.")
    var steps: Int?

    @Option(help: "Passes over the training pairs (instead of --steps).")
    var epochs: Int?

    @Option(help: "Pairs per batch.")
    var batch = 32

    @Option(help: "Learning rate (Adam).")
    var lr: Float = 0.005

    @Option(help: "Clip the global gradient norm to this value (0: no clipping).")
    var clip: Float = 5

    @Option(help: "The fraction of pairs held out for evaluation (0: none).")
    var valFraction = 0.1

    @Option(help: "Keep at most this many tokens per side besides the specials (default: all).")
    var vocabularySize: Int?

    @Option(help: "Decode the held-out pairs by beam search with this many hypotheses (1: greedy).")
    var beam = 1

    @Option(help: "The most tokens a source or target may have; a longer line is an error naming it (at most \(ParallelCorpus.largestMaximumTokens)).")
    var maxTokens = ParallelCorpus.defaultMaximumTokens

    @Option(help: "Random seed (split, initialisation, batch order).")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Save the model and checkpoints here (config.json, model.safetensors, attention.svg; with --resume: default the run's).",
                               valueName: "dir"))
    var runDir: String?

    @OptionGroup var resuming: ResumeOptions

    @Flag(help: "Print JSON lines (progress events, then the result) instead of text.")
    var json = false

    @OptionGroup var threading: ThreadingOptions

    func validate() throws {
        if resuming.resume == nil && pairs == nil { throw ValidationError("give --pairs FILE (or --resume DIR)") }
        if steps != nil && epochs != nil { throw ValidationError("give --steps or --epochs, not both") }
        if let steps, steps < 1 { throw ValidationError("--steps must be positive, got \(steps)") }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be positive, got \(epochs)") }
        guard beam >= 1 else { throw ValidationError("--beam must be at least 1, got \(beam)") }
        guard clip >= 0 && clip.isFinite else { throw ValidationError("--clip must be 0 (off) or positive, got \(clip)") }
        try validateMaxTokens(maxTokens)
    }

    func run() throws {
        try Console.reportingErrors {
            threading.apply()
            guard let directory = (runDir ?? resuming.resume).map({ URL(fileURLWithPath: $0) }) else { return try train(into: nil) }
            try withRunDirectoryLock(directory) { try train(into: directory) }
        }
    }

    /// A new trainer, or the run of `--resume` on its pairs file (unless --pairs is given).
    private func makeTrainer(_ directory: URL?) throws -> TranslationTrainer {
        if let resume = resuming.resume {
            let checkpoint = try TranslationTrainingCheckpoint.load(from: URL(fileURLWithPath: resume))
            let path = pairs ?? checkpoint.data["pairs"] ?? ""
            let corpus = try ParallelCorpus(contentsOf: URL(fileURLWithPath: path), level: checkpoint.configuration.level,
                                            maximumTokens: maxTokens)
            return try TranslationTrainer(resuming: checkpoint, corpus: corpus, outputDirectory: directory) { configuration in
                if steps != nil || epochs != nil { (configuration.steps, configuration.epochs) = (steps, epochs) }
            }
        }
        var configuration = TranslationConfiguration()
        configuration.level = level.level
        configuration.cell = cell.kind
        configuration.attention = attention
        configuration.hiddenSize = hidden
        configuration.embeddingSize = embedding
        configuration.steps = epochs == nil ? (steps ?? 1000) : nil
        configuration.epochs = epochs
        configuration.batchSize = batch
        configuration.learningRate = lr
        configuration.clipNorm = clip > 0 ? clip : nil
        configuration.validationFraction = valFraction
        configuration.maxVocabularySize = vocabularySize
        configuration.seed = seed
        try configuration.validate()
        let corpus = try ParallelCorpus(contentsOf: URL(fileURLWithPath: pairs!), level: level.level, maximumTokens: maxTokens)
        return try TranslationTrainer(configuration: configuration, corpus: corpus, outputDirectory: directory, dataSource: ["pairs": pairs!])
    }

    private func train(into directory: URL?) throws {
        let trainer = try makeTrainer(directory)
        let configuration = trainer.configuration, corpus = trainer.corpus, level = configuration.level
        let attention = configuration.attention, cell = configuration.cell
        let total = trainer.totalSteps
        if json {
            Console.printJSON(["event": "start", "pairs": corpus.pairs.count, "training": trainer.trainingPairs.count,
                               "heldOut": trainer.heldOutPairs.count, "sourceVocabulary": trainer.sourceVocabulary.count,
                               "targetVocabulary": trainer.targetVocabulary.count, "steps": total])
        } else {
            Console.line("\(corpus.pairs.count) pairs (\(level.rawValue) level): training \(trainer.trainingPairs.count), "
                         + "held out \(trainer.heldOutPairs.count); vocabularies \(trainer.sourceVocabulary.count) source, "
                         + "\(trainer.targetVocabulary.count) target tokens (with <pad> <s> </s> <unk>)")
            Console.line("training a \(cell.rawValue) encoder–decoder \(attention ? "with attention" : "with a fixed context") "
                         + "for \(total) steps")
        }
        let started = Date()
        let interval = max(1, total / 20)
        let result = try trainer.train(reportInterval: interval, checkpoints: resuming.interval) { progress in
            if json {
                Console.printJSON(["event": "progress", "step": progress.step, "epoch": progress.epoch, "loss": Double(progress.loss)])
            } else {
                Console.progress(String(format: "step %d/%d  epoch %.2f  loss %.4f  (%@)", progress.step, progress.totalSteps,
                                        progress.epoch, progress.loss, formatDuration(Date().timeIntervalSince(started))))
            }
        }
        Console.finishProgressLine()
        let seconds = Date().timeIntervalSince(started)
        let scores = beam == 1 ? result.heldOut : (trainer.heldOutPairs.isEmpty ? nil : result.translator.evaluate(trainer.heldOutPairs, beamWidth: beam))
        var heatmapPath: String?
        if let directory {
            try TranslationCheckpoint.save(result.translator, to: directory, training: configuration,
                                           trainingPairs: trainer.trainingPairs.count, heldOutPairs: trainer.heldOutPairs.count,
                                           heldOut: scores)
            if attention, let first = (trainer.heldOutPairs.first ?? trainer.trainingPairs.first) {
                let translation = result.translator.translate([first.source], beamWidth: beam)[0]
                let url = directory.appendingPathComponent("attention.svg")
                try AtomicFile.write(Data(try result.translator.attentionHeatmap(of: translation).render().utf8), to: url)
                heatmapPath = url.path
            }
        }
        if json {
            var object: [String: Any] = ["event": "result", "steps": result.steps, "loss": Double(result.finalLoss), "seconds": seconds,
                                         "attention": attention, "cell": cell.rawValue, "beam": beam]
            if let scores { object["heldOut"] = scoresObject(scores) }
            if let directory { object["runDir"] = runDir ?? directory.path }
            if let heatmapPath { object["heatmap"] = heatmapPath }
            Console.printJSON(object)
        } else {
            Console.line(String(format: "trained %d steps in %@, final loss %.4f", result.steps, formatDuration(seconds), result.finalLoss))
            if let scores {
                Console.line(String(format: "held out (%d pairs, %@): exact match %.3f (%d/%d), BLEU-4 %.3f",
                                    scores.count, beam == 1 ? "greedy" : "beam \(beam)", scores.exactMatch, scores.exactMatches,
                                    scores.count, scores.bleu))
            }
            if let directory {
                let out = runDir ?? directory.path
                Console.line("saved \(out)/config.json, \(out)/model.safetensors" + (heatmapPath.map { "; attention heatmap \($0)" } ?? ""))
            }
        }
    }
}

/// Throws unless `--max-tokens` is in 1...`ParallelCorpus.largestMaximumTokens`.
func validateMaxTokens(_ maxTokens: Int) throws {
    guard maxTokens >= 1 && maxTokens <= ParallelCorpus.largestMaximumTokens else {
        throw ValidationError("--max-tokens must be in 1...\(ParallelCorpus.largestMaximumTokens), got \(maxTokens)")
    }
}

func scoresObject(_ scores: TranslationScores) -> [String: Any] {
    ["count": scores.count, "exactMatches": scores.exactMatches, "exactMatch": scores.exactMatch, "bleu": scores.bleu]
}

/// `recurrent translate predict`.
struct TranslatePredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Translate sources, one per line, from a file or standard input with a trained model.",
        discussion: """
        Prints one translation per line. A line 'source<TAB>reference' is translated and scored: after \
        the translations comes a line with the exact match and BLEU-4 of those that had a reference \
        (so a pairs file can be evaluated directly). Blank lines are skipped.

        Example: echo "3 March 2021" | recurrent translate predict --checkpoint runs/dates --heatmap march.svg
        """)

    @Option(help: ArgumentHelp("The directory written by 'translate train --run-dir'.", valueName: "dir"))
    var checkpoint: String

    @Option(help: ArgumentHelp("Read the sources from this file (default: standard input).", valueName: "file"))
    var input: String?

    @Option(help: "Beam search with this many hypotheses (1: greedy).")
    var beam = 1

    @Option(help: "Stop an output after this many tokens (default: the checkpoint's limit; at most \(Translator.maximumOutputLength)).")
    var maxLength: Int?

    @Option(help: "The most tokens a source may have; a longer line is an error naming it (at most \(ParallelCorpus.largestMaximumTokens)).")
    var maxTokens = ParallelCorpus.defaultMaximumTokens

    @Option(help: ArgumentHelp("Write the attention heatmap of the first source to this SVG file.", valueName: "file"))
    var heatmap: String?

    @Flag(help: "Print one JSON object per source (and one with the scores) instead of text.")
    var json = false

    @OptionGroup var threading: ThreadingOptions

    func validate() throws {
        guard beam >= 1 else { throw ValidationError("--beam must be at least 1, got \(beam)") }
        if let maxLength, maxLength < 1 || maxLength > Translator.maximumOutputLength {
            throw ValidationError("--max-length must be in 1...\(Translator.maximumOutputLength), got \(maxLength)")
        }
        try validateMaxTokens(maxTokens)
    }

    func run() throws {
        try Console.reportingErrors {
            threading.apply()
            let (translator, _) = try TranslationCheckpoint.load(from: URL(fileURLWithPath: checkpoint))
            if heatmap != nil && translator.model.attention == nil { throw TranslationError.noAttention }
            if let maxLength { translator.maxOutputLength = maxLength }
            let level = translator.sourceVocabulary.level
            let items = try input.map { try TranslationInput(contentsOf: URL(fileURLWithPath: $0), level: level, maximumTokens: maxTokens) }
                ?? TranslationInput(data: FileHandle.standardInput.readDataToEndOfFile(), level: level, label: "<stdin>",
                                    maximumTokens: maxTokens)
            let sources = items.items
            let translations = translator.translate(sources.map(\.source), beamWidth: beam)
            if let heatmap {
                try AtomicFile.write(Data(try translator.attentionHeatmap(of: translations[0]).render().utf8),
                                     to: URL(fileURLWithPath: heatmap))
            }
            let targetLevel = translator.targetVocabulary.level
            var hypotheses = [[String]](), references = [[String]]()
            for (item, translation) in zip(sources, translations) {
                if let reference = item.reference {
                    hypotheses.append(translation.tokens)
                    references.append(targetLevel.tokens(of: reference))
                }
                if json {
                    var object: [String: Any] = ["line": item.line, "source": item.source, "translation": translation.text,
                                                 "finished": translation.finished, "logProbability": Double(translation.logProbability),
                                                 "unknownSourceTokens": translation.unknownSourceTokens]
                    if let reference = item.reference {
                        object["reference"] = reference
                        object["exact"] = translation.tokens == targetLevel.tokens(of: reference)
                    }
                    Console.printJSON(object)
                } else {
                    Console.line(translation.text)
                }
            }
            if !references.isEmpty {
                let scores = TranslationScores(hypotheses: hypotheses, references: references)
                if json {
                    Console.printJSON(["scores": scoresObject(scores)])
                } else {
                    Console.line(String(format: "# %d with references: exact match %.3f (%d/%d), BLEU-4 %.3f",
                                        scores.count, scores.exactMatch, scores.exactMatches, scores.count, scores.bleu))
                }
            }
        }
    }
}

/// `recurrent translate generate`.
struct TranslateGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a generated parallel text: dates (character level) or mirror (word level, long sources).",
        discussion: """
        dates: '3 March 2021' or 'March 3, 2021' → '2021-03-03' (train with --level character). mirror: \
        an artificial language translated word by word into mirror order, 'ka lo tun' → 'big dog cat' \
        (train with --level word). The same --seed gives the same pairs; no source repeats.
        """)

    enum Task: String, ExpressibleByArgument, CaseIterable {
        case dates, mirror
        var task: GeneratedTranslationTask { self == .dates ? .dates : .mirror }
    }

    @Option(help: "The task: dates or mirror.")
    var task: Task

    @Option(help: "Number of pairs.")
    var count = 5000

    @Option(help: "mirror: the shortest source, in words.")
    var minLength = GeneratedTranslationTask.defaultMirrorLengths.lowerBound

    @Option(help: "mirror: the longest source, in words.")
    var maxLength = GeneratedTranslationTask.defaultMirrorLengths.upperBound

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Write the pairs to this file (default: standard output).", valueName: "file"))
    var out: String?

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be positive, got \(count)") }
        guard minLength >= 1 && minLength <= maxLength else {
            throw ValidationError("--min-length must be in 1...--max-length, got \(minLength) and \(maxLength)")
        }
    }

    func run() throws {
        try Console.reportingErrors {
            let text: String
            do {
                text = try task.task.text(count: count, seed: seed, lengths: minLength...maxLength)
            } catch let error as ConfigurationError {
                let option = ["count": "--count", "lengths": "--min-length/--max-length"][error.argument] ?? error.argument
                throw ValidationError("invalid \(option): \(error.reason)")
            }
            if let out {
                try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: out))
                Console.line("wrote \(count) \(task.rawValue) pairs to \(out)")
            } else {
                Console.write(text)
            }
        }
    }
}
