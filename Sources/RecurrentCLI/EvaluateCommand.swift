import ArgumentParser
import Foundation
import Recurrent

/// `recurrent evaluate`: the loss of a trained language model on a text.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Print a trained model's loss (nats per token) and bits per token on a text file.",
        discussion: """
        --precision bf16 or int8 computes the loss one token at a time (batch 1, one stream from the \
        zero state) with the recurrent weights and the head in that precision, as `recurrent sample \
        --precision` runs them; compare with float32 --batch 1, which reads the text the same way.
        """
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

    @Option(help: ArgumentHelp("Weights: float32 (batched, the default), or bf16 / int8 (batch 1, token by token).",
                               valueName: "precision"))
    var precision: WeightPrecision = .float32

    @OptionGroup var threading: ThreadingOptions

    func validate() throws {
        if let batch, batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch)") }
        if let seq, seq < 1 { throw ValidationError("--seq must be at least 1, got \(seq)") }
        if precision != .float32, let batch, batch != 1 {
            throw ValidationError("--precision \(precision.rawValue) evaluates with batch 1, got --batch \(batch)")
        }
    }

    func run() throws {
        try Console.reportingErrors {
            threading.apply()
            let saved = try TrainingCheckpoint.load(from: URL(fileURLWithPath: checkpoint), pointer: best ? .best : .latest)
            let tokens = try encodedText(with: saved.vocabulary)
            let result: LanguageModelEvaluation
            if precision == .float32 {
                let batchSize = min(batch ?? saved.configuration.batchSize, max(1, tokens.count - 1))
                result = try saved.model.evaluate(tokens: tokens, batchSize: batchSize,
                                                  sequenceLength: seq ?? saved.configuration.sequenceLength)
            } else {
                // One stream from the zero state on the reduced-precision stepper (--seq plays no part).
                guard tokens.count >= 2 else {
                    throw ConfigurationError(argument: "text", reason: "evaluation needs at least 2 tokens, got \(tokens.count)")
                }
                saved.model.isTraining = false
                let stepper = LanguageModelStepper(saved.model, precision: precision)
                result = LanguageModelEvaluation(loss: stepper.totalCrossEntropy(tokens) / Double(tokens.count - 1),
                                                 predictions: tokens.count - 1)
            }
            if json {
                Console.printJSON(["loss": result.loss, "bits_per_token": result.bitsPerToken,
                                   "tokens": result.predictions, "level": saved.vocabulary.level.rawValue,
                                   "precision": precision.rawValue])
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
