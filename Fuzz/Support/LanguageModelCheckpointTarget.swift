import Foundation
import RecurrentText

/// The language-model checkpoint targets: one file of the committed checkpoint
/// (`Fuzz/Fixtures/language-model`) replaced by the input, loaded as `sample`, `evaluate` and
/// `train --resume` load it (`TrainingCheckpoint.load`), then eight tokens sampled from what loaded.
public struct LanguageModelCheckpointTarget: Sendable {
    private let scratch = ScratchDirectory(fixture: "language-model")
    /// The checkpoint file the input replaces (`TrainingCheckpoint.File`).
    private let file: String

    public init(replacing file: String) { self.file = file }

    public func run(_ data: Data) {
        scratch.write(data, as: file)
        guard let checkpoint = try? TrainingCheckpoint.load(from: scratch.url),
              let generator = try? TextGenerator(model: checkpoint.model, vocabulary: checkpoint.vocabulary) else { return }
        _ = try? generator.generate(prime: "", length: 8)
    }
}
