import Foundation

/// The process-wide generator used when no generator is passed (layer initialisation, dropout),
/// like PyTorch's default generator. `GlobalRandom.seed(_:)` is `torch.manual_seed`.
public enum GlobalRandom {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var generator = RandomGenerator(seed: 0)

    /// Reseeds the process-wide generator.
    public static func seed(_ seed: UInt64) {
        lock.lock(); defer { lock.unlock() }
        generator = RandomGenerator(seed: seed)
    }

    /// The generator's state, for checkpoints; assign to restore it.
    public static var state: RandomGenerator {
        get { lock.lock(); defer { lock.unlock() }; return generator }
        set { lock.lock(); defer { lock.unlock() }; generator = newValue }
    }

    /// Runs `body` with exclusive access to the process-wide generator.
    public static func with<T>(_ body: (inout RandomGenerator) throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body(&generator)
    }
}

/// Where a layer draws its random masks (dropout, recurrent dropout, zoneout): its own generator when
/// one is set, otherwise the process-wide `GlobalRandom` (PyTorch's behaviour, the default). A
/// reference, so that a layer and the cells it builds share one stream; a model's own generator makes
/// its masks independent of anything else the process draws (the language-model trainer keeps one
/// per run and saves it in checkpoints).
public final class RandomSource: @unchecked Sendable {
    private let lock = NSLock()
    private var own: RandomGenerator?

    /// A source drawing from `generator`, or from `GlobalRandom` when nil.
    public init(_ generator: RandomGenerator? = nil) { own = generator }

    /// The own generator's state (nil: the source draws from `GlobalRandom`); assign to install one.
    public var generator: RandomGenerator? {
        get { lock.lock(); defer { lock.unlock() }; return own }
        set { lock.lock(); defer { lock.unlock() }; own = newValue }
    }

    /// Runs `body` with exclusive access to the generator this source draws from.
    public func with<T>(_ body: (inout RandomGenerator) throws -> T) rethrows -> T {
        lock.lock()
        guard own != nil else {
            lock.unlock()
            return try GlobalRandom.with(body)
        }
        defer { lock.unlock() }
        return try body(&own!)
    }
}
