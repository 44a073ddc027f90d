import Foundation
import RecurrentTestSupport
import RecurrentText
import XCTest

/// The inputs on which the language-model checkpoint fuzz targets crashed (Fuzz/Regressions/lm-*),
/// written into a copy of the fixture checkpoint as the targets write them: each is now refused with one line.
final class CheckpointFuzzRegressionTests: XCTestCase {
    private func load(_ directory: URL) throws { _ = try TrainingCheckpoint.load(from: directory) }

    /// `"hiddenSize" : 1e18` (JSONDecoder reads it as an Int) trapped on an overflow while the model's
    /// weights were being drawn.
    func testAHiddenSizeOf1e18IsRefused() throws {
        let message = try FuzzRegression.checkpointError(
            fixture: "language-model", replacing: TrainingCheckpoint.File.configuration, with: "lm-config", "hidden-size-1e18.json",
            load: load)
        XCTAssertEqual(message, "checkpoint file '<dir>/config.json' is malformed: invalid hiddenSize: must be at most 16777216, "
                           + "got 1000000000000000000")
    }
}
