import Foundation
import XCTest
import RecurrentCore
import RecurrentOptim
import RecurrentLayers
import RecurrentForecasting
import RecurrentTestSupport

/// Every field of a forecast checkpoint's `config.json`, mutated (huge, negative, zero, wrong type,
/// null, removed ...): loading refuses with one line or gives a forecaster that forecasts finite
/// values, quickly (`CheckpointMutations`).
final class ForecastCheckpointMutationTests: XCTestCase {
    /// A series of 60 steps with a feature.
    private let series = ForecastSeries(names: ["y", "x"], channels: [(0..<60).map { 10 + sin(Double($0) / 2) },
                                                                      (0..<60).map { cos(Double($0) / 3) }])

    private func savedCheckpoint(_ model: ForecastModelConfiguration, features: [String]) throws -> URL {
        let configuration = ForecastConfiguration(columns: ForecastColumns(target: "y", features: features), model: model, epochs: 1)
        let data = features.isEmpty ? ForecastSeries(names: ["y"], channels: [series.channels[0]]) : series
        let result = try ForecastTrainer(configuration: configuration, series: data).train()
        XCTAssertNotNil(result.forecaster.interval, "the checkpoint should carry an interval to mutate")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("forecast-mutations-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        try ForecastCheckpoint.save(result.forecaster, to: directory, split: result.split, test: result.test)
        return directory
    }

    private func check(_ model: ForecastModelConfiguration, features: [String]) throws {
        let directory = try savedCheckpoint(model, features: features)
        let data = features.isEmpty ? ForecastSeries(names: ["y"], channels: [series.channels[0]]) : series
        let report = try CheckpointMutations.check(
            directory.appendingPathComponent("config.json"), timeLimit: 2, isLoadError: { $0 is CheckpointError },
            load: { try ForecastCheckpoint.load(from: directory).forecaster },
            run: { forecaster in
                try forecaster.forecastAfterEnd(data).flatMap { [$0.value] + [$0.lower, $0.upper].compactMap { $0 } }
            })
        XCTAssertEqual(report.failures, [], "\(model.cell) \(model.strategy): \(report)")
        XCTAssertGreaterThan(report.refused, 100, "\(report)")
        XCTAssertGreaterThan(report.accepted, 100, "\(report)")
    }

    /// The shapes the loader compares the weights with before building the model are the model's own.
    func testParameterShapesAreTheModelsStateDict() throws {
        for cell in ForecastModelConfiguration.Cell.allCases {
            for strategy in ForecastModelConfiguration.Strategy.allCases {
                for channels in [1, 3] {
                    let configuration = ForecastModelConfiguration(cell: cell, strategy: strategy, channelCount: channels, window: 4,
                                                                   horizon: 2, hiddenSize: 5, numLayers: 2)
                    var rng = RandomGenerator(seed: 1)
                    let state = try ForecastModel(configuration, using: &rng).stateDict()
                    XCTAssertEqual(configuration.parameterShapes.map(\.name), state.map(\.name), "\(configuration)")
                    XCTAssertEqual(configuration.parameterShapes.map(\.shape), state.map(\.tensor.shape), "\(configuration)")
                }
            }
        }
    }

    func testEveryFieldOfAnLSTMCheckpointWithAFeature() throws {
        try check(ForecastModelConfiguration(cell: .lstm, strategy: .direct, channelCount: 2, window: 6, horizon: 3, hiddenSize: 5),
                  features: ["x"])
    }

    func testEveryFieldOfARecursiveGRUCheckpoint() throws {
        try check(ForecastModelConfiguration(cell: .gru, strategy: .recursive, window: 6, horizon: 3, hiddenSize: 5, numLayers: 2),
                  features: [])
    }

    func testEveryFieldOfANARXCheckpoint() throws {
        try check(ForecastModelConfiguration(cell: .narx, window: 6, horizon: 3, hiddenSize: 5), features: [])
    }
}
