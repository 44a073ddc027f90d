import Foundation
import RecurrentCore
import RecurrentAutodiff
import RecurrentLayers
import RecurrentOptim

/// The architecture and forecasting strategy of a `ForecastModel`.
///
/// Sizes: C = `channelCount` (the target and the features), W = `window` (observed steps fed to
/// the model), H = `horizon` (steps forecast from one origin).
public struct ForecastModelConfiguration: Codable, Equatable, Sendable {
    /// The network.
    public enum Cell: String, Codable, CaseIterable, Sendable {
        /// A fused LSTM, GRU or tanh RNN over the window, then a linear head on its last hidden state.
        case lstm, gru, rnn
        /// `NARXNetwork`: tapped delay lines of the last W targets and features feeding a
        /// one-hidden-layer perceptron; always run closed loop (its forecasts are fed back).
        case narx

        /// The fused layers' cell (nil for NARX).
        public var recurrentCell: CellKind? { CellKind(rawValue: rawValue) }
    }

    /// How a recurrent cell produces H steps.
    public enum Strategy: String, Codable, CaseIterable, Sendable {
        /// One output per horizon step: the head maps the last hidden state to H values.
        case direct
        /// One step ahead of every channel, fed back as the newest input H times.
        case recursive
    }

    /// What the network sees and predicts of the target channel.
    public enum TargetMode: String, Codable, CaseIterable, Sendable {
        /// Normalised values as they are.
        case level
        /// Normalised values minus the last observed value of the window (the origin): the inputs
        /// and the outputs are changes relative to the origin, so the network does not depend on
        /// the level of the series (a series whose test range lies above its training range stays
        /// in familiar territory).
        case change
    }

    public var cell: Cell
    public var strategy: Strategy
    public var targetMode: TargetMode
    /// C: the target plus the features.
    public var channelCount: Int
    /// W.
    public var window: Int
    /// H.
    public var horizon: Int
    public var hiddenSize: Int
    /// Stacked recurrent layers (ignored by NARX, which has one hidden layer).
    public var numLayers: Int

    public init(cell: Cell = .lstm, strategy: Strategy = .direct, targetMode: TargetMode = .change, channelCount: Int = 1,
                window: Int, horizon: Int, hiddenSize: Int = 32, numLayers: Int = 1) {
        self.cell = cell
        self.strategy = strategy
        self.targetMode = targetMode
        self.channelCount = channelCount
        self.window = window
        self.horizon = horizon
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
    }

    /// The longest window W: a forecast reads W steps per origin (W · H steps for a recursive one).
    public static let maximumWindow = 10_000
    /// The longest horizon H.
    public static let maximumHorizon = 10_000

    /// Throws a `ConfigurationError` naming the first invalid field: sizes that are not positive or
    /// above their limits (`maximumWindow`, `maximumHorizon`, `SizeLimits`).
    public func validate() throws {
        try ConfigurationError.require(channelCount >= 1, "channelCount", "must be at least 1, got \(channelCount)")
        try ConfigurationError.requireSize(channelCount, "channelCount")
        try ConfigurationError.requireSize(window, "window", maximum: Self.maximumWindow)
        try ConfigurationError.requireSize(horizon, "horizon", maximum: Self.maximumHorizon)
        try ConfigurationError.requireSize(hiddenSize, "hiddenSize")
        try ConfigurationError.require(numLayers >= 1, "numLayers", "must be at least 1, got \(numLayers)")
        try ConfigurationError.requireSize(numLayers, "numLayers", maximum: SizeLimits.maximumLayerCount)
        try ConfigurationError.requireParameterCount(parameterShapes)
    }

    /// The fused recurrent layer of the LSTM, GRU and RNN models (nil for NARX): C inputs, `hiddenSize`, `numLayers`.
    var recurrentConfiguration: RecurrentLayerConfiguration? {
        cell.recurrentCell.map {
            RecurrentLayerConfiguration(cell: $0.layerCell, inputSize: channelCount, hiddenSize: hiddenSize, numLayers: numLayers)
        }
    }

    /// The head's outputs: H (direct) or C (recursive).
    var headOutputSize: Int { strategy == .direct ? horizon : channelCount }

    /// The NARX network's exogenous inputs: the features, or one zero channel when there are none.
    var narxInputSize: Int { max(channelCount - 1, 1) }

    /// The state-dict names and shapes of the model's parameters, computed without allocating them:
    /// `rnn.*` and `head.*`, or `narx.*`.
    /// - Precondition: the sizes are within their limits (`validate()`), so the products fit in `Int`.
    public var parameterShapes: [(name: String, shape: [Int])] {
        guard let recurrent = recurrentConfiguration else {
            return prefixed("narx", NARXNetwork.parameterShapes(inputSize: narxInputSize, outputSize: 1, delay: window,
                                                                hiddenSize: hiddenSize))
        }
        return prefixed("rnn", recurrent.parameterShapes)
            + prefixed("head", Linear.parameterShapes(inputSize: hiddenSize, outputSize: headOutputSize))
    }
}

/// A network that forecasts the target H steps ahead from a window of W observed steps.
///
/// All values are normalised (`SeriesNormalizer`); `z[c][t]` is channel c (0 = target) at time t.
/// For an origin t (the last observed step) the network reads z[·][t−W+1 ... t] and forecasts
/// z[0][t+1 ... t+H]. In `.change` mode the target channel of the window and every target value
/// are taken relative to z[0][t]; the features are always used as they are.
///
/// - direct: recurrent layer over the window `(W, B, C)` → last hidden state `(B, hiddenSize)` →
///   `head` → `(B, H)`;
/// - recursive: the same with a head of C outputs (the next step of every channel), applied H times,
///   each forecast appended to the window; trained one step ahead (teacher forcing);
/// - NARX: `NARXNetwork` with delay W, output y = the target, exogenous input u = the features (or
///   one zero channel when there are none), trained and run closed loop over W + H steps, so the
///   training loss is the loss of the H-step forecast. Future features are taken from the data
///   (they must be known in advance).
///
/// Parameters (state-dict names): `rnn.*` (PyTorch's names for `torch.nn.LSTM/GRU/RNN`) and
/// `head.weight`, `head.bias`; or `narx.hidden.*`, `narx.output.*`.
public final class ForecastModel: Module {
    public let configuration: ForecastModelConfiguration
    let recurrent: (any RecurrentLayer)?
    let head: Linear?
    let narx: NARXNetwork?
    public var isTraining = true {
        didSet {
            recurrent?.isTraining = isTraining
            narx?.isTraining = isTraining
        }
    }

    /// A model with parameters drawn from `rng`.
    /// - Throws: `ConfigurationError` naming an invalid size.
    public init(_ configuration: ForecastModelConfiguration, using rng: inout RandomGenerator) throws {
        try configuration.validate()
        self.configuration = configuration
        let c = configuration
        if let layer = c.recurrentConfiguration {
            recurrent = try makeRecurrentLayer(layer, using: &rng)
            head = try Linear(inputSize: c.hiddenSize, outputSize: c.headOutputSize, using: &rng)
            narx = nil
        } else {
            narx = try NARXNetwork(inputSize: c.narxInputSize, outputSize: 1, delay: c.window,
                                   hiddenSize: c.hiddenSize, activation: .tanh, using: &rng)
            recurrent = nil
            head = nil
        }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        if let narx { return prefixed("narx", narx.namedParameters) }
        return prefixed("rnn", recurrent!.namedParameters) + prefixed("head", head!.namedParameters)
    }

    private var isChange: Bool { configuration.targetMode == .change }

    // MARK: Batches

    /// The input windows of `origins`, `(W, B, C)`, the target channel relative to the origin in
    /// `.change` mode.
    func windows(_ z: [[Float]], origins: [Int]) -> Tensor {
        let w = configuration.window, channels = z.count, batch = origins.count
        var scalars = [Float](repeating: 0, count: w * batch * channels)
        for (b, t) in origins.enumerated() {
            let reference = isChange ? z[0][t] : 0
            for i in 0..<w {
                let time = t - w + 1 + i
                for c in 0..<channels {
                    scalars[(i * batch + b) * channels + c] = z[c][time] - (c == 0 ? reference : 0)
                }
            }
        }
        return Tensor(shape: [w, batch, channels], scalars: scalars)
    }

    /// The training loss (mean squared error in normalised units) of the forecasts from `origins`;
    /// every origin needs `horizon` known steps after it.
    public func loss(_ z: [[Float]], origins: [Int]) -> Variable {
        let c = configuration, batch = origins.count
        if let narx {
            let (u, y) = narxSequences(z, origins: origins, length: c.window + c.horizon)
            let prediction = narx.closedLoop(inputs: Variable(u), warmUpOutputs: Variable(y.slicedRows(0..<c.window)))
            return mseLoss(prediction, y.slicedRows(c.window..<(c.window + c.horizon)))
        }
        let output = network(Variable(windows(z, origins: origins)))
        var target = [Float]()
        switch c.strategy {
        case .direct:
            target.reserveCapacity(batch * c.horizon)
            for t in origins {
                let reference = isChange ? z[0][t] : 0
                for h in 1...c.horizon { target.append(z[0][t + h] - reference) }
            }
            return mseLoss(output, Tensor(shape: [batch, c.horizon], scalars: target))
        case .recursive:
            for t in origins {
                let reference = isChange ? z[0][t] : 0
                for channel in 0..<z.count { target.append(z[channel][t + 1] - (channel == 0 ? reference : 0)) }
            }
            return mseLoss(output, Tensor(shape: [batch, z.count], scalars: target))
        }
    }

    /// Forecasts of the normalised target `(B, horizon)` from `origins`, as rows of absolute
    /// normalised values. Data after an origin is never read, except the features of a NARX model
    /// (its exogenous inputs), which must then exist up to origin + horizon − 1.
    public func forecast(_ z: [[Float]], origins: [Int], horizon: Int) -> [[Double]] {
        let c = configuration
        precondition(c.strategy == .recursive || c.cell == .narx || horizon <= c.horizon,
                     "ForecastModel: a direct model forecasts at most \(c.horizon) steps, asked for \(horizon)")
        return GradientMode.withoutGradients {
            let wasTraining = isTraining
            isTraining = false
            defer { isTraining = wasTraining }
            let references = origins.map { isChange ? Double(z[0][$0]) : 0 }
            if let narx {
                let (u, y) = narxSequences(z, origins: origins, length: c.window + horizon)
                let prediction = narx.closedLoop(inputs: Variable(u), warmUpOutputs: Variable(y.slicedRows(0..<c.window))).value
                return origins.indices.map { b in (0..<horizon).map { Double(prediction[$0, b, 0]) + references[b] } }
            }
            if c.strategy == .direct {
                let output = network(Variable(windows(z, origins: origins))).value
                return origins.indices.map { b in (0..<horizon).map { Double(output[b, $0]) + references[b] } }
            }
            // Recursive: extend each origin's window with its own forecasts.
            let channels = z.count, w = c.window
            var extended: [[[Float]]] = origins.map { t in (0..<channels).map { Array(z[$0][(t - w + 1)...t]) } }
            var result = [[Double]](repeating: [], count: origins.count)
            for _ in 0..<horizon {
                let local = (0..<channels).map { channel in extended.flatMap { Array($0[channel].suffix(w)) } }
                // `local[c]` holds B consecutive windows of W steps; origin b ends at b·W + W − 1.
                let output = network(Variable(windows(local, origins: origins.indices.map { $0 * w + w - 1 }))).value
                for b in origins.indices {
                    let reference = isChange ? extended[b][0].last! : 0
                    for channel in 0..<channels {
                        extended[b][channel].append(output[b, channel] + (channel == 0 ? reference : 0))
                    }
                    result[b].append(Double(extended[b][0].last!))
                }
            }
            return result
        }
    }

    /// Recurrent layer, last hidden state, head: `(W, B, C)` → `(B, outputs)`.
    private func network(_ input: Variable) -> Variable {
        let (output, _) = recurrent!.run(input, state: nil)
        return head!(output.select(output.shape[0] - 1, axis: 0))
    }

    /// NARX sequences of `length` steps from origin − W + 1: exogenous inputs u `(length, B, max(C−1, 1))`
    /// (zeros without features, and zeros past the end of the data) and targets y `(length, B, 1)`
    /// (zeros past the end of the data; only the first W are read when forecasting).
    private func narxSequences(_ z: [[Float]], origins: [Int], length: Int) -> (u: Tensor, y: Tensor) {
        let w = configuration.window, batch = origins.count, features = z.count - 1, width = max(features, 1)
        var u = [Float](repeating: 0, count: length * batch * width)
        var y = [Float](repeating: 0, count: length * batch)
        let count = z[0].count
        for (b, t) in origins.enumerated() {
            let reference = isChange ? z[0][t] : 0
            for i in 0..<length {
                let time = t - w + 1 + i
                guard time < count else { break }
                y[i * batch + b] = z[0][time] - reference
                for f in 0..<features { u[(i * batch + b) * width + f] = z[f + 1][time] }
            }
        }
        return (Tensor(shape: [length, batch, width], scalars: u), Tensor(shape: [length, batch, 1], scalars: y))
    }
}

extension Tensor {
    /// Rows `range` of the first axis.
    func slicedRows(_ range: Range<Int>) -> Tensor {
        let rowSize = shape.dropFirst().reduce(1, *)
        return Tensor(shape: [range.count] + shape.dropFirst(), scalars: Array(scalars[(range.lowerBound * rowSize)..<(range.upperBound * rowSize)]))
    }
}
