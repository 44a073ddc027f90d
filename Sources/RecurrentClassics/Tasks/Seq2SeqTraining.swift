import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim

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
