// swift-tools-version:6.0
import PackageDescription
import Foundation

// Data flows one way through the targets:
//   CRecurrentKernels (C: packed GEMM/GEMV and gate kernels per instruction set)
//   → RecurrentCore (Tensor, BLAS, RNG, kernel family) → RecurrentAutodiff (tape, ops, gradient checker)
//   → RecurrentLayers (Linear, Embedding, RNN/LSTM/GRU, cells, seq2seq, beam search)
//   → RecurrentFormats (safetensors, state dicts, plots).
//   → RecurrentOptim (losses, optimizers, clipping, schedules, the divergence rule, checkpoints: the store,
//     resumable checkpoints, errors; with RecurrentFormats).
//   The applications build on RecurrentLayers and RecurrentOptim, and none of them on another:
//   → RecurrentText (corpus, vocabulary, batching, the language-model trainer and its checkpoints,
//     text generation; with RecurrentFormats)
//   → RecurrentForecasting (time-series forecasting from CSV tables; with RecurrentFormats and SwiftCSV)
//   → RecurrentClassics (the classic algorithms RTRL, EKF, truncated BPTT ... and the lecture tasks)
//   → Recurrent (umbrella, re-exports only) → recurrent (the command-line tool).
let package = Package(
    name: "Recurrent",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Recurrent", targets: ["Recurrent"]),
        .executable(name: "recurrent", targets: ["RecurrentCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // CSV parsing for the forecasting tables (RecurrentForecasting).
        .package(url: "https://github.com/swiftcsv/SwiftCSV", from: "0.10.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            path: "Sources/COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // Our own compute kernels, one family per instruction set (AVX-512, AVX2+FMA, NEON, portable C),
        // chosen at run time (RecurrentCore/KernelFamily.swift).
        .target(name: "CRecurrentKernels"),
        .target(
            name: "RecurrentCore",
            dependencies: ["CRecurrentKernels", .target(name: "COpenBLAS", condition: .when(platforms: [.linux]))]
        ),
        .target(name: "RecurrentAutodiff", dependencies: ["RecurrentCore"]),
        .target(name: "RecurrentLayers", dependencies: ["RecurrentCore", "RecurrentAutodiff"]),
        .target(name: "RecurrentFormats", dependencies: ["RecurrentCore", "RecurrentAutodiff", "RecurrentLayers"]),
        // RecurrentOptim keeps checkpoints (CheckpointStore, ResumableCheckpoint) with RecurrentFormats (safetensors, AtomicFile).
        .target(name: "RecurrentOptim", dependencies: ["RecurrentCore", "RecurrentAutodiff", "RecurrentLayers", "RecurrentFormats"]),
        // RecurrentText writes checkpoints, metrics and plots with RecurrentFormats (safetensors, AtomicFile, SVGLinePlot).
        .target(name: "RecurrentText", dependencies: ["RecurrentCore", "RecurrentAutodiff", "RecurrentLayers", "RecurrentFormats",
                                                      "RecurrentOptim"]),
        // RecurrentForecasting reads CSV tables with SwiftCSV and writes checkpoints and plots with RecurrentFormats.
        .target(name: "RecurrentForecasting", dependencies: ["RecurrentCore", "RecurrentAutodiff", "RecurrentLayers", "RecurrentFormats",
                                                             "RecurrentOptim", .product(name: "SwiftCSV", package: "SwiftCSV")]),
        .target(name: "RecurrentClassics", dependencies: ["RecurrentCore", "RecurrentAutodiff", "RecurrentLayers", "RecurrentOptim"]),
        .target(
            name: "Recurrent",
            dependencies: ["RecurrentCore", "RecurrentAutodiff", "RecurrentLayers", "RecurrentOptim", "RecurrentText",
                           "RecurrentForecasting", "RecurrentClassics", "RecurrentFormats"]
        ),
        .executableTarget(
            name: "RecurrentCLI",
            dependencies: ["Recurrent", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Shared by the test targets: paths inside the repository, fixture loading, the tolerance rule for
        // comparing two Float32 computations (Float32Tolerance), checkpoint mutations, learning margins.
        .target(name: "RecurrentTestSupport", dependencies: ["Recurrent"], path: "Tests/RecurrentTestSupport"),
        .testTarget(name: "RecurrentCoreTests", dependencies: ["RecurrentCore", "RecurrentTestSupport"]),
        .testTarget(name: "RecurrentAutodiffTests", dependencies: ["RecurrentCore", "RecurrentAutodiff"]),
        .testTarget(name: "RecurrentLayersTests", dependencies: ["Recurrent", "RecurrentTestSupport"]),
        .testTarget(name: "RecurrentFormatsTests", dependencies: ["Recurrent", "RecurrentTestSupport"]),
        .testTarget(name: "RecurrentOptimTests", dependencies: ["RecurrentCore", "RecurrentAutodiff", "RecurrentOptim"]),
        .testTarget(name: "RecurrentTextTests", dependencies: ["RecurrentCore", "RecurrentAutodiff", "RecurrentLayers", "RecurrentFormats",
                                                               "RecurrentOptim", "RecurrentText", "RecurrentTestSupport"]),
        .testTarget(name: "RecurrentForecastingTests", dependencies: ["RecurrentCore", "RecurrentAutodiff", "RecurrentLayers",
                                                                      "RecurrentFormats", "RecurrentOptim", "RecurrentForecasting", "RecurrentTestSupport"]),
        .testTarget(name: "RecurrentClassicsTests", dependencies: ["RecurrentCore", "RecurrentAutodiff", "RecurrentLayers",
                                                                   "RecurrentFormats", "RecurrentOptim", "RecurrentClassics",
                                                                   "RecurrentTestSupport"]),
        .testTarget(name: "RecurrentTests", dependencies: ["Recurrent", "RecurrentTestSupport"]),
        // Runs the built `recurrent` binary as a user would (exit status, stdout, stderr, files).
        .testTarget(name: "RecurrentCLITests", dependencies: ["RecurrentCLI", "RecurrentTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

// Fuzz targets (scripts/fuzz.sh, docs/fuzzing.md), one executable per parser: only in the manifest when
// RECURRENT_FUZZ is set, so `swift build` and `swift test` never see them; scripts/fuzz.sh builds them into
// .build-fuzz with -sanitize=fuzzer,address.
if ProcessInfo.processInfo.environment["RECURRENT_FUZZ"] != nil {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("safetensors", ["RecurrentFormats"]),
        ("word-vectors", ["RecurrentFormats"]),
        ("csv", ["RecurrentForecasting"]),
        ("forecast-config", ["RecurrentForecasting"]),
        ("parallel-text", ["RecurrentText"]),
        ("labelled-text", ["RecurrentText"]),
        ("classify-config", ["RecurrentText"]),
        ("translate-config", ["RecurrentText"]),
        ("lm-config", ["RecurrentText"]),
        ("lm-vocabulary", ["RecurrentText"]),
        ("lm-state", ["RecurrentText"]),
    ]
    package.targets += [
        .target(name: "CFuzzDriver", path: "Fuzz/CFuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzDriver", "RecurrentText"], path: "Fuzz/Support"),
    ] + fuzzTargets.map { target in
        .executableTarget(name: "fuzz-\(target.name)", dependencies: ["FuzzSupport"] + target.dependencies,
                          path: "Fuzz/Targets/\(target.name)")
    }
}
