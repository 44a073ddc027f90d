import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim

/// Everything that determines a language-model training run (`recurrent train`), saved in every
/// checkpoint's `config.json`.
///
/// Two runs with equal configurations on the same text produce the same weights bit for bit,
/// whatever their evaluation schedule, stops and resumes. The stopping fields (`epochs`,
/// `timeBudget`, `maxSteps`) and `evaluateEvery` may change when a run is resumed; every other field
/// must stay as the checkpoint has it.
///
/// Sizes: batchSize `B` rows per batch, sequenceLength `T` steps per window (the truncated-BPTT
/// length); one training step consumes `B · T` tokens.
public struct TrainingConfiguration: Codable, Equatable, Sendable {
    /// The optimizer that updates the weights (PyTorch's `torch.optim` rules with their defaults,
    /// apart from the learning rate).
    public enum OptimizerKind: String, Codable, CaseIterable, Sendable {
        case adam, sgd, rmsprop, adagrad
    }

    /// The model. `model.vocabularySize` is replaced by the size of the text's vocabulary when the
    /// trainer is created (any value given here is ignored).
    public var model: LanguageModel.Configuration
    /// The token level of the text (`--level`).
    public var level: Vocabulary.Level
    /// Word level: how many tokens to keep besides `<unk>`.
    public var maxVocabularySize: Int
    /// The fraction of the text, taken from its end, held out for validation: `0 ≤ f < 1`
    /// (0: no validation part, no validation loss and no `best` checkpoint).
    public var validationFraction: Double
    /// k1 and k2 of truncated BPTT: `sequenceLength` and `backpropagationLength ?? sequenceLength`.
    public var truncation: (k1: Int, k2: Int) { (sequenceLength, backpropagationLength ?? sequenceLength) }

    /// Rows per batch (batchSize `B`), each a contiguous stream of the text.
    public var batchSize: Int
    /// Steps per window (sequenceLength `T`): the new tokens of each row per optimizer step (k1 of
    /// truncated BPTT(k1, k2)).
    public var sequenceLength: Int
    /// Steps the loss is back-propagated through (k2 of truncated BPTT(k1, k2),
    /// `TruncatedBackpropagation`); nil: `sequenceLength` (k2 = k1).
    public var backpropagationLength: Int?
    /// Whether the hidden state runs on across epoch boundaries (the lecture's continuous training);
    /// nil or false: it is reset to zero at the start of every epoch (epochwise, as char-rnn does).
    public var continuousState: Bool?
    /// The optimizer.
    public var optimizer: OptimizerKind
    /// The learning rate of the first epoch; `> 0`.
    public var learningRate: Float
    /// Multiplies the learning rate once per epoch (PyTorch's `ExponentialLR`): epoch `e` (from 0)
    /// trains with `learningRate · learningRateDecay^e`. In `(0, 1]`; 1 keeps the rate constant.
    public var learningRateDecay: Float
    /// The largest global L2 norm of all gradients together (`clip_grad_norm_`); nil: no norm clipping.
    public var clipNorm: Float?
    /// The largest magnitude of any gradient element (`clip_grad_value_`), applied before norm
    /// clipping; nil: no value clipping.
    public var clipValue: Float?
    /// Stop after this many complete passes over the training part; nil: no epoch limit.
    public var epochs: Int?
    /// Stop once the training time reaches this many seconds; nil: no time limit. Training time is
    /// the wall-clock time spent in training steps only (fetching the batch, forward, loss,
    /// backward, clipping, optimizer step), summed over the whole run including the time before a
    /// resume; evaluations, samples, checkpoint writes and progress callbacks are not counted. A step
    /// starts only while the training time is below the budget, so the run exceeds it by less than one
    /// step; the final evaluation and checkpoint follow outside the budget.
    public var timeBudget: Double?
    /// Stop after this many optimizer steps in total; nil: no step limit.
    public var maxSteps: Int?
    /// Evaluate on the validation part, write `metrics.csv`, `loss.svg` and a checkpoint every this
    /// many steps (and once more when training stops).
    public var evaluateEvery: Int
    /// Seeds the weights' initialisation, dropout and the samples drawn at evaluations.
    public var seed: UInt64
    /// How the recurrent weights are initialised (`--init`); nil is PyTorch's default. Applied once when
    /// a run starts (after the default draw, from the same generator), never when it resumes.
    public var initialization: InitializationScheme?
    /// LSTM only: the forget-gate bias `bias_ih + bias_hh` (`--forget-bias`); nil keeps the default draw.
    public var forgetBias: Float?
    /// Whether the embedding is frozen (`--freeze-embeddings`): it keeps the values it starts with,
    /// also after a resume. Nil is false.
    public var freezeEmbeddings: Bool?
    /// The word-vector file the embedding rows were loaded from (`--embeddings`), recorded by
    /// `LanguageModelTrainer.loadPretrainedEmbeddings(_:source:)`; informational (never read again).
    public var pretrainedEmbeddings: String?

    public init(model: LanguageModel.Configuration, level: Vocabulary.Level = .character,
                maxVocabularySize: Int = 10_000, validationFraction: Double = 0.1,
                batchSize: Int = 32, sequenceLength: Int = 64, optimizer: OptimizerKind = .adam,
                learningRate: Float = 0.002, learningRateDecay: Float = 1, clipNorm: Float? = 5,
                clipValue: Float? = nil, epochs: Int? = nil, timeBudget: Double? = nil, maxSteps: Int? = nil,
                evaluateEvery: Int = 200, seed: UInt64 = 1) {
        self.model = model
        self.level = level
        self.maxVocabularySize = maxVocabularySize
        self.validationFraction = validationFraction
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.learningRateDecay = learningRateDecay
        self.clipNorm = clipNorm
        self.clipValue = clipValue
        self.epochs = epochs
        self.timeBudget = timeBudget
        self.maxSteps = maxSteps
        self.evaluateEvery = evaluateEvery
        self.seed = seed
    }

    /// How the text is read and split for this run.
    public var corpusConfiguration: TextCorpus.Configuration {
        TextCorpus.Configuration(level: level, maxVocabularySize: maxVocabularySize,
                                 validationFraction: validationFraction, batchSize: batchSize,
                                 sequenceLength: sequenceLength)
    }

    /// Throws `ConfigurationError` naming the first field out of range (the model's sizes except
    /// `vocabularySize`, which comes from the text). At least one of `epochs`, `timeBudget` and
    /// `maxSteps` must be set.
    public func validate() throws {
        try corpusConfiguration.validate()
        if let backpropagationLength { try ConfigurationError.requireSize(backpropagationLength, "backpropagationLength") }
        try ConfigurationError.requireSize(model.embeddingSize, "embeddingSize")
        try model.recurrent.validate()   // the layer's own rules (one place for them)
        try ConfigurationError.require(learningRate > 0 && learningRate.isFinite, "learningRate",
                                       "must be positive and finite, got \(learningRate)")
        try ConfigurationError.require(learningRateDecay > 0 && learningRateDecay <= 1, "learningRateDecay",
                                       "must be in (0, 1], got \(learningRateDecay)")
        if let clipNorm {
            try ConfigurationError.require(clipNorm > 0 && clipNorm.isFinite, "clipNorm", "must be positive and finite, got \(clipNorm)")
        }
        if let clipValue {
            try ConfigurationError.require(clipValue > 0 && clipValue.isFinite, "clipValue", "must be positive and finite, got \(clipValue)")
        }
        if let epochs { try ConfigurationError.require(epochs > 0, "epochs", "must be positive, got \(epochs)") }
        if let timeBudget {
            try ConfigurationError.require(timeBudget > 0 && timeBudget.isFinite, "timeBudget",
                                           "must be a positive number of seconds, got \(timeBudget)")
        }
        if let maxSteps { try ConfigurationError.require(maxSteps > 0, "maxSteps", "must be positive, got \(maxSteps)") }
        try ConfigurationError.require(epochs != nil || timeBudget != nil || maxSteps != nil, "stopping",
                                       "set epochs, a time budget or maxSteps, or training never stops")
        try ConfigurationError.require(evaluateEvery > 0, "evaluateEvery", "must be positive, got \(evaluateEvery)")
        if let forgetBias {
            try ConfigurationError.require(model.cell == .lstm || model.cell == .peepholeLSTM, "forgetBias",
                                           "applies to an LSTM only, the model is \(model.cell.rawValue)")
            try ConfigurationError.require(forgetBias.isFinite, "forgetBias", "must be finite, got \(forgetBias)")
        }
    }

    /// The fields that may differ from a checkpoint's configuration when resuming.
    static let resumableFields: Set<String> = ["epochs", "timeBudget", "maxSteps", "evaluateEvery"]

    /// The first field (other than those that may change on resume) in which `other` differs from
    /// this configuration; nil when none does.
    func firstResumeConflict(with other: TrainingConfiguration) -> ResumeConflict? {
        ResumeConflict.first(saved: self, given: other, mayChange: Self.resumableFields)
    }
}
