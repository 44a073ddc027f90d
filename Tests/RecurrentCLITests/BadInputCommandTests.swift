import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import XCTest
import Recurrent

/// The reproducers of issue 19's probe, run through the binary: checkpoints and inputs that used to
/// crash (SIGABRT, SIGILL), hang or be accepted now fail with one error line, a non-zero exit status
/// and no signal, within a time limit (`runBounded` kills a command that hangs). Against the binary
/// built before these fixes the four tests fail 83 assertions: a FIFO model.safetensors blocks each
/// kind until killed, hiddenSize 10⁹ aborts (SIGABRT, 64 GB) or runs past the limit, Int.max traps
/// (SIGILL), NaN weights give exit 0, a 5 MB line runs past the limit, 0x10 is read as 16.
final class BadInputCommandTests: BinaryTestCase {
    /// What a bounded run ended with.
    struct Ending {
        var result: Result
        /// The signal that ended the process, if any.
        var signal: Int32?
        var timedOut: Bool
        /// The process's peak resident memory in bytes (`wait4`'s `ru_maxrss`).
        var peakMemory: Int
    }

    /// Runs the binary in the scratch directory, killing it after `timeout` seconds, and measures its
    /// peak memory: spawned through `/bin/sh -c 'cd … && exec recurrent …'` with `posix_spawn` and
    /// reaped with `wait4`, which reports the resources of that one process (`Process` does not).
    /// Standard output and error go to files, so a full pipe cannot block it.
    func runBounded(_ arguments: [String], timeout: Double = 60) throws -> Ending {
        let outURL = scratch.appendingPathComponent(".stdout-\(UUID().uuidString)")
        let errURL = scratch.appendingPathComponent(".stderr-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t? = nil
        let environment = _NSGetEnviron().pointee
        #else
        var actions = posix_spawn_file_actions_t()
        let environment = environ
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let script = "cd \"$1\" && shift && exec \"$@\""
        let argv = ["sh", "-c", script, "sh", scratch.path, Self.binary.path] + arguments
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, &cArguments, environment)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL) }
        var status: Int32 = 0
        var usage = rusage()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while wait4(pid, &status, WNOHANG, &usage) == 0 {
            if Date() > deadline {
                timedOut = true
                kill(pid, SIGKILL)
                _ = wait4(pid, &status, 0, &usage)
                break
            }
            usleep(20_000)
        }
        // The wait status: the low 7 bits are the signal (0 when the process exited), the next byte the exit code.
        let signal = status & 0x7f
        #if os(Linux)
        let peakMemory = Int(usage.ru_maxrss) * 1024
        #else
        let peakMemory = Int(usage.ru_maxrss)
        #endif
        let stdout = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        return Ending(result: Result(status: signal == 0 ? (status >> 8) & 0xff : signal, stdout: stdout, stderr: stderr),
                      signal: signal == 0 ? nil : signal, timedOut: timedOut, peakMemory: peakMemory)
    }

    /// Asserts that the command ends by itself, without a signal, with a non-zero status and exactly
    /// one error line (of at most 600 characters) that contains `fragment`.
    func assertRefused(_ arguments: [String], mentioning fragment: String, timeout: Double = 60,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let ending = try runBounded(arguments, timeout: timeout)
        XCTAssertFalse(ending.timedOut, "\(arguments) still ran after \(timeout) s", file: file, line: line)
        XCTAssertNil(ending.signal, "\(arguments) ended by signal \(ending.signal ?? 0): \(ending.result.stderr.prefix(300))",
                     file: file, line: line)
        XCTAssertNotEqual(ending.result.status, 0, "\(arguments) should fail", file: file, line: line)
        let lines = ending.result.stderr.split(separator: "\n").filter { !$0.isEmpty }
        XCTAssertEqual(lines.count, 1, "expected one error line, got: \(ending.result.stderr.prefix(1000))", file: file, line: line)
        XCTAssertLessThanOrEqual(ending.result.stderr.count, 600, file: file, line: line)
        XCTAssertTrue(ending.result.stderr.contains(fragment), "stderr '\(ending.result.stderr.prefix(600))' should mention '\(fragment)'",
                      file: file, line: line)
    }

    // MARK: Small checkpoints of each kind

    private func succeed(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try run(arguments)
        XCTAssertEqual(result.status, 0, "\(arguments): \(result.stderr)", file: file, line: line)
    }

    /// A language-model run in `lm`; returns its checkpoint directory.
    private func languageModel() throws -> URL {
        _ = try write(String(repeating: "the cat sat on the mat. ", count: 200), to: "text.txt")
        try succeed(["train", "--text", "text.txt", "--hidden", "8", "--layers", "1", "--embedding", "4", "--batch", "4", "--seq", "8",
                     "--max-steps", "2", "--eval-every", "2", "--sample-length", "0", "--out", "lm"])
        let pointer = try String(contentsOf: scratch.appendingPathComponent("lm/checkpoints/latest"), encoding: .utf8)
        return scratch.appendingPathComponent("lm/checkpoints").appendingPathComponent(pointer.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private func monthlyCSV(cell: (Int) -> String = { t in String(format: "%.3f", 50 + 0.5 * Double(t) + 8 * sin(Double(t))) }) -> String {
        "Month,Value\n" + (0..<60).map { "\(2000 + $0 / 12)-\(String(format: "%02d", $0 % 12 + 1)),\(cell($0))\n" }.joined()
    }

    private func forecaster() throws -> URL {
        _ = try write(monthlyCSV(), to: "series.csv")
        try succeed(["forecast", "train", "--csv", "series.csv", "--target", "Value", "--window", "6", "--horizon", "3", "--hidden", "4",
                     "--epochs", "2", "--out", "fc"])
        return scratch.appendingPathComponent("fc")
    }

    private func classifier() throws -> URL {
        // The default sizes (embedding 32, hidden 64), with which a long text used to need gigabytes.
        try succeed(["classify", "train", "--corpus", "sentiment", "--corpus-count", "60", "--epochs", "1", "--out", "cls"])
        return scratch.appendingPathComponent("cls")
    }

    private func translator() throws -> URL {
        try succeed(["translate", "generate", "--task", "dates", "--count", "60", "--out", "dates.tsv"])
        try succeed(["translate", "train", "--pairs", "dates.tsv", "--steps", "2", "--hidden", "4", "--embedding", "4", "--run-dir", "tr"])
        return scratch.appendingPathComponent("tr")
    }

    /// Sets the field at `path` of the JSON file `url`.
    private func edit(_ url: URL, _ path: [String], to value: Any) throws {
        func replaced(_ object: Any, _ path: ArraySlice<String>) -> Any {
            guard let key = path.first, var dictionary = object as? [String: Any] else { return value }
            dictionary[key] = replaced(dictionary[key] as Any, path.dropFirst())
            return dictionary
        }
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        try FileManager.default.removeItem(at: url)
        try JSONSerialization.data(withJSONObject: replaced(object, path[...])).write(to: url)
    }

    /// Sets the first element of tensor `name` of the safetensors file `url` to `value`.
    private func poison(_ url: URL, _ name: String, with value: Float) throws {
        var tensors = try SafetensorsFile(contentsOf: url).tensors()
        var tensor = try XCTUnwrap(tensors[name], "no tensor \(name)")
        var scalars = tensor.scalars
        scalars[0] = value
        tensor = Tensor(shape: tensor.shape, scalars: scalars)
        tensors[name] = tensor
        try Safetensors.write(tensors.map { (name: $0.key, tensor: $0.value) }, to: url)
    }

    /// Replaces `url` by a FIFO that no process writes to.
    private func replaceByFIFO(_ url: URL) throws {
        try FileManager.default.removeItem(at: url)
        XCTAssertEqual(mkfifo(url.path, 0o600), 0)
    }

    // MARK: FIFO checkpoint files (each used to block forever in open())

    func testACheckpointFileThatIsAFIFOIsRefusedAtOnce() throws {
        let lm = try languageModel(), fc = try forecaster(), cls = try classifier(), tr = try translator()
        let cases: [(file: URL, arguments: [String])] = [
            (lm.appendingPathComponent("config.json"), ["sample", "--checkpoint", "lm", "--length", "5"]),
            (lm.appendingPathComponent("model.safetensors"), ["evaluate", "--checkpoint", "lm", "--text", "text.txt"]),
            (lm.appendingPathComponent("state.json"), ["evaluate", "--checkpoint", "lm", "--text", "text.txt"]),
            (scratch.appendingPathComponent("lm/checkpoints/latest"), ["sample", "--checkpoint", "lm", "--length", "5"]),
            (fc.appendingPathComponent("config.json"), ["forecast", "predict", "--checkpoint", "fc", "--csv", "series.csv"]),
            (fc.appendingPathComponent("model.safetensors"), ["forecast", "predict", "--checkpoint", "fc", "--csv", "series.csv"]),
            (cls.appendingPathComponent("config.json"), ["classify", "predict", "--checkpoint", "cls", "a good film"]),
            (cls.appendingPathComponent("model.safetensors"), ["classify", "predict", "--checkpoint", "cls", "a good film"]),
            (tr.appendingPathComponent("config.json"), ["translate", "predict", "--checkpoint", "tr", "--input", "dates.tsv"]),
            (tr.appendingPathComponent("model.safetensors"), ["translate", "predict", "--checkpoint", "tr", "--input", "dates.tsv"]),
        ]
        for (file, arguments) in cases {
            let saved = try Data(contentsOf: file)
            try replaceByFIFO(file)
            try assertRefused(arguments, mentioning: "it is a FIFO (named pipe), not a regular file", timeout: 30)
            try FileManager.default.removeItem(at: file)
            try saved.write(to: file)
        }
        // Input files too.
        try replaceByFIFO(scratch.appendingPathComponent("series.csv"))
        try assertRefused(["forecast", "predict", "--checkpoint", "fc", "--csv", "series.csv"], mentioning: "FIFO", timeout: 30)
        try replaceByFIFO(scratch.appendingPathComponent("dates.tsv"))
        try assertRefused(["translate", "predict", "--checkpoint", "tr", "--input", "dates.tsv"], mentioning: "FIFO", timeout: 30)
    }

    // MARK: Sizes in config.json (1e9: SIGABRT in the allocator; Int.max: overflow trap)

    func testHugeSizesInConfigJSONAreRefusedByName() throws {
        let lm = try languageModel(), fc = try forecaster(), cls = try classifier(), tr = try translator()
        for value in [1_000_000_000, Int.max] {
            try edit(lm.appendingPathComponent("config.json"), ["training", "model", "hiddenSize"], to: value)
            try assertRefused(["sample", "--checkpoint", "lm", "--length", "5"],
                              mentioning: "invalid hiddenSize: must be at most 16777216, got \(value)")
            try edit(fc.appendingPathComponent("config.json"), ["configuration", "model", "hiddenSize"], to: value)
            try assertRefused(["forecast", "predict", "--checkpoint", "fc", "--csv", "series.csv"],
                              mentioning: "invalid hiddenSize: must be at most 16777216, got \(value)")
            try edit(cls.appendingPathComponent("config.json"), ["model", "embeddingSize"], to: value)
            try assertRefused(["classify", "predict", "--checkpoint", "cls", "fine"],
                              mentioning: "invalid embeddingSize: must be at most 16777216, got \(value)")
            try edit(tr.appendingPathComponent("config.json"), ["model", "attentionSize"], to: value)
            try assertRefused(["translate", "predict", "--checkpoint", "tr", "--input", "dates.tsv"],
                              mentioning: "invalid attentionSize: must be at most 16777216, got \(value)")
        }
        // Within the limits but not what the weights hold: refused from the weights' header, before the
        // model (1 GB for hiddenSize 8000) is allocated.
        try edit(lm.appendingPathComponent("config.json"), ["training", "model", "hiddenSize"], to: 8000)
        try assertRefused(["sample", "--checkpoint", "lm", "--length", "5"],
                          mentioning: "state dict entry 'lstm.weight_ih_l0' has shape [32, 4], the model expects [32000, 4]", timeout: 10)
        try edit(tr.appendingPathComponent("config.json"), ["model", "attentionSize"], to: 4)
        try edit(tr.appendingPathComponent("config.json"), ["maxOutputLength"], to: 1_000_000_000)
        try assertRefused(["translate", "predict", "--checkpoint", "tr", "--input", "dates.tsv"],
                          mentioning: "invalid maxOutputLength: must be at most 10000, got 1000000000")
        try edit(fc.appendingPathComponent("config.json"), ["configuration", "model", "hiddenSize"], to: 4)
        for level in [-1, 0, 1e9] {
            try edit(fc.appendingPathComponent("config.json"), ["interval", "level"], to: level)
            try assertRefused(["forecast", "predict", "--checkpoint", "fc", "--csv", "series.csv"],
                              mentioning: "invalid interval.level: must be in (0, 1), got \(level)")
        }
    }

    // MARK: Non-finite weights (loss nan with exit 0, forecasts near 1e307, <pad><pad>…)

    func testNonFiniteWeightsAreRefusedNamingTheTensor() throws {
        let lm = try languageModel(), fc = try forecaster(), tr = try translator()
        try poison(lm.appendingPathComponent("model.safetensors"), "embedding.weight", with: .nan)
        try assertRefused(["evaluate", "--checkpoint", "lm", "--text", "text.txt"],
                          mentioning: "tensor 'embedding.weight' holds nan at element 0; every value must be finite")
        try poison(fc.appendingPathComponent("model.safetensors"), "head.bias", with: .infinity)
        try assertRefused(["forecast", "predict", "--checkpoint", "fc", "--csv", "series.csv"],
                          mentioning: "tensor 'head.bias' holds inf at element 0")
        try poison(tr.appendingPathComponent("model.safetensors"), "output.weight", with: -.infinity)
        try assertRefused(["translate", "predict", "--checkpoint", "tr", "--input", "dates.tsv"],
                          mentioning: "tensor 'output.weight' holds -inf at element 0")
    }

    // MARK: Unbounded input

    /// One 5 MB line to translate used to allocate gigabytes and abort; a 10 MB text to classify too.
    func testOverlongInputsAreBounded() throws {
        _ = try translator()
        _ = try classifier()
        _ = try write("3 March 2021\n" + String(repeating: "1", count: 5_000_000) + "\n", to: "long.txt")
        try assertRefused(["translate", "predict", "--checkpoint", "tr", "--input", "long.txt"],
                          mentioning: "long.txt, line 2: the source has more than 1000 tokens")
        _ = try write("text\tlabel\n" + String(repeating: "x", count: 5_000_000) + "\tone\nshort\ttwo\n", to: "long.tsv")
        try assertRefused(["translate", "train", "--pairs", "long.tsv", "--steps", "1"],
                          mentioning: "long.tsv, line 2: the source has more than 1000 tokens")
        // Classification reads the first 512 tokens of a text, whatever its length: 10.8 MB on one line
        // (2.4 million tokens) took 13 s and 4.3 GB before, 1.1 s and 0.2 GB now (classify train defaults).
        _ = try write(String(repeating: "the plot was good ", count: 600_000) + "\n", to: "huge.txt")
        let ending = try runBounded(["classify", "predict", "--checkpoint", "cls", "--input", "huge.txt"], timeout: 120)
        XCTAssertFalse(ending.timedOut)
        XCTAssertNil(ending.signal, ending.result.stderr)
        XCTAssertEqual(ending.result.status, 0, ending.result.stderr)
        XCTAssertEqual(ending.result.stdout.split(separator: "\n").count, 1)
        XCTAssertLessThan(ending.peakMemory, 1 << 30, "peak memory \(ending.peakMemory) bytes")
        // A CSV cell in hexadecimal is not read as 16.
        _ = try forecaster()
        _ = try write(monthlyCSV { $0 == 7 ? "0x10" : "\(50 + $0)" }, to: "hex.csv")
        try assertRefused(["forecast", "predict", "--checkpoint", "fc", "--csv", "hex.csv"],
                          mentioning: "column 'Value', line 9: '0x10' is not a finite decimal number")
    }
}
