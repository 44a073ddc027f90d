import Foundation
import Recurrent
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// kill -9 at random points of real training processes: after every kill the last checkpoint loads,
/// and `--resume` continues to files byte-identical to those of an uninterrupted run.
///
/// The kill points are drawn from a seeded generator and measured in the run's own progress, not in
/// seconds (so that they spread the same way on a fast or a loaded machine): a step s below the
/// uninterrupted run's last; the kill waits until the latest checkpoint is at step s or later, then
/// (even kills) a further 0–5 ms, landing in a step or an evaluation, or (odd kills) until a
/// checkpoint write is in progress (a temporary entry in `checkpoints/`), landing inside it. A kill
/// before the first checkpoint is followed by a fresh run in the same directory (it must accept the
/// leftovers); one after the process ended checks its files as they are.
final class KillSafetyTests: BinaryTestCase {
    /// One training command under test.
    private struct Scenario {
        var name: String
        /// The command training into `directory`.
        var train: (_ directory: String) -> [String]
        /// The command resuming the run in `directory`.
        var resume: (_ directory: String) -> [String]
        /// Loads the latest checkpoint of a run directory with the library (throws when it cannot).
        var load: (URL) throws -> Void
        /// The result files of a finished run, compared byte for byte.
        var results: (URL) throws -> [URL]
    }

    /// Where a kill landed, read from what it left behind.
    private enum Phase: String, CaseIterable {
        case beforeFirstCheckpoint = "before the first checkpoint"
        case betweenWrites = "in a step or evaluation"
        case duringWrite = "during a checkpoint write"
        case afterEnd = "after the process ended"
    }

    private func url(_ name: String) -> URL { scratch.appendingPathComponent(name) }

    /// Whether a checkpoint write is in progress in `run`: a hidden temporary entry in `checkpoints/`.
    private func isWriting(_ run: URL) -> Bool {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("checkpoints").path)) ?? []
        return entries.contains { $0.hasPrefix(".") }
    }

    /// Runs `scenario` uninterrupted once, then `kills` times killed and resumed; returns how many
    /// kills landed in each phase.
    private func assertKillSafe(_ scenario: Scenario, kills: Int, seed: UInt64,
                                file: StaticString = #filePath, line: UInt = #line) throws -> [Phase: Int] {
        let started = Date()
        let whole = try run(scenario.train("whole-\(scenario.name)"))
        let duration = Date().timeIntervalSince(started)
        XCTAssertEqual(whole.status, 0, whole.stderr, file: file, line: line)
        let expected = try scenario.results(url("whole-\(scenario.name)")).map { try Data(contentsOf: $0) }

        let lastStep = try XCTUnwrap(latestStep(url("whole-\(scenario.name)")), file: file, line: line)
        var rng = RandomGenerator(seed: seed)
        var phases: [Phase: Int] = [:]
        for attempt in 0..<kills {
            let name = "\(scenario.name)-\(attempt)"
            let run = url(name)
            let target = rng.nextInt(below: lastStep)
            let pause = UInt32(rng.nextInt(below: 5000))
            let process = try start(scenario.train(name))
            while process.isRunning && latestStep(run) ?? 0 < target { usleep(200) }
            if attempt % 2 == 0 {
                usleep(pause)
            } else {
                let waited = Date()
                while process.isRunning && !isWriting(run) && Date().timeIntervalSince(waited) < 0.5 { usleep(100) }
            }
            let wasRunning = process.isRunning
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()

            let label = "\(scenario.name) kill \(attempt) after step \(target)"
            let hasCheckpoint = FileManager.default.fileExists(atPath: run.appendingPathComponent("checkpoints/latest").path)
            let phase: Phase = !wasRunning ? .afterEnd : !hasCheckpoint ? .beforeFirstCheckpoint : isWriting(run) ? .duringWrite : .betweenWrites
            phases[phase, default: 0] += 1
            if hasCheckpoint {
                XCTAssertNoThrow(try scenario.load(run), "\(label): the last checkpoint must load", file: file, line: line)
            }
            let next = try self.run(hasCheckpoint ? scenario.resume(name) : scenario.train(name))
            XCTAssertEqual(next.status, 0, "\(label) (\(phase.rawValue)): \(next.stderr)", file: file, line: line)
            let results = try scenario.results(run).map { try Data(contentsOf: $0) }
            XCTAssertEqual(results, expected, "\(label) (\(phase.rawValue)): the resumed run differs", file: file, line: line)
        }
        let summary = Phase.allCases.map { "\(phases[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
        print("\(scenario.name): \(kills) kills over runs of \(lastStep) steps (\(String(format: "%.2f", duration)) s): \(summary)")
        return phases
    }

    /// The step of the latest checkpoint of `run` (from the pointer's name `step-00000012`); nil before the first.
    private func latestStep(_ run: URL) -> Int? {
        guard let name = try? String(contentsOf: run.appendingPathComponent("checkpoints/latest"), encoding: .utf8) else { return nil }
        return Int(name.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst("step-".count))
    }

    /// The files of the latest checkpoint of a language-model run.
    private func latestFiles(_ run: URL, _ names: [String]) throws -> [URL] {
        let latest = try XCTUnwrap(CheckpointStore(runDirectory: run).checkpoint(.latest))
        return names.map { latest.appendingPathComponent($0) }
    }

    func testLanguageModelTrainingSurvivesTwentyKills() throws {
        let scenario = Scenario(
            name: "lm",
            train: { ["train", "--corpus", "arithmetic", "--corpus-lines", "400", "--hidden", "48", "--layers", "2", "--embedding", "8",
                      "--batch", "8", "--seq", "24", "--max-steps", "24", "--eval-every", "3", "--sample-length", "20",
                      "--threads", "1", "--out", $0] },
            resume: { ["train", "--resume", $0, "--threads", "1"] },
            load: { _ = try TrainingCheckpoint.load(from: $0) },
            results: { try self.latestFiles($0, ["model.safetensors", "optimizer.safetensors", "carried-state.safetensors"]) })
        let phases = try assertKillSafe(scenario, kills: 20, seed: 19)
        // Measured in four runs: 5–10 kills inside steps and evaluations, 10–15 inside checkpoint writes.
        XCTAssertGreaterThanOrEqual(phases[.betweenWrites] ?? 0, 3, "\(phases)")
        XCTAssertGreaterThanOrEqual(phases[.duringWrite] ?? 0, 3, "\(phases)")
    }

    func testForecastClassifyAndTranslateTrainingSurviveKills() throws {
        let csv = try write("y\n" + (0..<96).map { t in String(format: "%.3f", 50 + 0.5 * Double(t) + 8 * sin(Double(t))) }
                                .joined(separator: "\n") + "\n", to: "series.csv")
        let pairs = try write((0..<120).map { "w\($0 % 7) w\($0 % 5) w\($0 % 3)\tw\($0 % 3) w\($0 % 5) w\($0 % 7)" }
                                  .joined(separator: "\n") + "\n", to: "pairs.tsv")
        let rootFiles = { (run: URL) in ["model.safetensors", "config.json"].map { run.appendingPathComponent($0) } }
        let scenarios = [
            Scenario(name: "forecast",
                     train: { ["forecast", "train", "--csv", csv, "--target", "y", "--window", "12", "--horizon", "3", "--hidden", "16",
                               "--epochs", "12", "--checkpoint-every", "2", "--threads", "1", "--out", $0] },
                     resume: { ["forecast", "train", "--resume", $0, "--threads", "1"] },
                     load: { _ = try ForecastTrainingCheckpoint.load(from: $0) }, results: rootFiles),
            Scenario(name: "classify",
                     train: { ["classify", "train", "--corpus", "sentiment", "--corpus-count", "300", "--embedding", "8", "--hidden", "16",
                               "--epochs", "5", "--checkpoint-every", "1", "--no-baseline", "--threads", "1", "--out", $0] },
                     resume: { ["classify", "train", "--resume", $0, "--no-baseline", "--threads", "1"] },
                     load: { _ = try TextClassificationTrainingCheckpoint.load(from: $0) }, results: rootFiles),
            Scenario(name: "translate",
                     train: { ["translate", "train", "--pairs", pairs, "--level", "word", "--steps", "24", "--hidden", "16",
                               "--embedding", "8", "--batch", "8", "--checkpoint-every", "3", "--threads", "1", "--run-dir", $0] },
                     resume: { ["translate", "train", "--resume", $0, "--threads", "1"] },
                     load: { _ = try TranslationTrainingCheckpoint.load(from: $0) }, results: rootFiles),
        ]
        for (index, scenario) in scenarios.enumerated() {
            _ = try assertKillSafe(scenario, kills: 6, seed: 29 + UInt64(index))
        }
    }
}
