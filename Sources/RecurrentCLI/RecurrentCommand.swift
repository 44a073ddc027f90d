import ArgumentParser
import Recurrent

/// The `recurrent` command: a thin root that lists the subcommands.
@main
struct RecurrentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recurrent",
        abstract: "Recurrent neural networks in Swift: RNN, LSTM and GRU exact to PyTorch, trained on the CPU.",
        version: RecurrentVersion.current,
        subcommands: [DemoCommand.self, BenchCommand.self],
        defaultSubcommand: nil
    )
}
