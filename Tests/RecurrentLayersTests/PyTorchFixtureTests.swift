import Foundation
import XCTest
import Recurrent
import RecurrentTestSupport

/// Compares the fused layers with PyTorch on every fixture in `Tests/Fixtures/pytorch` (made by
/// `scripts/reference/pytorch_fixtures.py`; format in that folder's README.md) and, when the
/// environment variable `RECURRENT_FIXTURES=DIR` is set, on every fixture of that folder too. New
/// fixture files are picked up without code changes; a fixture of an unknown module type, or with a
/// constructor argument this test does not understand, fails.
///
/// Tolerance: 1e-4, absolute for |expected| ≤ 1 and relative above (the references are float64
/// results rounded to float32; the layers compute in float32).
final class PyTorchFixtureTests: XCTestCase {
    static let tolerance = 1e-4

    func assertMatches(_ actual: Tensor?, _ expected: Tensor, _ what: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        guard let actual else { return XCTFail("\(what): not computed", file: file, line: line) }
        guard actual.shape == expected.shape else {
            return XCTFail("\(what): shape \(actual.shape), PyTorch \(expected.shape)", file: file, line: line)
        }
        var worst = 0.0, worstIndex = 0
        for (i, (a, e)) in zip(actual.scalars, expected.scalars).enumerated() {
            let error = abs(Double(a) - Double(e)) / max(1, abs(Double(e)))
            if !(error <= worst) { worst = error; worstIndex = i }
        }
        XCTAssertLessThanOrEqual(worst, Self.tolerance,
                                 "\(what): element \(worstIndex) is \(actual.scalars[worstIndex]), PyTorch \(expected.scalars[worstIndex])",
                                 file: file, line: line)
    }

    func testEveryFixtureMatchesPyTorch() throws {
        let fixtures = try PyTorchFixture.all()
        var modules: Set<String> = []
        for fixture in fixtures {
            let module = fixture.config["module"] as? String ?? "<missing>"
            modules.insert(module)
            switch module {
            case "RNN", "LSTM", "GRU":
                try checkLayerFixture(fixture, module: module)
            case "CharModel":
                try checkCharModelFixture(fixture)
            default:
                XCTFail("fixture \(fixture.label): unknown module type '\(module)'; teach PyTorchFixtureTests about it")
            }
        }
        // The shipped fixtures cover all four kinds; losing one would silently shrink the test.
        XCTAssertTrue(modules.isSuperset(of: ["RNN", "LSTM", "GRU", "CharModel"]), "fixture kinds found: \(modules.sorted())")
    }

    // MARK: RNN / LSTM / GRU

    /// The fused layer described by PyTorch constructor arguments.
    func makeLayer(module: String, kwargs: [String: Any], fixture: String) throws -> AnyFusedLayer {
        let known: Set<String> = ["input_size", "hidden_size", "num_layers", "nonlinearity", "bias", "batch_first",
                                  "dropout", "bidirectional", "proj_size"]
        for key in kwargs.keys where !known.contains(key) {
            XCTFail("fixture \(fixture): constructor argument '\(key)' is not understood by this test")
        }
        func int(_ key: String, _ fallback: Int? = nil) throws -> Int {
            if let value = kwargs[key] as? Int { return value }
            if kwargs[key] == nil, let fallback { return fallback }
            throw PyTorchFixtureError(subject: "fixture \(fixture)", reason: "kwargs.\(key) missing or not an integer")
        }
        func bool(_ key: String, _ fallback: Bool) -> Bool { kwargs[key] as? Bool ?? fallback }
        let cell: RecurrentLayerConfiguration.Cell
        switch module {
        case "LSTM": cell = .lstm
        case "GRU": cell = .gru
        default:
            let name = kwargs["nonlinearity"] as? String ?? "tanh"
            guard let nonlinearity = RNNNonlinearity(rawValue: name) else {
                throw PyTorchFixtureError(subject: "fixture \(fixture)", reason: "unknown nonlinearity '\(name)'")
            }
            cell = .rnn(nonlinearity)
        }
        let configuration = RecurrentLayerConfiguration(
            cell: cell, inputSize: try int("input_size"), hiddenSize: try int("hidden_size"),
            numLayers: try int("num_layers", 1), bias: bool("bias", true), batchFirst: bool("batch_first", false),
            dropout: (kwargs["dropout"] as? Double).map(Float.init) ?? 0, bidirectional: bool("bidirectional", false),
            projSize: try int("proj_size", 0))
        return try AnyFusedLayer(configuration, seed: 0)
    }

    func checkLayerFixture(_ fixture: PyTorchFixture, module: String) throws {
        let layer = try makeLayer(module: module, kwargs: fixture.kwargs, fixture: fixture.label)
        layer.module.isTraining = false
        let names = Set(fixture.file.names)
        try layer.module.loadStateDict(fixture.parameters(prefix: "model."))
        let x = Variable(try fixture.tensor("input"), requiresGrad: true)
        let h0 = names.contains("h0") ? Variable(try fixture.tensor("h0"), requiresGrad: true) : nil
        let c0 = names.contains("c0") ? Variable(try fixture.tensor("c0"), requiresGrad: true) : nil
        if module == "LSTM" && (h0 == nil) != (c0 == nil) {
            throw PyTorchFixtureError(subject: "fixture \(fixture.label)", reason: "an LSTM fixture needs both h0 and c0 or neither")
        }
        let outputs = layer(x, h0: h0, c0: c0)
        let tag = "fixture \(fixture.label)"
        assertMatches(outputs[0].value, try fixture.tensor("output"), "\(tag) output")
        assertMatches(outputs[1].value, try fixture.tensor("h_n"), "\(tag) h_n")
        if module == "LSTM" { assertMatches(outputs[2].value, try fixture.tensor("c_n"), "\(tag) c_n") }

        let loss = (outputs[0] * Variable(try fixture.tensor("probe"))).sum()
            + (outputs[1] * Variable(try fixture.tensor("probe_h"))).sum()
        assertMatches(loss.value.reshaped([1]), try fixture.tensor("loss").reshaped([1]), "\(tag) loss")
        loss.backward()

        assertMatches(x.grad, try fixture.gradient(of: "input"), "\(tag) dInput")
        if let h0, names.contains("grad.h0") { assertMatches(h0.grad, try fixture.gradient(of: "h0"), "\(tag) dh0") }
        if let c0, names.contains("grad.c0") { assertMatches(c0.grad, try fixture.gradient(of: "c0"), "\(tag) dc0") }
        try compareParameterGradients(fixture, layer.module.namedParameters, prefix: "model.")
    }

    /// Every parameter has a reference gradient and every reference gradient belongs to a parameter.
    func compareParameterGradients(_ fixture: PyTorchFixture, _ parameters: [(name: String, parameter: Parameter)],
                                   prefix: String) throws {
        let expected = Set(fixture.file.names.filter { $0.hasPrefix("grad." + prefix) })
        let ours = Set(parameters.map { "grad." + prefix + $0.name })
        XCTAssertEqual(expected, ours, "fixture \(fixture.label): parameter gradients differ in names")
        for (name, parameter) in parameters where expected.contains("grad." + prefix + name) {
            assertMatches(parameter.grad, try fixture.gradient(of: prefix + name), "fixture \(fixture.label) d\(name)")
        }
    }

    // MARK: CharModel: Embedding → LSTM (batch first) → Linear, mean cross-entropy

    func checkCharModelFixture(_ fixture: PyTorchFixture) throws {
        func int(_ key: String) throws -> Int {
            guard let value = fixture.config[key] as? Int else {
                throw PyTorchFixtureError(subject: "fixture \(fixture.label)", reason: "config.\(key) missing or not an integer")
            }
            return value
        }
        let vocab = try int("vocab"), hidden = try int("hidden"), numLayers = try int("num_layers")
        var rng = RandomGenerator(seed: 0)
        // The library's LanguageModel is exactly this PyTorch module (Embedding → LSTM → Linear).
        let model = try LanguageModel(.init(cell: .lstm, vocabularySize: vocab, embeddingSize: hidden,
                                            hiddenSize: hidden, numLayers: numLayers), using: &rng)
        model.isTraining = false
        let parameters = model.namedParameters
        let stateDict = fixture.parameters(prefix: "model.")
        XCTAssertEqual(Set(stateDict.keys), Set(parameters.map(\.name)), "fixture \(fixture.label): parameter names")
        try model.loadStateDict(stateDict)
        let input = try fixture.file.integers("input"), target = try fixture.file.integers("target")
        XCTAssertEqual(input.shape.count, 2, "fixture \(fixture.label): input must be (batch, time)")
        let (logits, _) = model(input.values, batchSize: input.shape[0], sequenceLength: input.shape[1])
        let tag = "fixture \(fixture.label)"
        assertMatches(logits.value, try fixture.tensor("logits"), "\(tag) logits")
        let loss = crossEntropy(logits: logits, targets: target.values)
        assertMatches(loss.value.reshaped([1]), try fixture.tensor("loss").reshaped([1]), "\(tag) loss")
        loss.backward()
        try compareParameterGradients(fixture, parameters, prefix: "model.")
    }
}
