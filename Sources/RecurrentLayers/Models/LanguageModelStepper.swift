import Foundation
import RecurrentCore
import RecurrentAutodiff

/// Batch-1 inference of a `LanguageModel`, one token at a time with the state carried: the path of
/// sampling and streaming. It computes what `model([token], batchSize: 1, sequenceLength: 1, state:)`
/// computes, without the autodiff tape and without allocating per token:
///
/// - layer 0's input part `W_ih e_v + b` of every token v is a table (V × G) made once, so a step
///   of layer 0 reads only `W_hh`;
/// - every weight is held in the packed panel layout of the kernels, so a matrix–vector product reads
///   each panel as one stream (`PackedMatrix.multiplyVector`, on every kernel family); large matrices
///   are split over `ComputeThreads`;
/// - the gate arithmetic is the fused layers' own per-row arithmetic on preallocated buffers.
///
/// The stepper copies the parameters when it is made (a snapshot): make a new one after the model's
/// parameters change. Peephole LSTMs and layers with other options (layer norm, zoneout, reset-before
/// GRU) run a copy of the model per token instead (same results, with the tape's overhead).
///
/// Reduced precision (`precision: .bfloat16` or `.int8`): the matrices read per token — every layer's
/// `W_hh`, the `W_ih` of the layers above the first, and the head's weight — are converted once, here,
/// to bfloat16 or to int8 with one scale per output row (`ReducedPrecisionMatrix`), and the products
/// accumulate in Float32. The biases, the states, the gate arithmetic and the token table (built from
/// the Float32 `W_ih` of layer 0 and the embedding) stay Float32. The default `.float32` is the exact
/// Float32 path. The fallback path (the options above) always runs in Float32: `precision` then reads
/// `.float32`.
///
/// ```swift
/// let stepper = LanguageModelStepper(model)
/// stepper.step(token)            // then read stepper.logits (vocabularySize)
/// let small = LanguageModelStepper(model, precision: .int8)
/// ```
public final class LanguageModelStepper {
    public let model: LanguageModel
    /// The logits `(vocabularySize)` that follow the last token given to `step(_:)`.
    public private(set) var logits: [Float]
    /// The element type of the weights read per token (`.float32` on the fallback path whatever was asked).
    public let precision: WeightPrecision

    private enum Kind { case rnn, lstm, gru }
    private let kind: Kind?
    private let hiddenSize: Int
    private let gateWidth: Int
    private var layers: [StepperLayer] = []
    /// Layer 0's `b + W_ih e_v` for every token v, vocabularySize × gateWidth.
    private var inputTable: [Float] = []
    private var head: StepperMatrix?
    private var headBias: [Float] = []
    /// h and c of every layer, numLayers × H each (c only for LSTM).
    private var h: [Float]
    private var c: [Float]
    private var gates: [Float]
    private var hiddenProduct: [Float]
    /// The fallback path: a copy of the model (so that it too is a snapshot) and its state.
    private let fallbackModel: LanguageModel?
    private var fallbackState: RecurrentLayerState?

    /// A stepper starting from the zero state, its per-token weights held in `precision` (see the type).
    public init(_ model: LanguageModel, precision: WeightPrecision = .float32) {
        self.model = model
        let configuration = model.configuration
        let H = configuration.hiddenSize, L = configuration.numLayers
        hiddenSize = H
        logits = [Float](repeating: 0, count: configuration.vocabularySize)
        h = [Float](repeating: 0, count: L * H)
        c = [Float](repeating: 0, count: L * H)
        // The stepper's arithmetic is the plain unidirectional cells'; any other option runs `model(...)`.
        let layer = model.recurrent.configuration
        let plain = layer.resetAfter && !layer.layerNorm && layer.zoneout == 0
            && !layer.bidirectional && layer.projSize == 0 && !layer.peephole
        switch configuration.cell {
        case .lstm: kind = plain ? .lstm : nil
        case .gru: kind = plain ? .gru : nil
        case .rnn: kind = plain && layer.cell == .rnn(.tanh) ? .rnn : nil
        case .peepholeLSTM: kind = nil
        }
        let gateCount = configuration.recurrentConfiguration.gateCount
        gateWidth = gateCount * H
        gates = [Float](repeating: 0, count: gateWidth)
        hiddenProduct = [Float](repeating: 0, count: gateWidth)
        guard let kind else {
            // Same configuration and values: neither step can fail.
            var rng = RandomGenerator(seed: 0)
            let copy = try! LanguageModel(configuration, using: &rng)
            try! copy.loadStateDict(Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor) }))
            copy.isTraining = false
            fallbackModel = copy
            self.precision = .float32
            return
        }
        fallbackModel = nil
        self.precision = precision

        let parameters = Dictionary(uniqueKeysWithValues: model.recurrent.namedParameters.map { ($0.name, $0.parameter.value) })
        for layer in 0..<L {
            let suffix = "_l\(layer)"
            let weightIH = parameters["weight_ih" + suffix]!, weightHH = parameters["weight_hh" + suffix]!
            let zeros = Tensor(zeros: [gateWidth])
            let biasIH = parameters["bias_ih" + suffix] ?? zeros, biasHH = parameters["bias_hh" + suffix] ?? zeros
            // The bias added before the products: b_ih + b_hh, but for GRU only b_hr, b_hz of b_hh
            // (r multiplies W_hn h + b_hn), as the fused kernels fold them.
            var bias = [Float](repeating: 0, count: gateWidth)
            let foldedHidden = kind == .gru ? 2 * H : gateWidth
            for j in 0..<gateWidth { bias[j] = biasIH.scalars[j] + (j < foldedHidden ? biasHH.scalars[j] : 0) }
            layers.append(StepperLayer(
                inputProduct: layer == 0 ? nil : StepperMatrix(weightIH, precision),
                hiddenProduct: StepperMatrix(weightHH, precision), bias: bias,
                hiddenBiasN: kind == .gru ? Array(biasHH.scalars[(2 * H)...]) : []))
        }
        // Layer 0's input part of every token, in Float32 whatever the precision.
        let embedding = model.embedding.weight.value, E = configuration.embeddingSize, V = configuration.vocabularySize
        let inputProduct0 = StepperLayer.pack(parameters["weight_ih_l0"]!)
        inputTable = [Float](repeating: 0, count: V * gateWidth)
        embedding.scalars.withUnsafeBufferPointer { e in
            inputTable.withUnsafeMutableBufferPointer { table in
                for v in 0..<V {
                    let row = table.baseAddress! + v * gateWidth
                    row.update(from: layers[0].bias, count: gateWidth)
                    inputProduct0.multiplyVector(e.baseAddress! + v * E, beta: 1, into: row, threads: ComputeThreads.count)
                }
            }
        }
        head = StepperMatrix(model.head.weight.value, precision)
        headBias = model.head.bias?.value.scalars ?? [Float](repeating: 0, count: V)
    }

    /// Back to the zero state.
    public func reset() {
        for i in h.indices { h[i] = 0; c[i] = 0 }
        fallbackState = nil
    }

    /// The carried state as the fused layers give it: h (and c for LSTM) of shape `(numLayers, 1, hiddenSize)`.
    public var state: RecurrentLayerState {
        get {
            if kind == nil, let fallbackState { return fallbackState }
            let shape = [model.configuration.numLayers, 1, hiddenSize]
            let hv = Variable(Tensor(shape: shape, scalars: h))
            let isLSTM = model.configuration.cell == .lstm || model.configuration.cell == .peepholeLSTM
            return RecurrentLayerState(h: hv, c: isLSTM ? Variable(Tensor(shape: shape, scalars: c)) : nil)
        }
        set {
            precondition(newValue.h.value.count == h.count, "LanguageModelStepper: the state must be (numLayers, 1, hiddenSize)")
            if kind == nil { fallbackState = newValue; return }
            h = newValue.h.value.scalars
            if let cv = newValue.c { c = cv.value.scalars } else { for i in c.indices { c[i] = 0 } }
        }
    }

    /// Feeds one token: updates the state and `logits`.
    public func step(_ token: Int) {
        let V = model.configuration.vocabularySize
        precondition(token >= 0 && token < V, "LanguageModelStepper: token \(token) is outside 0..<\(V)")
        guard let kind, let head else {
            let (output, next) = GradientMode.withoutGradients {
                fallbackModel!([token], batchSize: 1, sequenceLength: 1, state: fallbackState)
            }
            fallbackState = next
            logits = output.value.scalars
            return
        }
        let H = hiddenSize, G = gateWidth, threads = ComputeThreads.count
        h.withUnsafeMutableBufferPointer { hAll in
        c.withUnsafeMutableBufferPointer { cAll in
        gates.withUnsafeMutableBufferPointer { gateBuffer in
        hiddenProduct.withUnsafeMutableBufferPointer { productBuffer in
        inputTable.withUnsafeBufferPointer { table in
            let gr = gateBuffer.baseAddress!, hp = productBuffer.baseAddress!
            for (l, layer) in layers.enumerated() {
                let hl = hAll.baseAddress! + l * H, cl = cAll.baseAddress! + l * H
                // Input part: the token's row of the table, or b + W_ih h_{l−1}.
                if let input = layer.inputProduct {
                    gr.update(from: layer.bias, count: G)
                    input.multiplyVector(hAll.baseAddress! + (l - 1) * H, beta: 1, into: gr, threads: threads)
                } else {
                    gr.update(from: table.baseAddress! + token * G, count: G)
                }
                switch kind {
                case .lstm:
                    layer.hiddenProduct.multiplyVector(hl, beta: 1, into: gr, threads: threads)
                    VectorizedActivation.sigmoid(gr, gr, count: 2 * H)
                    VectorizedActivation.tanh(gr + 2 * H, gr + 2 * H, count: H)
                    for j in 0..<H { cl[j] = gr[H + j] * cl[j] + gr[j] * gr[2 * H + j] }
                    VectorizedActivation.sigmoid(gr + 3 * H, gr + 3 * H, count: H)
                    VectorizedActivation.tanh(cl, hl, count: H)
                    for j in 0..<H { hl[j] *= gr[3 * H + j] }
                case .gru:
                    layer.hiddenProduct.multiplyVector(hl, beta: 0, into: hp, threads: threads)
                    for j in 0..<(2 * H) { gr[j] += hp[j] }
                    VectorizedActivation.sigmoid(gr, gr, count: 2 * H)
                    layer.hiddenBiasN.withUnsafeBufferPointer { bhn in
                        for j in 0..<H { gr[2 * H + j] += gr[j] * (hp[2 * H + j] + bhn[j]) }
                    }
                    gruFinishRow(hiddenSize: H, gates: gr, hPrev: hl, output: hl)
                case .rnn:
                    layer.hiddenProduct.multiplyVector(hl, beta: 1, into: gr, threads: threads)
                    VectorizedActivation.tanh(gr, hl, count: H)
                }
            }
            logits.withUnsafeMutableBufferPointer { out in
                out.baseAddress!.update(from: headBias, count: V)
                head.multiplyVector(hAll.baseAddress! + (layers.count - 1) * H, beta: 1, into: out.baseAddress!, threads: threads)
            }
        }
        }
        }
        }
        }
    }

    /// The summed next-token cross-entropy, in nats, of the stream `tokens` (N ≥ 0 ids in
    /// `0..<vocabularySize`) read one token at a time from the zero state:
    /// `−Σ_{i=1}^{N−1} log softmax(logits after tokens[0..<i])[tokens[i]]`, the softmax taken in Double.
    /// Resets the state first; afterwards the state is the one after `tokens[0..<N−1]`. Divide by
    /// `N − 1` for the mean loss (what `LanguageModel.evaluate` gives with batch size 1).
    public func totalCrossEntropy(_ tokens: [Int]) -> Double {
        reset()
        guard tokens.count >= 2 else { return 0 }
        var total = 0.0
        for i in 0..<(tokens.count - 1) {
            step(tokens[i])
            let target = tokens[i + 1]
            precondition(target >= 0 && target < logits.count, "LanguageModelStepper: token \(target) is outside 0..<\(logits.count)")
            total += logits.withUnsafeBufferPointer { l -> Double in
                var largest = -Double.infinity
                for v in l { largest = Swift.max(largest, Double(v)) }
                var sum = 0.0
                for v in l { sum += Foundation.exp(Double(v) - largest) }
                return largest + Foundation.log(sum) - Double(l[target])
            }
        }
        return total
    }
}

/// A weight `W` (n, k) of `LanguageModelStepper` packed for `x · Wᵀ` in Float32, bfloat16 or int8.
private enum StepperMatrix {
    case float32(PackedMatrix)
    case reduced(ReducedPrecisionMatrix)

    init(_ weight: Tensor, _ precision: WeightPrecision) {
        if precision == .float32 {
            self = .float32(StepperLayer.pack(weight))
        } else {
            let n = weight.shape[0], k = weight.shape[1]
            self = .reduced(ReducedPrecisionMatrix(precision, weight: weight.scalars, n: n, k: k))
        }
    }

    /// `y (n) = x (k) · Wᵀ + beta · y`, beta 0 or 1.
    @inline(__always)
    func multiplyVector(_ x: UnsafePointer<Float>, beta: Float, into y: UnsafeMutablePointer<Float>, threads: Int) {
        switch self {
        case .float32(let packed): packed.multiplyVector(x, beta: beta, into: y, threads: threads)
        case .reduced(let reduced): reduced.multiplyVector(x, beta: beta, into: y, threads: threads)
        }
    }
}

/// One layer's packed weights and biases for `LanguageModelStepper`.
private struct StepperLayer {
    /// `W_ih` packed for `x · W_ihᵀ` (nil for layer 0, whose input part is the token table).
    let inputProduct: StepperMatrix?
    /// `W_hh` packed for `h · W_hhᵀ`.
    let hiddenProduct: StepperMatrix
    /// The bias added before the products (G).
    let bias: [Float]
    /// GRU: b_hn (H), added to `W_hn h` inside the reset gate's product.
    let hiddenBiasN: [Float]

    /// A weight `W` (n, k) packed for `x · Wᵀ`.
    static func pack(_ weight: Tensor) -> PackedMatrix {
        let n = weight.shape[0], k = weight.shape[1]
        return weight.scalars.withUnsafeBufferPointer { PackedMatrix(transposed: true, k: k, n: n, b: $0.baseAddress!, ldb: k) }
    }
}
