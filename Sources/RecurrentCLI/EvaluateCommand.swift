import ArgumentParser
import Foundation
import Recurrent

/// `recurrent evaluate`: the loss of a trained language model on a text.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Print a trained model's loss (nats per token) and bits per token on a text file."
    )

    @Option(help: ArgumentHelp("A run directory (its latest checkpoint) or a checkpoint directory.", valueName: "dir"))
    var checkpoint: String

    @Flag(help: "Use the run's best checkpoint instead of the latest.")
    var best = false

    @Option(help: ArgumentHelp("The text to evaluate on (all of it).", valueName: "file"))
    var text: String

    @Option(help: "Rows evaluated in parallel (default: the training batch size).")
    var batch: Int?

    @Option(help: "Steps per window (default: the training window).")
    var seq: Int?

    @Flag(help: "Print one JSON object.")
    var json = false

    @OptionGroup var threading: ThreadingOptions

    func validate() throws {
        if let batch, batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch)") }
        if let seq, seq < 1 { throw ValidationError("--seq must be at least 1, got \(seq)") }
    }

    func run() throws {
        try Console.reportingErrors {
            threading.apply()
            let saved = try TrainingCheckpoint.load(from: URL(fileURLWithPath: checkpoint), pointer: best ? .best : .latest)
            let tokens = try encodedText(with: saved.vocabulary)
            let batchSize = min(batch ?? saved.configuration.batchSize, max(1, tokens.count - 1))
            let result = try saved.model.evaluate(tokens: tokens, batchSize: batchSize,
                                                  sequenceLength: seq ?? saved.configuration.sequenceLength)
            if json {
                Console.printJSON(["loss": result.loss, "bits_per_token": result.bitsPerToken,
                                   "tokens": result.predictions, "level": saved.vocabulary.level.rawValue])
            } else {
                let unit = saved.vocabulary.level == .word ? "word" : saved.vocabulary.level == .byte ? "byte" : "char"
                Console.line(String(format: "loss %.4f nats/%@, %.4f bits/%@ over %d predictions",
                                    result.loss, unit, result.bitsPerToken, unit, result.predictions))
            }
        }
    }

    /// The whole file encoded with the checkpoint's vocabulary (a clear error for a missing, empty,
    /// non-UTF-8 or too short file, or a character the vocabulary does not have).
    private func encodedText(with vocabulary: Vocabulary) throws -> [Int] {
        let url = URL(fileURLWithPath: text)
        let corpus = try TextCorpus.load(
            from: url,
            configuration: .init(level: vocabulary.level, maxVocabularySize: max(1, vocabulary.count - 1),
                                 validationFraction: 0, batchSize: 1, sequenceLength: 1),
            vocabulary: vocabulary)
        return corpus.training
    }
}
