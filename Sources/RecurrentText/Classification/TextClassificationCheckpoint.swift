import Foundation
import RecurrentCore
import RecurrentLayers
import RecurrentFormats
import RecurrentOptim

/// A trained text classifier on disk. The run directory holds:
///
/// | file | contents |
/// | --- | --- |
/// | `config.json` | `format`, `formatVersion`, the model configuration, the vocabulary (level and tokens), the label names, the token limit, the column names, the training configuration and a summary of the scores |
/// | `model.safetensors` | the weights under their state-dict names (`embedding.weight`, `lstm.weight_ih_l0`, ..., `head.weight`), F32 |
///
/// Both files are written atomically, the weights first, so a `config.json` is never newer than its
/// weights. Loading checks both and reports the first problem as a one-line `CheckpointError`.
public enum TextClassificationCheckpoint {
    public static let format = "recurrent.classify-checkpoint"
    public static let formatVersion = 1
    public static let configurationFile = "config.json"
    public static let modelFile = "model.safetensors"

    /// Scores recorded with the weights (informational).
    public struct Summary: Codable, Equatable, Sendable {
        public var epoch: Int
        public var validationAccuracy: Double?
        public var validationMacroF1: Double?
        public var baselineAccuracy: Double?

        public init(epoch: Int, validationAccuracy: Double? = nil, validationMacroF1: Double? = nil, baselineAccuracy: Double? = nil) {
            self.epoch = epoch
            self.validationAccuracy = validationAccuracy
            self.validationMacroF1 = validationMacroF1
            self.baselineAccuracy = baselineAccuracy
        }
    }

    /// The contents of `config.json`.
    public struct Contents: Codable, Sendable {
        public var format: String
        public var formatVersion: Int
        public var model: TextClassifierConfiguration
        public var vocabulary: ClassificationVocabulary
        public var labels: [String]
        public var maxLength: Int?
        /// The column names the model was trained with (nil for a folder of classes or a built-in corpus).
        public var textColumn: String?
        public var labelColumn: String?
        public var training: TextClassificationTrainingConfiguration?
        public var summary: Summary?
    }

    /// Writes `classifier` to `directory` (created if needed).
    /// - Throws: `FileWriteError` when a file cannot be written.
    public static func save(_ classifier: TextClassifier, to directory: URL, textColumn: String? = nil, labelColumn: String? = nil,
                            training: TextClassificationTrainingConfiguration? = nil, summary: Summary? = nil) throws {
        let contents = Contents(format: format, formatVersion: formatVersion, model: classifier.configuration,
                                vocabulary: classifier.vocabulary, labels: classifier.labels, maxLength: classifier.maxLength,
                                textColumn: textColumn, labelColumn: labelColumn, training: training, summary: summary)
        try writeModelCheckpoint(classifier, contents: contents, to: directory, configurationFile: configurationFile,
                                 modelFile: modelFile, format: format)
    }

    /// Loads the classifier saved in `directory` (or named by its `config.json`), in evaluation mode:
    /// checks `config.json`, then the weights' names and shapes against the configured model before
    /// building it, and every weight for finiteness. A checkpoint without `maxLength` (written before
    /// it was recorded) reads `TextClassifier.defaultMaxLength` tokens per text.
    /// - Throws: `CheckpointError` naming the missing or bad file.
    public static func load(from directory: URL) throws -> (classifier: TextClassifier, contents: Contents) {
        let (contents, configurationURL, modelURL) = try ModelCheckpointFiles.readConfiguration(
            Contents.self, at: directory, configurationFile: configurationFile, modelFile: modelFile, format: format,
            formatVersion: formatVersion)
        do {
            try contents.model.validate()
            try ConfigurationError.requireSize(contents.maxLength ?? TextClassifier.defaultMaxLength, "maxLength",
                                               maximum: TextClassifier.maximumMaxLength)
        } catch {
            throw CheckpointError.malformed(path: configurationURL.path, reason: CheckpointError.describe(error))
        }
        guard contents.vocabulary.count == contents.model.vocabularySize else {
            throw CheckpointError.vocabularyMismatch(path: configurationURL.path, reason:
                "the vocabulary has \(contents.vocabulary.count) tokens, the model \(contents.model.vocabularySize)")
        }
        guard contents.labels.count == contents.model.classCount, Set(contents.labels).count == contents.labels.count,
              contents.labels.allSatisfy({ !$0.isEmpty }) else {
            throw CheckpointError.malformed(path: configurationURL.path, reason:
                "the labels (\(contents.labels.count)) must be \(contents.model.classCount) distinct non-empty names")
        }
        let classifier = try ModelCheckpointFiles.loadModel(weightsAt: modelURL, configurationURL: configurationURL,
                                                            expecting: contents.model.parameterShapes) {
            var scratch = RandomGenerator(seed: 0)
            return try TextClassifier(contents.model, vocabulary: contents.vocabulary, labels: contents.labels,
                                      maxLength: contents.maxLength, using: &scratch)
        }
        return (classifier, contents)
    }
}
