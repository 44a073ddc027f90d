import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim

/// Settings for training a fused recurrent layer (`RNN`, `LSTM` or `GRU`) with a `Linear` readout
/// on the adding problem: Adam, gradient-norm clipping, a fresh batch every step, evaluation on a
/// fixed test set.
public struct AddingProblemTraining: Sendable {
    public var cell: RecurrentLayerConfiguration.Cell = .lstm
    public var hiddenSize = 64
    public var batchSize = 32
    public var learningRate: Float = 2e-3
    /// Adam (the default) or plain SGD.
    public var useSGD = false
    /// The largest joint gradient norm; `nil` trains without clipping.
    public var clipNorm: Float? = 1
    /// Multiplies the recurrent weights `weight_hh_l0` after initialisation (above 1 provokes
    /// exploding gradients in a tanh RNN).
    public var recurrentWeightScale: Float = 1
    /// Training stops after this many steps, or earlier once the test error is below `targetMSE`.
    public var maxSteps = 5000
    public var targetMSE: Double = 0.01
    public var evaluationInterval = 100
    /// Size of the fixed test set.
    public var testSize = 1000
    public var seed: UInt64 = 1

    public init() {}

    /// One evaluation during training.
    public struct Progress: Sendable {
        public var step: Int
        /// The training loss of this step's batch.
        public var loss: Float
        /// Mean squared error on the test set.
        public var testMSE: Double
        /// The largest gradient norm (before clipping) since the previous evaluation.
        public var maxGradientNorm: Float
    }

    /// The trained model and its evaluations.
    public struct Result {
        public var layer: any RecurrentLayer
        public var readout: Linear
        public var history: [Progress]
    }

    /// Trains and returns the model with its evaluations; deterministic for a given seed.
    /// - Throws: `ConfigurationError` for invalid sizes.
    public func run(_ task: AddingProblem, report: (Progress) -> Void = { _ in }) throws -> Result {
        var rng = RandomGenerator(seed: seed)
        let layer = try makeRecurrentLayer(.init(cell: cell, inputSize: 2, hiddenSize: hiddenSize), using: &rng)
        let readout = try Linear(inputSize: hiddenSize, outputSize: 1, using: &rng)
        if recurrentWeightScale != 1, let whh = layer.namedParameters.first(where: { $0.name == "weight_hh_l0" })?.parameter {
            whh.value = whh.value * recurrentWeightScale
        }
        let parameters = layer.parameters + readout.parameters
        let optimizer: any Optimizer = useSGD ? try SGD(parameters, learningRate: learningRate)
                                              : try Adam(parameters, learningRate: learningRate)
        var maxNorm: Float = 0
        var testRng = RandomGenerator(seed: seed &+ 0xADD)
        let test = task.batch(size: testSize, using: &testRng)
        func predict(_ inputs: Tensor) -> Variable {
            let (output, _) = layer.run(Variable(inputs), state: nil)
            return readout(output.select(task.sequenceLength - 1, axis: 0))
        }
        var history: [Progress] = []
        for step in 1...maxSteps {
            let batch = task.batch(size: batchSize, using: &rng)
            let loss = mseLoss(predict(batch.inputs), batch.targets)
            optimizer.zeroGrad()
            loss.backward()
            // With maxNorm = ∞ this only measures the norm.
            maxNorm = max(maxNorm, clipGradientNorm(parameters, maxNorm: clipNorm ?? .infinity))
            optimizer.step()
            if step % evaluationInterval == 0 || step == maxSteps {
                let prediction = GradientMode.withoutGradients { predict(test.inputs).value }
                let mse = zip(prediction.scalars, test.targets.scalars)
                    .reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(testSize)
                let progress = Progress(step: step, loss: loss.value.scalar, testMSE: mse, maxGradientNorm: maxNorm)
                maxNorm = 0
                history.append(progress)
                report(progress)
                if mse < targetMSE || !mse.isFinite { break }
            }
        }
        return Result(layer: layer, readout: readout, history: history)
    }
}
