import RecurrentCore

/// Input–output sequences of a known discrete-time dynamical system, for identification by the
/// NARX network, the state-space model or any recurrent layer.
///
/// The input u(n) is white noise, uniform in `±inputAmplitude`; the output y(n) follows the
/// chosen `System` from rest (y = 0 before time 0). The first `washout` steps of every simulation
/// are discarded so that sequences start in a typical state, not at rest.
///
/// Shapes (time-major, like `runSequence`): inputs `(sequenceLength, batchSize, 1)` and outputs
/// `(sequenceLength, batchSize, 1)`; row n of both is time n.
public struct SystemIdentificationTask: Sendable {
    /// The systems on offer. Each is single-input single-output and bounded for |u| ≤ 1.
    public enum System: String, CaseIterable, Sendable, Codable {
        /// `y(n+1) = 0.5·y(n) + 0.3·u(n)·y(n−1) + u(n)³`: a nonlinear system in NARX form with
        /// q = 2 (bounded: |y| ≤ 5 for |u| ≤ 1, since 0.5 + 0.3 < 1).
        case bilinearCubic
        /// `y(n+1) = y(n) / (1 + y(n)²) + u(n)³` (Narendra & Parthasarathy 1990, example 2).
        case narendra
        /// `y(n+1) = 1.6·y(n) − 0.8·y(n−1) + 0.2·u(n)`: a linear, lightly damped second-order
        /// resonator (poles 0.8 ± 0.4i, |z| ≈ 0.894), exactly a 2-state linear state-space model.
        case resonator

        /// How many past outputs the system reads (its output order).
        public var outputOrder: Int {
            switch self {
            case .bilinearCubic, .resonator: return 2
            case .narendra: return 1
            }
        }

        /// y(n+1) from y(n), y(n−1) and u(n).
        public func next(y: Float, previousY: Float, u: Float) -> Float {
            switch self {
            case .bilinearCubic: return 0.5 * y + 0.3 * u * previousY + u * u * u
            case .narendra: return y / (1 + y * y) + u * u * u
            case .resonator: return 1.6 * y - 0.8 * previousY + 0.2 * u
            }
        }
    }

    public var system: System
    public var sequenceLength: Int
    /// Inputs are uniform in `±inputAmplitude`.
    public var inputAmplitude: Float
    /// Steps simulated and discarded before each sequence.
    public var washout: Int

    /// - Throws: `ConfigurationError` naming `sequenceLength` (must be positive), `inputAmplitude`
    ///   (must be in (0, 1]) or `washout` (must not be negative).
    public init(system: System, sequenceLength: Int, inputAmplitude: Float = 1, washout: Int = 20) throws {
        try ConfigurationError.require(sequenceLength > 0, "sequenceLength", "must be positive, got \(sequenceLength)")
        try ConfigurationError.require(inputAmplitude > 0 && inputAmplitude <= 1, "inputAmplitude",
                                       "must be in (0, 1] (the systems are bounded there), got \(inputAmplitude)")
        try ConfigurationError.require(washout >= 0, "washout", "must not be negative, got \(washout)")
        self.system = system
        self.sequenceLength = sequenceLength
        self.inputAmplitude = inputAmplitude
        self.washout = washout
    }

    /// The response of the system, from rest, to the input sequence `u`.
    public func simulate(_ u: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: u.count)
        var current: Float = 0, previous: Float = 0      // y(n), y(n−1)
        for n in 0..<u.count {
            y[n] = current
            let next = system.next(y: current, previousY: previous, u: u[n])
            previous = current
            current = next
        }
        return y
    }

    /// `batchSize` independent simulations: inputs and outputs `(sequenceLength, batchSize, 1)`.
    public func batch(size batchSize: Int, using rng: inout RandomGenerator) -> (inputs: Tensor, outputs: Tensor) {
        precondition(batchSize > 0, "SystemIdentificationTask.batch: batchSize must be positive, got \(batchSize)")
        let total = washout + sequenceLength
        var inputs = Tensor(zeros: [sequenceLength, batchSize, 1])
        var outputs = Tensor(zeros: [sequenceLength, batchSize, 1])
        for b in 0..<batchSize {
            let u = (0..<total).map { _ in rng.nextUniform(-inputAmplitude, inputAmplitude) }
            let y = simulate(u)
            for n in 0..<sequenceLength {
                inputs.scalars[n * batchSize + b] = u[washout + n]
                outputs.scalars[n * batchSize + b] = y[washout + n]
            }
        }
        return (inputs, outputs)
    }
}
