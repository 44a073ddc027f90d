// swift-tools-version:6.0
import PackageDescription

// Data flows one way through the targets:
//   CRecurrentKernels (C: packed GEMM/GEMV and gate kernels per instruction set)
//   → RecurrentCore (Tensor, BLAS, RNG, kernel family) → RecurrentAutodiff (tape, ops, gradient checker)
//   → RecurrentLayers (Linear, Embedding, RNN/LSTM/GRU, cells) → RecurrentFormats (safetensors,
//   state dicts, plots) → RecurrentTraining (losses, optimizers, clipping, schedules, text data,
//   the language-model trainer and its checkpoints)
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
        // CSV parsing for the forecasting tables (RecurrentTraining/Forecasting).
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
        .target(name: "RecurrentOptim", dependencies: ["RecurrentCore", "RecurrentAutodiff"]),
        // RecurrentTraining writes checkpoints, metrics and plots with RecurrentFormats (safetensors, AtomicFile, SVGLinePlot).
        .target(name: "RecurrentTraining", dependencies: ["RecurrentCore", "RecurrentAutodiff", "RecurrentLayers", "RecurrentFormats",
                                                          "RecurrentOptim"]),
        .target(name: "RecurrentClassics", dependencies: ["RecurrentCore", "RecurrentAutodiff", "RecurrentLayers", "RecurrentOptim"]),
        .target(name: "RecurrentForecasting", dependencies: ["RecurrentCore", "RecurrentAutodiff", "RecurrentLayers", "RecurrentFormats",
                                                             "RecurrentOptim", .product(name: "SwiftCSV", package: "SwiftCSV")]),
        .target(name: "RecurrentFormats", dependencies: ["RecurrentCore", "RecurrentAutodiff", "RecurrentLayers"]),
        .target(
            name: "Recurrent",
            dependencies: ["RecurrentCore", "RecurrentAutodiff", "RecurrentLayers", "RecurrentOptim", "RecurrentTraining",
                           "RecurrentForecasting", "RecurrentClassics", "RecurrentFormats"]
        ),
        .executableTarget(
            name: "RecurrentCLI",
            dependencies: ["Recurrent", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Shared by the test targets: paths to ../shared, fixture loading, tolerance helpers.
        .target(name: "RecurrentTestSupport", dependencies: ["Recurrent"], path: "Tests/RecurrentTestSupport"),
        .testTarget(name: "RecurrentCoreTests", dependencies: ["RecurrentCore"]),
        .testTarget(name: "RecurrentAutodiffTests", dependencies: ["RecurrentCore", "RecurrentAutodiff"]),
        .testTarget(name: "RecurrentLayersTests", dependencies: ["Recurrent", "RecurrentTestSupport"]),
        .testTarget(name: "RecurrentOptimTests", dependencies: ["RecurrentCore", "RecurrentAutodiff", "RecurrentOptim"]),
        .testTarget(name: "RecurrentForecastingTests", dependencies: ["RecurrentCore", "RecurrentAutodiff", "RecurrentLayers",
                                                                      "RecurrentFormats", "RecurrentOptim", "RecurrentForecasting", "RecurrentTestSupport"]),
        .testTarget(name: "RecurrentClassicsTests", dependencies: ["RecurrentCore", "RecurrentAutodiff", "RecurrentLayers",
                                                                   "RecurrentFormats", "RecurrentOptim", "RecurrentClassics"]),
        .testTarget(name: "RecurrentTrainingTests", dependencies: ["Recurrent", "RecurrentTestSupport"]),
        .testTarget(name: "RecurrentFormatsTests", dependencies: ["Recurrent", "RecurrentTestSupport"]),
        .testTarget(name: "RecurrentTests", dependencies: ["Recurrent", "RecurrentTestSupport"]),
        // Runs the built `recurrent` binary as a user would (exit status, stdout, stderr, files).
        .testTarget(name: "RecurrentCLITests", dependencies: ["RecurrentCLI", "RecurrentTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
