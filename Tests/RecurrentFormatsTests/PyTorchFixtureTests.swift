import Foundation
import Recurrent
import RecurrentTestSupport
import XCTest

/// The fixture files themselves: every fixture (committed, and those of `RECURRENT_FIXTURES=DIR` when
/// set) parses into a config, parameters and gradients of matching shapes; the committed set covers
/// the cases of `scripts/reference/pytorch_fixtures.py`; an extra folder adds its files.
final class PyTorchFixtureTests: XCTestCase {
    /// The cases `scripts/reference/pytorch_fixtures.py` writes (more files may be added).
    static let committedCases: Set<String> = [
        "rnn_tanh_1layer", "rnn_relu_2layer_state", "rnn_tanh_bidirectional_batchfirst_state",
        "lstm_1layer", "lstm_2layer_state", "lstm_nobias", "lstm_proj", "lstm_proj_2layer_bidirectional_state",
        "lstm_bidirectional_batchfirst", "lstm_hidden17_state",
        "gru_1layer", "gru_2layer_bidirectional_state", "gru_nobias_batchfirst", "char_lstm_model",
    ]

    func testEveryFixtureParsesWithAModuleConfig() throws {
        for fixture in try PyTorchFixture.all() {
            let module = fixture.config["module"] as? String
            XCTAssertTrue(["RNN", "LSTM", "GRU", "CharModel"].contains(module ?? ""), "\(fixture.label): \(module ?? "nil")")
            let all = try fixture.file.tensors()
            XCTAssertEqual(all.count, fixture.file.names.count)
            // Every parameter has a reference gradient of the same shape.
            let parameters = fixture.parameters()
            XCTAssertFalse(parameters.isEmpty, fixture.label)
            for (name, value) in parameters {
                XCTAssertEqual(try fixture.gradient(of: "model." + name).shape, value.shape, "\(fixture.label) \(name)")
            }
            XCTAssertEqual(try fixture.tensor("loss").count, 1, fixture.label)
        }
    }

    func testTheCommittedFixturesCoverEveryCaseInNameOrder() throws {
        let names = try PyTorchFixture.committed().map(\.name)
        XCTAssertEqual(names, names.sorted())
        XCTAssertEqual(Self.committedCases.subtracting(names), [], "cases missing from \(RepositoryPaths.pytorchFixtures.path)")
        // Written by the script, which records itself and the torch version beside the config.
        let fixture = try PyTorchFixture.named("lstm_1layer")
        XCTAssertEqual(fixture.file.metadata["generator"], "scripts/reference/pytorch_fixtures.py")
        XCTAssertNotNil(fixture.file.metadata["torch"])
    }

    func testAnExtraFolderAddsEachOfItsFixturesAfterTheCommittedOnes() throws {
        let folder = try temporaryFolder()
        for name in ["lstm_1layer", "gru_1layer"] {
            try FileManager.default.copyItem(at: RepositoryPaths.pytorchFixtures.appendingPathComponent("\(name).safetensors"),
                                             to: folder.appendingPathComponent("\(name).safetensors"))
        }
        try Data("not a fixture".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        let committed = try PyTorchFixture.committed()
        XCTAssertEqual(try PyTorchFixture.all(environment: [:]).map(\.label), committed.map(\.name))
        XCTAssertEqual(try PyTorchFixture.all(environment: ["RECURRENT_FIXTURES": ""]).count, committed.count)

        let all = try PyTorchFixture.all(environment: ["RECURRENT_FIXTURES": folder.path])
        XCTAssertEqual(all.count, committed.count + 2)
        XCTAssertEqual(all.prefix(committed.count).map(\.label), committed.map(\.name))
        XCTAssertEqual(all.suffix(2).map(\.name), ["gru_1layer", "lstm_1layer"])
        XCTAssertEqual(all.suffix(2).map(\.label), [folder.appendingPathComponent("gru_1layer").path,
                                                   folder.appendingPathComponent("lstm_1layer").path])
    }

    func testAnExtraFolderThatIsMissingOrEmptyIsAnError() throws {
        let empty = try temporaryFolder()
        XCTAssertThrowsError(try PyTorchFixture.all(environment: ["RECURRENT_FIXTURES": empty.path])) { error in
            XCTAssertEqual(error.localizedDescription, "RECURRENT_FIXTURES=\(empty.path): no .safetensors fixture in this folder")
        }
        let missing = empty.appendingPathComponent("missing")
        XCTAssertThrowsError(try PyTorchFixture.all(environment: ["RECURRENT_FIXTURES": missing.path])) { error in
            XCTAssertEqual(error.localizedDescription, "RECURRENT_FIXTURES=\(missing.path): not a readable folder")
        }
    }

    /// A new empty folder, removed after the test.
    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fixtures-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    func testLSTMProjectionFixtureLayout() throws {
        let fixture = try PyTorchFixture.named("lstm_proj")
        XCTAssertEqual(fixture.config["module"] as? String, "LSTM")
        XCTAssertEqual(fixture.kwargs["input_size"] as? Int, 4)
        XCTAssertEqual(fixture.kwargs["hidden_size"] as? Int, 6)
        XCTAssertEqual(fixture.kwargs["proj_size"] as? Int, 3)
        let parameters = fixture.parameters()
        XCTAssertEqual(Set(parameters.keys), ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0"])
        XCTAssertEqual(parameters["weight_ih_l0"]?.shape, [24, 4])
        XCTAssertEqual(parameters["weight_hh_l0"]?.shape, [24, 3])
        XCTAssertEqual(parameters["weight_hr_l0"]?.shape, [3, 6])
        XCTAssertEqual(try fixture.tensor("input").shape, [5, 2, 4])
        XCTAssertEqual(try fixture.tensor("h0").shape, [1, 2, 3])
        XCTAssertEqual(try fixture.tensor("c0").shape, [1, 2, 6])
        XCTAssertEqual(try fixture.gradient(of: "input").shape, [5, 2, 4])
        XCTAssertEqual(fixture.file.info("input")?.dtype, .F32)
    }

    func testCharModelFixtureHasIntegerTokens() throws {
        let fixture = try PyTorchFixture.named("char_lstm_model")
        XCTAssertEqual(fixture.config["module"] as? String, "CharModel")
        XCTAssertTrue(fixture.kwargs.isEmpty)
        let vocab = try XCTUnwrap(fixture.config["vocab"] as? Int)
        let (shape, tokens) = try fixture.file.integers("input")
        XCTAssertEqual(shape, [3, 7])
        XCTAssertEqual(fixture.file.info("target")?.dtype, .I64)
        XCTAssertTrue(tokens.allSatisfy { $0 >= 0 && $0 < vocab })
        let asFloat = try fixture.tensor("input")
        XCTAssertEqual(asFloat.scalars, tokens.map(Float.init))
        let parameters = fixture.parameters()
        XCTAssertEqual(parameters["embedding.weight"]?.shape, [vocab, 8])
        XCTAssertEqual(parameters["head.bias"]?.shape, [vocab])
        XCTAssertNotNil(parameters["lstm.weight_ih_l1"])
        XCTAssertFalse(parameters.keys.contains { $0.hasPrefix("grad.") })
        XCTAssertThrowsError(try fixture.gradient(of: "nonexistent")) { error in
            XCTAssertEqual(error as? SafetensorsError, .tensorNotFound(name: "grad.nonexistent"))
        }
    }
}
