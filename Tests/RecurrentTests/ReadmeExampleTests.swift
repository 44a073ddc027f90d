import Foundation
import XCTest
import Recurrent
import RecurrentTestSupport

/// The library example in README.md, compiled and run. `testReadmeShowsThisExample` keeps the
/// README's code block identical to the lines between the markers below.
final class ReadmeExampleTests: XCTestCase {
    func readmeExample() throws -> (loss: Float, state: LSTMState, file: URL) {
        // README-BEGIN
        GlobalRandom.seed(42)                                   // like torch.manual_seed
        let lstm = try LSTM(inputSize: 8, hiddenSize: 32, numLayers: 2, batchFirst: true)
        let head = try Linear(inputSize: 32, outputSize: 1)
        let parameters = lstm.parameters + head.parameters
        let optimizer = try Adam(parameters, learningRate: 1e-3)

        var rng = RandomGenerator(seed: 7)
        let x = Variable(.normal(shape: [4, 10, 8], using: &rng))   // (batch, time, features)
        let y = Tensor.normal(shape: [4, 10, 1], using: &rng)

        let (output, state) = lstm(x)                           // output (4, 10, 32), state.h and state.c (2, 4, 32)
        let loss = mseLoss(head(output), y)
        optimizer.zeroGrad()
        loss.backward()                                         // BPTT through the whole sequence
        clipGradientNorm(parameters, maxNorm: 5)
        optimizer.step()

        // PyTorch names: torch.nn.LSTM(8, 32, 2, batch_first=True).load_state_dict(...) accepts it.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("lstm.safetensors")
        try lstm.save(to: file)
        // README-END
        return (loss.value.scalar, state, file)
    }

    func testReadmeExampleRuns() throws {
        let (loss, state, file) = try readmeExample()
        // The target is N(0, 1) noise and the untrained output is near 0: the MSE is close to E[y²] = 1.
        XCTAssertGreaterThan(loss, 0.5)
        XCTAssertLessThan(loss, 2)
        XCTAssertEqual(state.h.shape, [2, 4, 32])
        XCTAssertEqual(state.c.shape, [2, 4, 32])
        let saved = try SafetensorsFile(contentsOf: file)
        XCTAssertEqual(saved.names.sorted(), [
            "bias_hh_l0", "bias_hh_l1", "bias_ih_l0", "bias_ih_l1",
            "weight_hh_l0", "weight_hh_l1", "weight_ih_l0", "weight_ih_l1",
        ])
        XCTAssertEqual(saved.info("weight_ih_l0")?.shape, [128, 8])
        try? FileManager.default.removeItem(at: file)
    }

    func testReadmeShowsThisExample() throws {
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let lines = source.components(separatedBy: "\n")
        let begin = try XCTUnwrap(lines.firstIndex { $0.hasSuffix("// README-BEGIN") })
        let end = try XCTUnwrap(lines.firstIndex { $0.hasSuffix("// README-END") })
        let indent = lines[begin].prefix { $0 == " " }.count
        let example = lines[(begin + 1)..<end].map { String($0.dropFirst(min(indent, $0.prefix { $0 == " " }.count))) }
        let block = "```swift\nimport Recurrent\n\n" + example.joined(separator: "\n") + "\n```"
        let readme = try String(contentsOf: RepositoryPaths.root.appendingPathComponent("README.md"), encoding: .utf8)
        XCTAssertTrue(readme.contains(block), "README.md must contain exactly:\n\(block)")
    }
}
