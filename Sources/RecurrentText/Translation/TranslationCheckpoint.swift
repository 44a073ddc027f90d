import Foundation
import RecurrentCore
import RecurrentLayers
import RecurrentFormats
import RecurrentOptim

/// A trained translator on disk. The run directory holds:
///
/// | file | contents |
/// | --- | --- |
/// | `config.json` | `format`, `formatVersion`, the `EncoderDecoder.Configuration`, both vocabularies (with their level), the output length limit, the training configuration, the pair counts and the held-out scores |
/// | `model.safetensors` | the weights under their state-dict names (`source_embedding.weight`, `encoder.weight_ih`, `attention.query.weight`, ...), F32 |
///
/// Both files are written atomically, the weights first (so a `config.json` is never newer than its
/// weights). Loading checks both and reports the first problem as a one-line `CheckpointError`.
public enum TranslationCheckpoint {
    /// The `format` value of `config.json`.
    public static let format = "recurrent.translation-checkpoint"
    public static let formatVersion = 1
    public static let configurationFile = "config.json"
    public static let modelFile = "model.safetensors"

    /// The contents of `config.json`.
    public struct Contents: Codable, Sendable {
        public var format: String
        public var formatVersion: Int
        public var model: EncoderDecoder.Configuration
        public var sourceVocabulary: TranslationVocabulary
        public var targetVocabulary: TranslationVocabulary
        public var maxOutputLength: Int
        /// How it was trained (informational).
        public var training: TranslationConfiguration?
        public var trainingPairs: Int?
        public var heldOutPairs: Int?
        public var heldOut: TranslationScores?
    }

    /// Writes `translator` to `directory` (created if needed).
    /// - Throws: `FileWriteError` when a file cannot be written.
    public static func save(_ translator: Translator, to directory: URL, training: TranslationConfiguration? = nil,
                            trainingPairs: Int? = nil, heldOutPairs: Int? = nil, heldOut: TranslationScores? = nil) throws {
        let contents = Contents(format: format, formatVersion: formatVersion, model: translator.model.configuration,
                                sourceVocabulary: translator.sourceVocabulary, targetVocabulary: translator.targetVocabulary,
                                maxOutputLength: translator.maxOutputLength, training: training, trainingPairs: trainingPairs,
                                heldOutPairs: heldOutPairs, heldOut: heldOut)
        try writeModelCheckpoint(translator.model, contents: contents, to: directory, configurationFile: configurationFile,
                                 modelFile: modelFile, format: format)
    }

    /// Loads the translator saved in `directory` (or the `config.json` path itself): checks
    /// `config.json`, then the weights' names and shapes against the configured model before building
    /// it, and every weight for finiteness.
    /// - Throws: `CheckpointError` naming the missing or bad file.
    public static func load(from directory: URL) throws -> (translator: Translator, contents: Contents) {
        let (contents, configurationURL, modelURL) = try ModelCheckpointFiles.readConfiguration(
            Contents.self, at: directory, configurationFile: configurationFile, modelFile: modelFile, format: format,
            formatVersion: formatVersion)
        do {
            try contents.model.validate()
            try ConfigurationError.requireSize(contents.maxOutputLength, "maxOutputLength", minimum: 0,
                                               maximum: Translator.maximumOutputLength)
        } catch {
            throw CheckpointError.malformed(path: configurationURL.path, reason: CheckpointError.describe(error))
        }
        let m = contents.model, source = contents.sourceVocabulary, target = contents.targetVocabulary
        guard source.count == m.sourceVocabularySize, target.count == m.targetVocabularySize,
              m.goToken == TranslationVocabulary.startID, m.endToken == TranslationVocabulary.endID,
              source.level == target.level else {
            throw CheckpointError.vocabularyMismatch(
                path: configurationURL.path,
                reason: "the model has \(m.sourceVocabularySize) source and \(m.targetVocabularySize) target tokens, "
                    + "the vocabularies \(source.count) (\(source.level.rawValue)) and \(target.count) (\(target.level.rawValue))")
        }
        let model = try ModelCheckpointFiles.loadModel(weightsAt: modelURL, configurationURL: configurationURL,
                                                       expecting: m.parameterShapes) {
            var scratch = RandomGenerator(seed: 0)
            return try EncoderDecoder(m, using: &scratch)
        }
        let translator = Translator(model: model, sourceVocabulary: source, targetVocabulary: target,
                                    maxOutputLength: contents.maxOutputLength)
        return (translator, contents)
    }
}
