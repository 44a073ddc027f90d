import ArgumentParser
import Foundation
import Recurrent

/// The `recurrent` command: a thin root that lists the subcommands.
@main
struct RecurrentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recurrent",
        abstract: "Recurrent neural networks in Swift: RNN, LSTM and GRU exact to PyTorch, trained on the CPU.",
        version: RecurrentVersion.current,
        subcommands: [TrainCommand.self, SampleCommand.self, EvaluateCommand.self, BenchCommand.self, DemoCommand.self,
                      Seq2SeqCommand.self, DetectCommand.self, ClassifyCommand.self, ForecastCommand.self,
                      EmbeddingsCommand.self, TranslateCommand.self],
        defaultSubcommand: nil
    )

    /// Parses and runs like `ParsableCommand.main()`, but reports a usage error as one line on
    /// standard error (`error: …`, with a pointer to `--help`) instead of the full usage text.
    static func main() {
        // Training and inference reallocate the same large tensors every step: keep freed memory.
        AllocatorTuning.reuseFreedMemory()
        // Past a file-size limit (ulimit -f) a write then fails with EFBIG and is reported as one error
        // line like a full disk, instead of SIGXFSZ ending the process half-way.
        signal(SIGXFSZ, SIG_IGN)
        do {
            // RECURRENT_KERNELS must name a kernel family this CPU runs: say so before anything starts.
            _ = try KernelFamily.fromEnvironment()
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let text = message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
            Console.printError("error: \(text.hasPrefix("Error: ") ? String(text.dropFirst(7)) : text) (see 'recurrent --help')")
            Foundation.exit(code.rawValue)
        }
    }
}
