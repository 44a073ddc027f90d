import Foundation
import CRecurrentKernels

/// The instruction-set family of the compute kernels (Sources/CRecurrentKernels): the same algorithms
/// on the same data layouts, one implementation per family, chosen once at run time.
///
/// - `avx512`: x86-64 with AVX-512 F/DQ (16 lanes); `avx2`: x86-64 with AVX2 and FMA (8 lanes);
///   `neon`: arm64 (4 lanes); `reference`: no SIMD kernels — the layers use the system BLAS and
///   portable loops (the path every fast path is tested against).
/// - The default is the fastest family the CPU supports. The environment variable `RECURRENT_KERNELS`
///   (`avx512`, `avx2`, `neon` or `reference`) forces one, to test or measure each family on one machine.
public enum KernelFamily: String, CaseIterable, Sendable {
    case reference, avx2, avx512, neon

    /// The family's identifier in the C interface (`RK_REFERENCE`, ...).
    package var code: Int32 {
        switch self {
        case .reference: return RK_REFERENCE
        case .avx2: return RK_AVX2
        case .avx512: return RK_AVX512
        case .neon: return RK_NEON
        }
    }

    /// Whether this CPU can run the family.
    public var isSupported: Bool { rk_family_supported(code) != 0 }

    /// Whether the family has SIMD kernels (the packed GEMM, the gate kernels); `reference` has not.
    public var hasFastKernels: Bool { self != .reference }

    /// The families this CPU supports, fastest first.
    public static var supported: [KernelFamily] { [.avx512, .avx2, .neon, .reference].filter(\.isSupported) }

    /// The fastest family this CPU supports.
    public static let best: KernelFamily = supported[0]

    /// What the environment asks for: `RECURRENT_KERNELS` when set (it must name a family this CPU
    /// supports), otherwise `best`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KernelFamily {
        guard let value = environment["RECURRENT_KERNELS"], !value.isEmpty else { return best }
        guard let family = KernelFamily(rawValue: value.lowercased()) else {
            throw ConfigurationError(argument: "RECURRENT_KERNELS",
                                     reason: "expected one of \(allCases.map(\.rawValue).joined(separator: ", ")), got '\(value)'")
        }
        guard family.isSupported else {
            throw ConfigurationError(argument: "RECURRENT_KERNELS",
                                     reason: "this CPU does not support '\(value)' (supported: \(supported.map(\.rawValue).joined(separator: ", ")))")
        }
        return family
    }

    nonisolated(unsafe) private static var selected: KernelFamily = {
        do {
            return try fromEnvironment()
        } catch {
            // A library cannot stop its host program over an environment variable: say so and go on.
            FileHandle.standardError.write(Data("warning: \(error.localizedDescription); using \(best.rawValue)\n".utf8))
            return best
        }
    }()

    /// The family the kernels use: `fromEnvironment()` at start (with a warning on standard error and
    /// `best` when the variable names no family this CPU supports; the `recurrent` command stops
    /// with an error instead). Setting it (for example in a test that compares the families) takes
    /// effect for the next kernel call; it must be supported.
    public static var current: KernelFamily {
        get { selected }
        set {
            precondition(newValue.isSupported, "KernelFamily: this CPU does not support \(newValue.rawValue)")
            selected = newValue
        }
    }

    /// Runs `body` with `family` as the current family, then restores the previous one.
    public static func with<Result>(_ family: KernelFamily, _ body: () throws -> Result) rethrows -> Result {
        let saved = current
        current = family
        defer { current = saved }
        return try body()
    }
}
