/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// The same seed gives the same numbers on every run and every platform. The state is public so
/// that checkpoints can save and restore it exactly.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable, Codable {
    /// The four words of xoshiro256** state.
    public var state: [UInt64]

    /// A generator whose sequence is determined by `seed`.
    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = [splitMix(), splitMix(), splitMix(), splitMix()]
    }

    /// Restores a generator from saved state (four words, not all zero).
    public init(state: [UInt64]) {
        precondition(state.count == 4 && state.contains { $0 != 0 }, "RandomGenerator: state must be four words, not all zero")
        self.state = state
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotl(state[3], 45)
        return result
    }

    @inlinable func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform Float in [0, 1) with 24 random bits.
    @inlinable
    public mutating func nextUniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// A uniform Float in [low, high).
    @inlinable
    public mutating func nextUniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * nextUniform() }

    /// A standard normal sample (Box–Muller).
    public mutating func nextNormal() -> Float {
        let u1 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let r = (-2.0 * _log(1.0 - u1)).squareRoot()
        return Float(r * _cos(2.0 * Double.pi * u2))
    }

    /// A uniform integer in `0..<upperBound` without modulo bias.
    public mutating func nextInt(below upperBound: Int) -> Int {
        precondition(upperBound > 0, "RandomGenerator.nextInt: upperBound must be positive")
        return Int(next(upperBound: UInt64(upperBound)))
    }
}

import Foundation
@usableFromInline func _log(_ x: Double) -> Double { Foundation.log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Foundation.cos(x) }

extension Tensor {
    /// Elements drawn uniformly from [low, high).
    public static func uniform(shape: [Int], low: Float, high: Float, using rng: inout RandomGenerator) -> Tensor {
        let n = shape.reduce(1, *)
        var scalars = [Float](repeating: 0, count: n)
        for i in 0..<n { scalars[i] = rng.nextUniform(low, high) }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// Elements drawn from a normal distribution.
    public static func normal(shape: [Int], mean: Float = 0, standardDeviation: Float = 1, using rng: inout RandomGenerator) -> Tensor {
        let n = shape.reduce(1, *)
        var scalars = [Float](repeating: 0, count: n)
        for i in 0..<n { scalars[i] = mean + standardDeviation * rng.nextNormal() }
        return Tensor(shape: shape, scalars: scalars)
    }
}
