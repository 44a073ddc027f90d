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
/// - the gate arithmetic is the fused layers' own per-row arithmetic (`CellKernel.stepRow` of the cell
///   table) on preallocated buffers.
///
/// The stepper copies the parameters when it is made (a snapshot): make a new one after the model's
/// parameters change. Layers with options the step row does not run (layer norm, zoneout, an LSTM
/// projection, the reset-before GRU) run a copy of the model per token instead (same results, with the
/// tape's overhead).
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

    /// The cell table's kernel of the layer (nil: the fallback path).
    private let kernel: (any CellKernel.Type)?
    private let layerConfiguration: RecurrentLayerConfiguration
    private let hiddenSize: Int
    private let gateWidth: Int
    private var layers: [StepperLayer] = []
    /// Copies of every layer's b_hh and peepholes, which `layers[l].vectors` point into.
    private let vectorStorage: [UnsafeMutableBufferPointer<Float>]
    /// Layer 0's `inputBias + W_ih e_v` for every token v, vocabularySize × gateWidth.
    private var inputTable: [Float] = []
    private var head: StepperMatrix?
    private var headBias: [Float] = []
    /// h and c of every layer, numLayers × H each (c only for cell-state kinds).
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
        let layer = model.recurrentCore.configuration
        layerConfiguration = layer
        let table = layer.cell.kernel
        let stepsRows = !layer.layerNorm && layer.zoneout == 0 && !layer.bidirectional && table.stepsRows(layer)
        kernel = stepsRows ? table : nil
        gateWidth = layer.gateCount * H
        gates = [Float](repeating: 0, count: gateWidth)
        hiddenProduct = [Float](repeating: 0, count: gateWidth)
        guard let kernel else {
            // Same configuration and values: neither step can fail.
            var rng = RandomGenerator(seed: 0)
            let copy = try! LanguageModel(configuration, using: &rng)
            try! copy.loadStateDict(Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor) }))
            copy.isTraining = false
            fallbackModel = copy
            vectorStorage = []
            self.precision = .float32
            return
        }
        fallbackModel = nil
        self.precision = precision

        let values = model.recurrentCore.parameters.map(\.value)
        var storage: [UnsafeMutableBufferPointer<Float>] = []
        /// A copy of parameter `index` that lives as long as the stepper (nil for an absent one).
        func copy(_ index: Int) -> UnsafePointer<Float>? {
            guard index >= 0 else { return nil }
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: values[index].count)
            _ = buffer.initialize(from: values[index].scalars)
            storage.append(buffer)
            return UnsafePointer(buffer.baseAddress!)
        }
        for l in 0..<L {
            let slots = model.recurrentCore.kernel.slots[l][0]
            let vectors = CellRowVectors(biasHH: copy(slots.biasHH), weightCI: copy(slots.weightCI),
                                         weightCF: copy(slots.weightCF), weightCO: copy(slots.weightCO))
            // The bias added before the products, folded as the fused forward folds it.
            var bias = [Float](repeating: 0, count: gateWidth)
            let biasIH = slots.biasIH >= 0 ? values[slots.biasIH].scalars : nil
            biasIH.withOptionalPointer { bih in
                bias.withUnsafeMutableBufferPointer { kernel.inputBias(hiddenSize: H, biasIH: bih, biasHH: vectors.biasHH, into: $0.baseAddress!) }
            }
            layers.append(StepperLayer(
                inputProduct: l == 0 ? nil : StepperMatrix(values[slots.weightIH], precision),
                hiddenProduct: StepperMatrix(values[slots.weightHH], precision), bias: bias, vectors: vectors))
        }
        vectorStorage = storage
        // Layer 0's input part of every token, in Float32 whatever the precision.
        let embedding = model.embedding.weight.value, E = configuration.embeddingSize, V = configuration.vocabularySize
        let inputProduct0 = StepperLayer.pack(values[model.recurrentCore.kernel.slots[0][0].weightIH])
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

    deinit {
        for buffer in vectorStorage { buffer.deallocate() }
    }

    /// Back to the zero state.
    public func reset() {
        for i in h.indices { h[i] = 0; c[i] = 0 }
        fallbackState = nil
    }

    /// The carried state as the fused layers give it: h (and c for LSTM) of shape `(numLayers, 1, hiddenSize)`.
    public var state: RecurrentLayerState {
        get {
            if kernel == nil, let fallbackState { return fallbackState }
            let shape = [model.configuration.numLayers, 1, hiddenSize]
            let hv = Variable(Tensor(shape: shape, scalars: h))
            return RecurrentLayerState(h: hv, c: layerConfiguration.cell.hasCellState ? Variable(Tensor(shape: shape, scalars: c)) : nil)
        }
        set {
            precondition(newValue.h.value.count == h.count, "LanguageModelStepper: the state must be (numLayers, 1, hiddenSize)")
            if kernel == nil { fallbackState = newValue; return }
            h = newValue.h.value.scalars
            if let cv = newValue.c { c = cv.value.scalars } else { for i in c.indices { c[i] = 0 } }
        }
    }

    /// Feeds one token: updates the state and `logits`.
    public func step(_ token: Int) {
        let V = model.configuration.vocabularySize
        precondition(token >= 0 && token < V, "LanguageModelStepper: token \(token) is outside 0..<\(V)")
        guard let kernel, let head else {
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
                if kernel.addsHiddenProductToGates {
                    layer.hiddenProduct.multiplyVector(hl, beta: 1, into: gr, threads: threads)
                } else {
                    layer.hiddenProduct.multiplyVector(hl, beta: 0, into: hp, threads: threads)
                }
                kernel.stepRow(layerConfiguration, hiddenSize: H, gates: gr, hidden: hp, vectors: layer.vectors, h: hl, c: cl)
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
    /// The bias added before the products (G), `CellKernel.inputBias`.
    let bias: [Float]
    /// b_hh and the peepholes, for the step row.
    let vectors: CellRowVectors

    /// A weight `W` (n, k) packed for `x · Wᵀ`.
    static func pack(_ weight: Tensor) -> PackedMatrix {
        let n = weight.shape[0], k = weight.shape[1]
        return weight.scalars.withUnsafeBufferPointer { PackedMatrix(transposed: true, k: k, n: n, b: $0.baseAddress!, ldb: k) }
    }
}

private extension Optional where Wrapped == [Float] {
    /// `body` with a pointer to the elements, or nil.
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let array = self else { return body(nil) }
        return array.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
