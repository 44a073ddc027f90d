import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim

/// A generated sequence-to-sequence task on digit strings: reverse, copy or sort a random string of
/// digits. The source vocabulary is the digits `0..<digits`; the target vocabulary puts `<go>` at 0
/// and `<eos>` at 1 and digit d at `d + 2`.
///
/// Exact-sequence accuracy on these tasks shows how much of the source survives in the decoder: a
/// fixed context vector has to hold every digit, attention can look each one up.
public struct DigitSequenceTask: Sendable, Equatable {
    public enum Kind: String, CaseIterable, Codable, Sendable {
        /// Output the digits last first.
        case reverse
        /// Output the digits in the same order.
        case copy
        /// Output the digits in ascending order.
        case sort
    }

    public static let goToken = 0
    public static let endToken = 1

    public var kind: Kind
    /// The number of distinct digits (2–50).
    public var digits: Int
    /// Training strings have lengths in this range.
    public var lengths: ClosedRange<Int>

    /// - Throws: `ConfigurationError` naming `digits` or `lengths` when out of range.
    public init(kind: Kind, digits: Int = 10, lengths: ClosedRange<Int>) throws {
        try ConfigurationError.require(digits >= 2 && digits <= 50, "digits", "must be in 2...50, got \(digits)")
        try ConfigurationError.require(lengths.lowerBound >= 1, "lengths", "must start at 1 or more, got \(lengths)")
        self.kind = kind
        self.digits = digits
        self.lengths = lengths
    }

    public var sourceVocabularySize: Int { digits }
    public var targetVocabularySize: Int { digits + 2 }

    /// The target tokens (digits shifted by 2, without `<go>`/`<eos>`) for a source.
    public func target(for source: [Int]) -> [Int] {
        let digits: [Int]
        switch kind {
        case .reverse: digits = source.reversed()
        case .copy: digits = source
        case .sort: digits = source.sorted()
        }
        return digits.map { $0 + 2 }
    }

    /// A random string of `length` digits.
    public func source(length: Int, using rng: inout RandomGenerator) -> [Int] {
        (0..<length).map { _ in rng.nextInt(below: digits) }
    }

    /// `size` examples, each of a length drawn uniformly from `lengths` (or exactly `length`).
    public func batch(size: Int, length: Int? = nil, using rng: inout RandomGenerator)
        -> (sources: [[Int]], targets: [[Int]]) {
        let sources = (0..<size).map { _ in
            source(length: length ?? (lengths.lowerBound + rng.nextInt(below: lengths.count)), using: &rng)
        }
        return (sources, sources.map(target(for:)))
    }

    /// The encoder–decoder configuration for this task (vocabularies and special tokens filled in).
    public func modelConfiguration(embeddingSize: Int, hiddenSize: Int, cell: EncoderDecoder.Cell = .gru,
                                   attention: Bool, reverseSource: Bool = false) -> EncoderDecoder.Configuration {
        EncoderDecoder.Configuration(sourceVocabularySize: sourceVocabularySize, targetVocabularySize: targetVocabularySize,
                                     embeddingSize: embeddingSize, hiddenSize: hiddenSize, cell: cell, attention: attention,
                                     reverseSource: reverseSource, goToken: Self.goToken, endToken: Self.endToken)
    }
}

/// Trains an `EncoderDecoder` on a `DigitSequenceTask` with teacher forcing (cross-entropy, Adam,
/// gradient-norm clipping) and measures exact-sequence accuracy by greedy decoding.
public struct Seq2SeqTraining: Sendable {
    public var cell: EncoderDecoder.Cell = .gru
    public var attention = true
    public var reverseSource = false
    public var embeddingSize = 16
    public var hiddenSize = 32
    public var batchSize = 32
    public var learningRate: Float = 0.01
    public var clipNorm: Float = 5
    public var steps = 1000
    public var seed: UInt64 = 1

    public init() {}

    /// Reported every `reportInterval` steps and after the last.
    public struct Progress: Sendable {
        public var step: Int
        /// The mean training loss since the previous report.
        public var loss: Float
    }

    /// A fresh model trained for `steps` steps on batches of mixed lengths.
    /// - Throws: `ConfigurationError` for an invalid model size.
    public func train(_ task: DigitSequenceTask, reportInterval: Int = 100,
                      report: (Progress) -> Void = { _ in }) throws -> EncoderDecoder {
        var rng = RandomGenerator(seed: seed)
        let model = try EncoderDecoder(task.modelConfiguration(embeddingSize: embeddingSize, hiddenSize: hiddenSize, cell: cell,
                                                               attention: attention, reverseSource: reverseSource), using: &rng)
        let optimizer = try Adam(model.parameters, learningRate: learningRate)
        var lossSum: Float = 0, lossCount = 0
        for step in 1...max(steps, 1) {
            let (sources, targets) = task.batch(size: batchSize, using: &rng)
            let out = model.teacherForced(sources: sources, targets: targets)
            let loss = crossEntropy(logits: out.logits, targets: out.targets, ignoreIndex: EncoderDecoder.ignoreIndex)
            optimizer.zeroGrad()
            loss.backward()
            _ = clipGradientNorm(model.parameters, maxNorm: clipNorm)
            optimizer.step()
            lossSum += loss.value.scalar
            lossCount += 1
            if step % max(reportInterval, 1) == 0 || step == steps {
                report(Progress(step: step, loss: lossSum / Float(lossCount)))
                lossSum = 0
                lossCount = 0
            }
        }
        return model
    }

    /// The fraction of `count` random strings of `length` digits whose greedy decoding equals the
    /// target exactly (every token and the `<eos>` right after).
    public static func exactAccuracy(of model: EncoderDecoder, on task: DigitSequenceTask, length: Int, count: Int,
                                     using rng: inout RandomGenerator) -> Double {
        var correct = 0, done = 0
        while done < count {
            let n = min(64, count - done)
            let (sources, targets) = task.batch(size: n, length: length, using: &rng)
            let decoded = model.greedyDecode(sources: sources, maxLength: length + 2)
            for (d, t) in zip(decoded, targets) where d.finished && d.tokens == t { correct += 1 }
            done += n
        }
        return Double(correct) / Double(count)
    }
}
