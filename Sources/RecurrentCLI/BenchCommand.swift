import ArgumentParser
import Foundation
import Recurrent

/// `recurrent bench`: throughput of the language-model workloads of the performance issue
/// (training steps, inference without gradients, batch-1 sampling), with achieved GFLOP/s and the
/// process's peak resident memory. The PyTorch side of the comparison is `scripts/bench/pytorch_bench.py`,
/// which runs the same workloads with the same sizes and prints the same fields.
///
/// Workloads (vocabulary 65, synthetic uniformly random tokens, Adam lr 0.002, clip 5):
/// - W1 LSTM embedding 256, hidden 256, 2 layers, batch 32, sequence 64 (training)
/// - W2 as W1 with hidden and embedding 512, batch 64, sequence 100
/// - W3 W1 with GRU · W4 W1 with tanh RNN · W5 LSTM hidden 128, batch 50, sequence 50
/// - W6 inference (no gradients): LSTM hidden 256 (W6a) and 512 (W6b), batch 32, sequence 64
/// - W7 sampling, batch 1, one token at a time with carried state: LSTM 128 (W7a), LSTM 512 (W7b),
///   GRU 512 (W7c), 2 layers
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training, inference and sampling throughput of the language-model workloads."
    )

    @Option(help: "Comma-separated workloads: w1,w2,w3,w4,w5,w6a,w6b,w7a,w7b,w7c, or 'all'.")
    var workloads: String = "w1"

    @Option(help: "Seconds to measure each workload (after warm-up).")
    var seconds: Double = 5

    @Option(help: "Measure exactly this many iterations (after 2 warm-up iterations) instead of --seconds.")
    var iterations: Int?

    @Option(help: "Threads for the kernels and the BLAS.")
    var threads: Int = 2

    @Flag(help: "Print one JSON object per workload.")
    var json = false

    @Option(help: ArgumentHelp("Weights of the sampling workloads (w7*, kind=sample): float32, bf16 or int8.",
                               valueName: "precision"))
    var precision: WeightPrecision = .float32

    @Flag(help: "Use the reference kernels (system BLAS only) instead of the fast paths.")
    var reference = false

    @Flag(help: "Also time the GEMM shapes of W1 on the BLAS and on the packed kernel of the current family.")
    var gemm = false

    @Flag(help: "Measure this machine's sgemm peak (packed kernel and BLAS) and memory read bandwidth.")
    var peak = false

    @Option(help: ArgumentHelp(
        "Run one workload of any shape instead of --workloads, e.g. kind=train,cell=lstm,hidden=256,embedding=256,layers=2,batch=32,sequence=64.",
        valueName: "spec"))
    var custom: String?

    func validate() throws {
        guard seconds > 0 else { throw ValidationError("--seconds must be positive, got \(seconds)") }
        guard threads > 0 else { throw ValidationError("--threads must be positive, got \(threads)") }
        if let custom { _ = try BenchWorkload(specification: custom) }
        for name in selected where BenchWorkload.named(name) == nil {
            throw ValidationError("unknown workload '\(name)'; choose from \(BenchWorkload.all.map(\.name).joined(separator: ", ")) or all")
        }
    }

    private var selected: [String] {
        workloads == "all" ? BenchWorkload.all.map(\.name)
            : workloads.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
    }

    func run() throws {
        BLAS.setThreads(threads)
        ComputeThreads.count = threads
        if reference { FastGEMM.isEnabled = false }
        if !json {
            print("recurrent bench — \(threads) thread(s), \(reference ? "reference (BLAS) kernels" : "\(KernelFamily.current.rawValue) kernels"), OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset")")
        }
        if peak { benchMachinePeak(threads: threads, json: json) }
        if gemm { benchGEMMShapes(threads: threads) }
        let measured: [BenchWorkload]
        if let custom {
            measured = [try BenchWorkload(specification: custom)]
        } else {
            // --peak or --gemm alone measure only those; name workloads to run them as well.
            measured = (peak || gemm) && workloads == "w1" ? [] : selected.compactMap(BenchWorkload.named)
        }
        for workload in measured {
            let result = try workload.run(seconds: seconds, iterations: iterations, precision: precision)
            if json {
                print(result.json)
            } else {
                print(result.line)
            }
        }
    }
}

/// One benchmark workload and its measurement.
struct BenchWorkload {
    enum Kind { case train, infer, sample }
    let name: String
    let kind: Kind
    let cell: LanguageModel.Cell
    let hidden: Int
    let embedding: Int
    let layers: Int
    let batch: Int
    let sequence: Int
    let vocabulary = 65

    static let all: [BenchWorkload] = [
        .init(name: "w1", kind: .train, cell: .lstm, hidden: 256, embedding: 256, layers: 2, batch: 32, sequence: 64),
        .init(name: "w2", kind: .train, cell: .lstm, hidden: 512, embedding: 512, layers: 2, batch: 64, sequence: 100),
        .init(name: "w3", kind: .train, cell: .gru, hidden: 256, embedding: 256, layers: 2, batch: 32, sequence: 64),
        .init(name: "w4", kind: .train, cell: .rnn, hidden: 256, embedding: 256, layers: 2, batch: 32, sequence: 64),
        .init(name: "w5", kind: .train, cell: .lstm, hidden: 128, embedding: 128, layers: 2, batch: 50, sequence: 50),
        .init(name: "w6a", kind: .infer, cell: .lstm, hidden: 256, embedding: 256, layers: 2, batch: 32, sequence: 64),
        .init(name: "w6b", kind: .infer, cell: .lstm, hidden: 512, embedding: 512, layers: 2, batch: 32, sequence: 64),
        .init(name: "w7a", kind: .sample, cell: .lstm, hidden: 128, embedding: 128, layers: 2, batch: 1, sequence: 1),
        .init(name: "w7b", kind: .sample, cell: .lstm, hidden: 512, embedding: 512, layers: 2, batch: 1, sequence: 1),
        .init(name: "w7c", kind: .sample, cell: .gru, hidden: 512, embedding: 512, layers: 2, batch: 1, sequence: 1),
    ]

    static func named(_ name: String) -> BenchWorkload? { all.first { $0.name == name } }

    /// Nominal forward FLOPs per token (multiply-adds count 2): the recurrent layers' input and hidden
    /// products plus the head. Training counts 3× (forward, and backward's two products per GEMM).
    var gateCount: Int { cell.layerCell.gateCount }

    var forwardFlopsPerToken: Double {
        let gates = gateCount
        var flops = 0.0
        for layer in 0..<layers {
            let input = layer == 0 ? embedding : hidden
            flops += 2 * Double(gates * hidden) * Double(input + hidden)
        }
        flops += 2 * Double(hidden * vocabulary)
        return flops
    }

    /// FLOPs per token of the products actually executed. Layer 0's products with the embedding may run
    /// on the vocabulary's rows instead of every token's (`LanguageModel.runsLayer0OnVocabularyRows`):
    /// the forward projection once per batch, and in training the two backward products (dW_ih, the
    /// embedding's gradient) on per-token sums of the gate gradients. The stepper of batch-1 sampling
    /// builds its token table once, so it does no layer-0 input product.
    func executedFlopsPerToken(tokensPerIteration: Int) -> Double {
        let perRow = 2 * Double(gateCount * hidden * embedding)
        if kind == .sample { return forwardFlopsPerToken - perRow }
        let products = kind == .train ? 3.0 : 1.0
        guard LanguageModel.runsLayer0OnVocabularyRows(tokenCount: tokensPerIteration, vocabularySize: vocabulary) else {
            return products * forwardFlopsPerToken
        }
        return products * (forwardFlopsPerToken - perRow + perRow * Double(vocabulary) / Double(tokensPerIteration))
    }

    struct Result {
        let name: String
        let precision: WeightPrecision
        let tokensPerSecond: Double
        let gflops: Double
        let peakRSSMiB: Double
        let iterations: Int
        let medianIterationSeconds: Double
        let perToken: Bool
        /// User + system CPU time of the whole process per iteration (all threads): robust to a busy machine.
        let cpuSecondsPerIteration: Double

        var line: String {
            let rate = perToken
                ? String(format: "%9.2f µs/token", 1e6 / tokensPerSecond)
                : String(format: "%9.0f tokens/s", tokensPerSecond)
            let label = precision == .float32 ? name : "\(name) \(precision.rawValue)"
            return String(format: "%-4@ %@  %7.1f GFLOP/s  peak RSS %7.1f MiB  (%d iterations, median %.3f ms, CPU %.3f ms)",
                          label, rate, gflops, peakRSSMiB, iterations, medianIterationSeconds * 1e3, cpuSecondsPerIteration * 1e3)
        }

        var json: String {
            String(format: "{\"workload\":\"%@\",\"precision\":\"%@\",\"tokens_per_s\":%.1f,\"us_per_token\":%.3f,\"gflops\":%.2f,\"peak_rss_mib\":%.1f,\"iterations\":%d,\"median_iteration_ms\":%.4f,\"cpu_ms_per_iteration\":%.4f}",
                   name, precision.rawValue, tokensPerSecond, 1e6 / tokensPerSecond, gflops, peakRSSMiB, iterations, medianIterationSeconds * 1e3,
                   cpuSecondsPerIteration * 1e3)
        }
    }

    /// Measures the workload; `precision` is the weights' element type of the sampling stepper (the
    /// training and inference workloads always run in Float32).
    func run(seconds: Double, iterations fixedIterations: Int? = nil, precision: WeightPrecision = .float32) throws -> Result {
        var rng = RandomGenerator(seed: 1)
        let configuration = LanguageModel.Configuration(cell: cell, vocabularySize: vocabulary, embeddingSize: embedding,
                                                        hiddenSize: hidden, numLayers: layers)
        let model = try LanguageModel(configuration, using: &rng)
        let tokensPerIteration = batch * sequence
        func randomTokens(_ count: Int) -> [Int] { (0..<count).map { _ in Int(rng.next() % UInt64(vocabulary)) } }
        // A few fixed batches, cycled, so that data generation stays out of the timing.
        let batches = (0..<4).map { _ in (randomTokens(tokensPerIteration), randomTokens(tokensPerIteration)) }

        let iteration: (Int) -> Void
        switch kind {
        case .train:
            let optimizer = try Adam(model.parameters, learningRate: 0.002)
            var state: RecurrentLayerState?
            iteration = { i in
                let (inputs, targets) = batches[i % batches.count]
                optimizer.zeroGrad()
                let (logits, newState) = model(inputs, batchSize: batch, sequenceLength: sequence, state: state)
                let loss = crossEntropy(logits: logits, targets: targets)
                loss.backward()
                clipGradientNorm(optimizer.parameters, maxNorm: 5)
                optimizer.step()
                state = newState.detached()
            }
        case .infer:
            model.isTraining = false
            var state: RecurrentLayerState?
            iteration = { i in
                GradientMode.withoutGradients {
                    let (_, newState) = model(batches[i % batches.count].0, batchSize: batch, sequenceLength: sequence, state: state)
                    state = newState
                }
            }
        case .sample:
            model.isTraining = false
            // One token per iteration on the batch-1 path that `recurrent sample` uses:
            // logits → softmax → draw → feed back, the state carried.
            let stepper = LanguageModelStepper(model, precision: precision)
            var token = 0
            iteration = { _ in
                stepper.step(token)
                token = sampleIndex(stepper.logits, using: &rng)
            }
        }

        // Warm up (first-touch allocation, buffer pools), then measure whole iterations.
        let warmupDeadline = Date().addingTimeInterval(min(1, seconds / 4))
        var i = 0
        repeat { iteration(i); i += 1 } while Date() < warmupDeadline && i < 10_000 && (fixedIterations == nil || i < 2)
        var durations: [Double] = []
        let cpuStart = processCPUSeconds()
        let start = DispatchTime.now().uptimeNanoseconds
        let deadline = start + UInt64(seconds * 1e9)
        var now = start
        repeat {
            let t0 = now
            iteration(i)
            i += 1
            now = DispatchTime.now().uptimeNanoseconds
            durations.append(Double(now - t0) * 1e-9)
        } while fixedIterations.map { durations.count < $0 } ?? (now < deadline)
        let cpuPerIteration = (processCPUSeconds() - cpuStart) / Double(durations.count)
        durations.sort()
        let median = durations[durations.count / 2]
        let tokensPerSecond = Double(tokensPerIteration) / median
        let flopsPerToken = executedFlopsPerToken(tokensPerIteration: tokensPerIteration)
        return Result(name: name, precision: kind == .sample ? precision : .float32, tokensPerSecond: tokensPerSecond, gflops: tokensPerSecond * flopsPerToken / 1e9,
                      peakRSSMiB: peakResidentMiB(), iterations: durations.count, medianIterationSeconds: median,
                      perToken: kind == .sample, cpuSecondsPerIteration: cpuPerIteration)
    }
}

extension BenchWorkload {
    /// A workload from `key=value` pairs (kind train|infer|sample, cell rnn|lstm|gru, hidden, embedding,
    /// layers, batch, sequence); omitted keys take W1's values, sampling forces batch and sequence 1.
    init(specification: String) throws {
        var values: [String: String] = [:]
        for pair in specification.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ValidationError("--custom: expected key=value pairs separated by commas, got '\(pair)'")
            }
            values[parts[0].lowercased()] = parts[1]
        }
        let known: Set = ["kind", "cell", "hidden", "embedding", "layers", "batch", "sequence"]
        if let unknown = values.keys.sorted().first(where: { !known.contains($0) }) {
            throw ValidationError("--custom: unknown key '\(unknown)'; use \(known.sorted().joined(separator: ", "))")
        }
        func size(_ key: String, _ fallback: Int) throws -> Int {
            guard let text = values[key] else { return fallback }
            guard let value = Int(text), value > 0 else {
                throw ValidationError("--custom: \(key) must be a positive integer, got '\(text)'")
            }
            return value
        }
        let kind: Kind
        switch values["kind"] ?? "train" {
        case "train": kind = .train
        case "infer": kind = .infer
        case "sample": kind = .sample
        case let other: throw ValidationError("--custom: kind must be train, infer or sample, got '\(other)'")
        }
        guard let cell = LanguageModel.Cell(rawValue: values["cell"] ?? "lstm") else {
            throw ValidationError("--custom: cell must be rnn, lstm, gru or peephole-lstm, got '\(values["cell"] ?? "")'")
        }
        let hidden = try size("hidden", 256)
        self.init(name: "custom", kind: kind, cell: cell, hidden: hidden, embedding: try size("embedding", hidden),
                  layers: try size("layers", 2), batch: kind == .sample ? 1 : try size("batch", 32),
                  sequence: kind == .sample ? 1 : try size("sequence", 64))
    }
}

/// Draws an index from the softmax of `logits`.
private func sampleIndex(_ logits: [Float], using rng: inout RandomGenerator) -> Int {
    let largest = logits.max() ?? 0
    var total: Float = 0
    var weights = logits
    for j in weights.indices { weights[j] = Foundation.exp(weights[j] - largest); total += weights[j] }
    var u = Float(Double(rng.next() >> 11) / Double(1 << 53)) * total
    for j in weights.indices {
        u -= weights[j]
        if u <= 0 { return j }
    }
    return weights.count - 1
}

/// User plus system CPU seconds of the process so far.
private func processCPUSeconds() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The process's peak resident set size in MiB (Linux reports kilobytes, macOS bytes).
private func peakResidentMiB() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
    #else
    getrusage(RUSAGE_SELF, &usage)
    return Double(usage.ru_maxrss) / (1024 * 1024)
    #endif
}

/// The machine's sgemm peak and read bandwidth (`--peak`): the packed kernel on a few large products
/// (the peak is the best of them) and the system BLAS on a 2048³ product, each on 1 and `threads`
/// threads; then the read bandwidth for working sets from 256 KiB (L2) to 256 MiB (memory).
private func benchMachinePeak(threads: Int, json: Bool) {
    let counts = threads > 1 ? [1, threads] : [1]
    let shapes = [(384, 1024, 256), (768, 2048, 256), (1536, 1536, 512)]
    for t in counts {
        let packed = shapes.compactMap { MachineProbe.packedGEMMGFLOPS(m: $0.0, n: $0.1, k: $0.2, threads: t) }
        let blas = MachineProbe.blasGEMMGFLOPS(m: 2048, n: 2048, k: 2048, threads: t)
        let best = packed.max()
        if json {
            print(String(format: "{\"probe\":\"sgemm\",\"threads\":%d,\"packed_gflops\":%@,\"blas_gflops\":%.1f}",
                         t, best.map { String(format: "%.1f", $0) } ?? "null", blas))
        } else {
            let shapesText = zip(shapes, packed).map { String(format: "%d×%d×%d %.0f", $0.0.0, $0.0.1, $0.0.2, $0.1) }
                .joined(separator: ", ")
            print(String(format: "sgemm peak, %d thread(s): packed kernel %@ GFLOP/s (%@); BLAS 2048³ %.0f GFLOP/s",
                         t, best.map { String(format: "%.0f", $0) } ?? "n/a", shapesText, blas))
        }
    }
    BLAS.setThreads(threads)
    for kib in [256, 1024, 4096, 16384, 65536, 262144] {
        for t in counts {
            let rate = MachineProbe.readBandwidthGBps(bytes: kib << 10, threads: t)
            if json {
                print(String(format: "{\"probe\":\"read\",\"kib\":%d,\"threads\":%d,\"gb_per_s\":%.1f}", kib, t, rate))
            } else {
                print(String(format: "read bandwidth, working set %6d KiB, %d thread(s): %6.1f GB/s", kib, t, rate))
            }
        }
    }
}

/// GFLOP/s of the products one W1 step runs, on the system BLAS and on the packed kernel
/// (the packed time includes packing B, as the layers do once per call).
private func benchGEMMShapes(threads: Int) {
    // (label, transA, transB, m, n, k)
    let shapes: [(String, Bool, Bool, Int, Int, Int)] = [
        ("step h·W_hhᵀ   ", false, true, 32, 1024, 256),
        ("step dg·W_hh   ", false, false, 32, 256, 1024),
        ("input X·W_ihᵀ  ", false, true, 2048, 1024, 256),
        ("dW dGᵀ·X       ", true, false, 1024, 256, 2048),
        ("dX dG·W_ih     ", false, false, 2048, 256, 1024),
        ("head Y·Wᵀ      ", false, true, 2048, 65, 256),
    ]
    var rng = RandomGenerator(seed: 3)
    for (label, tA, tB, m, n, k) in shapes {
        let a = (0..<(m * k)).map { _ in Float(rng.next() % 1000) / 1000 }
        let b = (0..<(k * n)).map { _ in Float(rng.next() % 1000) / 1000 }
        var c = [Float](repeating: 0, count: m * n)
        let lda = tA ? m : k, ldb = tB ? k : n
        func time(_ body: () -> Void) -> Double {
            var best = Double.infinity
            for _ in 0..<5 {
                let t0 = DispatchTime.now().uptimeNanoseconds
                var reps = 0
                repeat { body(); reps += 1 } while DispatchTime.now().uptimeNanoseconds - t0 < 20_000_000
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9 / Double(reps))
            }
            return 2 * Double(m * n * k) / best / 1e9
        }
        BLAS.setThreads(1)
        let blas1 = time { BLAS.gemm(transposeA: tA, transposeB: tB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: &c, ldc: n) }
        BLAS.setThreads(threads)
        let blasN = time { BLAS.gemm(transposeA: tA, transposeB: tB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: &c, ldc: n) }
        guard FastGEMM.isSupported else {
            print("\(label) m \(m) n \(n) k \(k): BLAS 1 thread \(Int(blas1)) GFLOP/s, \(threads) threads \(Int(blasN))")
            continue
        }
        let packed = PackedMatrix(transposed: tB, k: k, n: n, b: b, ldb: ldb)
        let fast1 = time { packed.multiply(transposeA: tA, m: m, a: a, lda: lda, beta: 0, c: &c, ldc: n, threads: 1) }
        let fastN = time { packed.multiply(transposeA: tA, m: m, a: a, lda: lda, beta: 0, c: &c, ldc: n, threads: threads) }
        let fastPack = time { FastGEMM.gemm(transposeA: tA, transposeB: tB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: &c, ldc: n) }
        print(String(format: "%@ m %4d n %4d k %4d  GFLOP/s: BLAS 1t %5.0f %dt %5.0f | packed 1t %5.0f %dt %5.0f, with packing B %5.0f",
                     label, m, n, k, blas1, threads, blasN, fast1, threads, fastN, fastPack))
    }
}
