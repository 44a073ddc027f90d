import CFuzzDriver
import Foundation

/// Runs libFuzzer on a fuzz target's `LLVMFuzzerTestOneInput`.
///
/// SwiftPM links an executable with its module's `main` (not libFuzzer's), so each target's
/// `main.swift` calls `FuzzDriver.run` with its entry point, which hands the command line to
/// libFuzzer's driver: `-max_total_time=30 corpus/`, `-runs=0 crash-file`, `-merge=1 ...` all work as
/// with libFuzzer's own `main`.
public enum FuzzDriver {
    public typealias TestOneInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    public static func run(_ testOneInput: TestOneInput) -> Never {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
    }

    /// The input's bytes (libFuzzer passes a null pointer for the empty input).
    public static func data(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Data {
        guard let bytes, count > 0 else { return Data() }
        return Data(bytes: bytes, count: count)
    }
}
