import ArgumentParser
import Foundation
import Recurrent

/// `--resume DIR` and `--checkpoint-every N` of `forecast train`, `classify train` and `translate train`.
struct ResumeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Continue the run saved in this directory, exactly where it stopped.", valueName: "dir"))
    var resume: String?

    @Option(help: """
        Write a resumable checkpoint every this many epochs (translate train: steps), and after the last \
        (default: every 30 s of training).
        """)
    var checkpointEvery: Int?

    func validate() throws {
        if let checkpointEvery, checkpointEvery < 1 { throw ValidationError("--checkpoint-every must be positive, got \(checkpointEvery)") }
    }

    /// When the trainer checkpoints.
    var interval: CheckpointInterval { checkpointEvery.map { .every($0) } ?? .default }
}
