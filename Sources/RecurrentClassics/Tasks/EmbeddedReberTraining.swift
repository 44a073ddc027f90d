import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim

/// Settings for training a fused recurrent layer with a `Linear` readout to predict the legal next
/// symbols of embedded Reber strings: seven sigmoid outputs trained by binary cross-entropy against
/// the legal-next flags (padding masked out), Adam, gradient-norm clipping.
public struct EmbeddedReberTraining: Sendable {
    public var cell: RecurrentLayerConfiguration.Cell = .lstm
    public var hiddenSize = 16
    public var batchSize = 32
    public var learningRate: Float = 1e-2
    public var clipNorm: Float = 1
    public var maxSteps = 3000
    /// Training stops once the step accuracy on the test strings reaches this.
    public var targetAccuracy: Double = 1.0
    public var evaluationInterval = 100
    /// Number of test strings.
    public var testSize = 1000
    public var seed: UInt64 = 1

    public init() {}

    /// One evaluation during training.
    public struct Progress: Sendable {
        public var step: Int
        public var loss: Float
        /// Fraction of test steps whose predicted set (outputs above 0.5) is exactly the legal set.
        public var stepAccuracy: Double
        /// Fraction of test strings predicted right at every step.
        public var stringAccuracy: Double
        /// Fraction of test strings whose long-memory step (after the inner E: T or P) is right.
        public var memoryStepAccuracy: Double
    }

    /// Trains and returns the evaluations; deterministic for a given seed.
    public func run(report: (Progress) -> Void = { _ in }) throws -> [Progress] {
        let k = EmbeddedReberGrammar.symbolCount
        var rng = RandomGenerator(seed: seed)
        let layer = try makeRecurrentLayer(.init(cell: cell, inputSize: k, hiddenSize: hiddenSize), using: &rng)
        let readout = try Linear(inputSize: hiddenSize, outputSize: k, using: &rng)
        let parameters = layer.parameters + readout.parameters
        let optimizer = try Adam(parameters, learningRate: learningRate)
        var testRng = RandomGenerator(seed: seed &+ 0x4EBE4)
        let test = EmbeddedReberGrammar.batch(size: testSize, using: &testRng)
        func logits(_ inputs: Tensor) -> Variable { readout(layer.run(Variable(inputs), state: nil).output) }
        var history: [Progress] = []
        for step in 1...maxSteps {
            let batch = EmbeddedReberGrammar.batch(size: batchSize, using: &rng)
            let perElement = binaryCrossEntropyWithLogits(logits: logits(batch.inputs), targets: batch.targets, reduction: .none)
            let loss = (perElement * Variable(batch.mask)).sum() * (1 / Float(batch.steps * k))
            optimizer.zeroGrad()
            loss.backward()
            clipGradientNorm(parameters, maxNorm: clipNorm)
            optimizer.step()
            if step % evaluationInterval == 0 || step == maxSteps {
                let output = GradientMode.withoutGradients { logits(test.inputs).value }
                let accuracy = Self.accuracy(logits: output, targets: test.targets, mask: test.mask)
                let progress = Progress(step: step, loss: loss.value.scalar, stepAccuracy: accuracy.steps,
                                        stringAccuracy: accuracy.strings, memoryStepAccuracy: accuracy.memory)
                history.append(progress)
                report(progress)
                if accuracy.steps >= targetAccuracy { break }
            }
        }
        return history
    }

    /// Scores logits `(L, batchSize, 7)` against legal-next flags and the padding mask (as made by
    /// `EmbeddedReberGrammar.batch`): a step is right when `logit > 0` (output above 0.5) exactly
    /// on the legal symbols. The memory step is each string's second-to-last step (input: the inner
    /// string's E; legal next: the repeated second symbol).
    public static func accuracy(logits: Tensor, targets: Tensor, mask: Tensor)
        -> (steps: Double, strings: Double, memory: Double) {
        let L = logits.shape[0], B = logits.shape[1], k = logits.shape[2]
        var rightSteps = 0, steps = 0, rightStrings = 0, rightMemory = 0
        for b in 0..<B {
            var rights: [Bool] = []
            for t in 0..<L {
                let base = (t * B + b) * k
                guard mask.scalars[base] != 0 else { break }
                var right = true
                for s in 0..<k where (logits.scalars[base + s] > 0) != (targets.scalars[base + s] > 0.5) { right = false }
                rights.append(right)
            }
            steps += rights.count
            rightSteps += rights.filter { $0 }.count
            rightStrings += rights.allSatisfy { $0 } ? 1 : 0
            // The step whose input is the inner string's E: the next symbol must repeat the second one.
            rightMemory += rights.count >= 2 && rights[rights.count - 2] ? 1 : 0
        }
        return (Double(rightSteps) / Double(steps), Double(rightStrings) / Double(B), Double(rightMemory) / Double(B))
    }
}
