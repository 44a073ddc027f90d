import XCTest
import Recurrent

/// The parameter shapes a configuration implies (`parameterShapes`, computed without allocating, and
/// compared with a checkpoint's weights before a model is built) are exactly the state dict of the
/// model built from it, name for name and in order, for every option that changes them.
final class ParameterShapesTests: XCTestCase {
    private func assertShapes(_ shapes: [(name: String, shape: [Int])], of module: any Module, _ label: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(shapes.map(\.name), module.stateDict().map(\.name), label, file: file, line: line)
        XCTAssertEqual(shapes.map(\.shape), module.stateDict().map(\.tensor.shape), label, file: file, line: line)
    }

    func testLanguageModel() throws {
        var configurations: [LanguageModel.Configuration] = LanguageModel.Cell.allCases.map {
            .init(cell: $0, vocabularySize: 7, embeddingSize: 3, hiddenSize: 5, numLayers: 2)
        }
        var projected = LanguageModel.Configuration(cell: .lstm, vocabularySize: 7, embeddingSize: 3, hiddenSize: 5, numLayers: 2)
        projected.recurrent.projSize = 2
        var normalized = LanguageModel.Configuration(cell: .gru, vocabularySize: 7, embeddingSize: 3, hiddenSize: 5)
        normalized.recurrent.layerNorm = true
        var unbiased = LanguageModel.Configuration(cell: .rnn, vocabularySize: 7, embeddingSize: 3, hiddenSize: 5)
        unbiased.recurrent.bias = false
        configurations += [projected, normalized, unbiased]
        for configuration in configurations {
            var rng = RandomGenerator(seed: 1)
            assertShapes(configuration.parameterShapes, of: try LanguageModel(configuration, using: &rng), "\(configuration)")
        }
        XCTAssertEqual(projected.parameterShapes.last(where: { $0.name == "head.weight" })?.shape, [7, 2],
                       "with a projection the head reads projSize values")
    }

    func testEncoderDecoderAndAttention() throws {
        for cell in EncoderDecoder.Cell.allCases {
            for attention in [true, false] {
                let configuration = EncoderDecoder.Configuration(sourceVocabularySize: 6, targetVocabularySize: 5, embeddingSize: 3,
                                                                 hiddenSize: 4, cell: cell, attention: attention, attentionSize: 2)
                var rng = RandomGenerator(seed: 1)
                assertShapes(configuration.parameterShapes, of: try EncoderDecoder(configuration, using: &rng), "\(cell) \(attention)")
            }
        }
        var rng = RandomGenerator(seed: 1)
        assertShapes(AdditiveAttention.parameterShapes(querySize: 3, keySize: 4, attentionSize: 5),
                     of: try AdditiveAttention(querySize: 3, keySize: 4, attentionSize: 5, using: &rng), "attention")
        assertShapes(NARXNetwork.parameterShapes(inputSize: 2, outputSize: 1, delay: 3, hiddenSize: 4),
                     of: try NARXNetwork(inputSize: 2, outputSize: 1, delay: 3, hiddenSize: 4, using: &rng), "NARX")
    }

    /// A configuration decoded from a file can ask for anything: sizes beyond the limits are refused
    /// by name before anything is allocated, and a bidirectional language model is refused.
    func testLanguageModelConfigurationsBeyondTheLimitsAreRefused() throws {
        func message(_ edit: (inout LanguageModel.Configuration) -> Void) -> String {
            var configuration = LanguageModel.Configuration(cell: .lstm, vocabularySize: 7, embeddingSize: 3, hiddenSize: 5)
            edit(&configuration)
            var rng = RandomGenerator(seed: 1)
            do { _ = try LanguageModel(configuration, using: &rng) } catch { return error.localizedDescription }
            return "no error"
        }
        XCTAssertEqual(message { $0.hiddenSize = 1_000_000_000 }, "invalid hiddenSize: must be at most 16777216, got 1000000000")
        XCTAssertEqual(message { $0.hiddenSize = .max }, "invalid hiddenSize: must be at most 16777216, got \(Int.max)")
        XCTAssertEqual(message { $0.embeddingSize = 1 << 40 }, "invalid embeddingSize: must be at most 16777216, got \(1 << 40)")
        XCTAssertEqual(message { $0.vocabularySize = 0 }, "invalid vocabularySize: must be positive, got 0")
        XCTAssertEqual(message { $0.numLayers = 1_000_000_000_000 }, "invalid numLayers: must be at most 1024, got 1000000000000")
        // Every size within its limit, the product not: the LSTM layer alone has 4H·(E + H) + 2·4H parameters.
        XCTAssertEqual(message { $0.hiddenSize = 1 << 24; $0.embeddingSize = 1 << 24 },
                       "invalid parameters: the model would have \((8 << 48) + (8 << 24)) parameters, more than the limit of 2147483648")
        XCTAssertEqual(message { $0.recurrent.bidirectional = true },
                       "invalid bidirectional: a language model reads left to right and cannot be bidirectional")
        XCTAssertEqual(message { $0.recurrent.projSize = 5 }, "invalid projSize: must be in 0..<hiddenSize (5), got 5")
    }
}
