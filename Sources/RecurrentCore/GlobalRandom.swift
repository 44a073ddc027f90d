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
