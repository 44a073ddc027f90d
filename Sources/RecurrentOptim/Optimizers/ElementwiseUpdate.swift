#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

// The optimizers' per-element update rules are written once, generic over `FloatLanes`, and run
// four elements at a time (`SIMD4<Float>`) with a one-element tail (`Float`). Every lane does the
// same IEEE operations in the same order as the scalar code, so the result does not depend on
// where an element falls (the tests check this bit for bit).
//
// Why not let the compiler vectorize a scalar loop: on Linux, `Float.squareRoot()` keeps a libm
// `sqrtf` call for errno on its slow path, which stops LLVM's loop vectorizer (and scalarizes
// `SIMD4.squareRoot()` too). On x86_64 we therefore call SSE's `sqrtps` directly, which is
// correctly rounded like `sqrtss`.
//
// Each kernel's `apply` is marked `@_specialize(where L == Float)` so that unoptimized builds,
// which run the one-element path only (see `run`), get a concrete copy instead of going through
// the generic witness calls for every operation (about twice as fast there).

/// The arithmetic an update rule needs, on one Float or on four at once.
protocol FloatLanes {
    init(repeating value: Float)
    static func + (lhs: Self, rhs: Self) -> Self
    static func - (lhs: Self, rhs: Self) -> Self
    static func * (lhs: Self, rhs: Self) -> Self
    static func / (lhs: Self, rhs: Self) -> Self
    /// The correctly rounded square root of every lane.
    var laneSquareRoot: Self { get }
    /// `torch.maximum`: the larger of each pair of lanes, NaN if either is NaN.
    static func nanPropagatingMaximum(_ a: Self, _ b: Self) -> Self
    static func load(_ base: UnsafePointer<Float>, _ offset: Int) -> Self
    func store(_ base: UnsafeMutablePointer<Float>, _ offset: Int)
}

extension Float: FloatLanes {
    @inline(__always) init(repeating value: Float) { self = value }
    @inline(__always) var laneSquareRoot: Float { squareRoot() }
    @inline(__always) static func nanPropagatingMaximum(_ a: Float, _ b: Float) -> Float {
        a >= b || a.isNaN ? a : b
    }
    @inline(__always) static func load(_ base: UnsafePointer<Float>, _ offset: Int) -> Float { base[offset] }
    @inline(__always) func store(_ base: UnsafeMutablePointer<Float>, _ offset: Int) { base[offset] = self }
}

extension SIMD4: FloatLanes where Scalar == Float {
    @inline(__always) var laneSquareRoot: SIMD4<Float> {
        #if arch(x86_64)
        return _mm_sqrt_ps(self)
        #else
        return squareRoot()
        #endif
    }
    @inline(__always) static func nanPropagatingMaximum(_ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD4<Float> {
        b.replacing(with: a, where: (a .>= b) .| (a .!= a))
    }
    @inline(__always) static func load(_ base: UnsafePointer<Float>, _ offset: Int) -> SIMD4<Float> {
        UnsafeRawPointer(base + offset).loadUnaligned(as: SIMD4<Float>.self)
    }
    @inline(__always) func store(_ base: UnsafeMutablePointer<Float>, _ offset: Int) {
        UnsafeMutableRawPointer(base + offset).storeBytes(of: self, as: SIMD4<Float>.self)
    }
}

/// An update applied independently to every element of one parameter's buffers.
protocol ElementwiseUpdate {
    /// Updates the elements `offset ..< offset + width of L`.
    func apply<L: FloatLanes>(_ lanes: L.Type, at offset: Int)
}

extension ElementwiseUpdate {
    /// Applies the update to elements `0 ..< count`: four at a time, then one at a time.
    ///
    /// Unoptimized (debug) builds take the one-at-a-time path throughout: without specialization
    /// `SIMD4` arithmetic runs lane by lane through generic code, about 20 times slower than the
    /// scalar path there. Both paths give the same bits (the tests check it in release builds).
    @inline(__always)
    func run(count: Int) {
        var j = 0
        #if !DEBUG
        while j + 4 <= count {
            apply(SIMD4<Float>.self, at: j)
            j += 4
        }
        #endif
        while j < count {
            apply(Float.self, at: j)
            j += 1
        }
    }
}

/// PyTorch's `lerp`: `start + weight · (end − start)` when |weight| < 0.5, otherwise
/// `end − (end − start) · (1 − weight)` (the form that is exact at weight = 1).
@inline(__always)
func lerp<L: FloatLanes>(_ start: L, _ end: L, weight: Float, weightIsSmall: Bool) -> L {
    weightIsSmall
        ? start + L(repeating: weight) * (end - start)
        : end - (end - start) * L(repeating: 1 - weight)
}

/// A buffer's base address for the update kernels (a dangling but unused pointer when empty).
@inline(__always)
func baseAddress(_ buffer: UnsafeMutableBufferPointer<Float>) -> UnsafeMutablePointer<Float> {
    buffer.baseAddress ?? UnsafeMutablePointer(bitPattern: MemoryLayout<Float>.alignment)!
}

@inline(__always)
func baseAddress(_ buffer: UnsafeBufferPointer<Float>) -> UnsafePointer<Float> {
    buffer.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<Float>.alignment)!
}
