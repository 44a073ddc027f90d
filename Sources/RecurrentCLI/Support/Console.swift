import ArgumentParser
import Foundation
import Recurrent
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Output helpers shared by the commands: one-line errors, terminal detection, an updating
/// progress line, JSON lines.
enum Console {
    /// Whether standard output is a terminal (then progress updates one line in place).
    static var standardOutputIsTerminal: Bool { isatty(STDOUT_FILENO) != 0 }

    /// Writes `text` to standard output immediately (no newline added).
    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Writes raw bytes to standard output immediately.
    static func write(bytes: [UInt8]) {
        FileHandle.standardOutput.write(Data(bytes))
    }

    /// Writes one line to standard error.
    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Prints one JSON object on one line (keys sorted, so the output is stable).
    static func printJSON(_ object: [String: Any]) {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        write(String(decoding: data, as: UTF8.self) + "\n")
    }

    /// Runs a command body; any error becomes one line `error: …` on standard error and exit status 1.
    static func reportingErrors(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as ExitCode {
            throw error
        } catch let error as CleanExit {
            throw error
        } catch {
            finishProgressLine()
            printError("error: \(message(for: error))")
            throw ExitCode.failure
        }
    }

    /// The one-line message of an error: its localized description, without trailing newlines.
    /// Invalid library arguments are named by the command-line option that sets them.
    static func message(for error: Error) -> String {
        var text = (error as? LocalizedError)?.errorDescription ?? String(describing: error)
        if let error = error as? ConfigurationError, let option = optionNames[error.argument] {
            text = "invalid \(option): \(error.reason)"
        }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// The command-line option behind each library argument name.
    static let optionNames = [
        "batchSize": "--batch", "sequenceLength": "--seq", "hiddenSize": "--hidden", "numLayers": "--layers",
        "embeddingSize": "--embedding", "dropout": "--dropout", "learningRate": "--lr",
        "learningRateDecay": "--lr-decay", "clipNorm": "--clip", "clipValue": "--clip-value", "epochs": "--epochs",
        "timeBudget": "--time-budget", "maxSteps": "--max-steps", "evaluateEvery": "--eval-every",
        "validationFraction": "--val-fraction", "maxVocabularySize": "--vocabulary-size",
        "temperature": "--temperature", "topK": "--top-k", "beamWidth": "--beam", "length": "--length",
        "outputDirectory": "--out", "backpropagationLength": "--k2", "forgetBias": "--forget-bias",
        "pretrainedEmbeddings": "--embeddings",
        // forecast train
        "window": "--window", "horizon": "--horizon", "season": "--season", "testFraction": "--test-fraction",
        "weightDecay": "--weight-decay", "patience": "--patience", "intervalLevel": "--interval",
    ]

    nonisolated(unsafe) private static var progressLineOpen = false

    /// Shows `text` as the current progress: rewritten in place on a terminal, a plain line otherwise.
    static func progress(_ text: String) {
        if standardOutputIsTerminal {
            write("\r\u{1B}[K" + text)
            progressLineOpen = true
        } else {
            write(text + "\n")
        }
    }

    /// Ends an open progress line so that the next output starts on a fresh line.
    static func finishProgressLine() {
        if progressLineOpen {
            write("\n")
            progressLineOpen = false
        }
    }

    /// Prints a full line, first ending any open progress line.
    static func line(_ text: String) {
        finishProgressLine()
        write(text + "\n")
    }
}

/// Durations as `1h02m`, `4m05s`, `12.3s`.
func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    if seconds < 60 { return String(format: "%.1fs", seconds) }
    // Beyond a million hours (a corrupt state.json, say) the hours would not fit an Int conversion's range.
    guard seconds < 3.6e9 else { return String(format: "%.3gh", seconds / 3600) }
    let s = Int(seconds.rounded())
    if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
    return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
}
