import Foundation
import Recurrent
import RecurrentTestSupport
import XCTest

final class PyTorchFixtureTests: XCTestCase {
    func testEveryFixtureParsesWithAModuleConfig() throws {
        let fixtures = try PyTorchFixture.all()
        XCTAssertGreaterThanOrEqual(fixtures.count, 10, "fixtures expected in \(SharedData.pytorchFixtures.path)")
        XCTAssertEqual(fixtures.map(\.name), fixtures.map(\.name).sorted())
        for fixture in fixtures {
            let module = fixture.config["module"] as? String
            XCTAssertNotNil(module, fixture.name)
            XCTAssertTrue(["RNN", "LSTM", "GRU", "CharModel"].contains(module ?? ""), "\(fixture.name): \(module ?? "nil")")
            let all = try fixture.file.tensors()
            XCTAssertEqual(all.count, fixture.file.names.count)
            // Every parameter has a reference gradient of the same shape.
            let parameters = fixture.parameters()
            XCTAssertFalse(parameters.isEmpty, fixture.name)
            for (name, value) in parameters {
                XCTAssertEqual(try fixture.gradient(of: "model." + name).shape, value.shape, "\(fixture.name) \(name)")
            }
            XCTAssertEqual(try fixture.tensor("loss").count, 1, fixture.name)
        }
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
