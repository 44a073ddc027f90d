import Foundation
import XCTest
import Recurrent

/// How far apart two Float32 computations of the same quantity may be when they differ only in the
/// order of their operations: another kernel family (AVX-512, AVX2, NEON, the BLAS), another batch
/// size or thread count (another split of the matrix products), the fused kernels against the cells,
/// or a Float32 result against an exact (Double) reference. Every test that compares such results
/// uses this one rule, so that it holds on every CPU by construction instead of by one machine's
/// measurement.
///
/// The rule, element by element:
///
///     |a − b| ≤ factor · chainedSteps · k · ε · M,   ε = 2⁻²³ (`Float.ulpOfOne`)
///
/// - One sum of k products, computed in any order and grouping (sequential, blocked, pairwise, with or
///   without fused multiply-add), is within γₖ·Σ|aᵢbᵢ| of the exact sum, γₖ = k·u/(1 − k·u) with
///   u = 2⁻²⁴ the unit roundoff (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1). Two
///   such results are within twice that of each other: about k·ε·Σ|aᵢbᵢ|. `reductionLength` is k (the
///   longest sum behind one compared element) and M bounds Σ|aᵢbᵢ| of one such sum: the size of the
///   summed terms, not of the sum, which may cancel.
/// - When the results of sums feed further sums (time steps, layers, a backward pass after a forward),
///   each stage adds its own rounding and passes on the earlier stages' differences. Through a gain of
///   at most about 1 per stage (tanh′ ≤ 1, σ′ ≤ ¼, forget gates < 1, weights at PyTorch's initial
///   ±1/√hidden), the differences add up: `chainedSteps` counts the stages (sequence length × layers
///   for a recurrent stack; twice that with the backward pass).
/// - `factor` (default 2) covers what the sums leave out: the few ulps of each elementwise operation
///   between stages (bias, activations, gate products, layer norm) and gains somewhat above 1.
/// - M is `magnitude`, a bound known from the inputs (a recurrent layer's weights, inputs and states
///   are bounded), or — with `scalesWithExpected`, for values such as gradients whose summed terms the
///   test cannot bound — `magnitude` times the largest |expected| of the compared values: a normwise
///   test, like the test ratios of LAPACK, where the chain's factor k · steps leaves room for sums
///   that cancel.
///
/// This is a worst-case bound, far above what is measured (rounding errors mostly cancel, growing like
/// √k rather than k: the measured margins are in docs/learning-margins.md), so it does not fail for an
/// order of additions, while a wrong index, gate, bias or time step, which moves values by 10⁻² or
/// more, still fails it at the sizes the tests use. `RECURRENT_TOLERANCE_LOG=FILE` appends every
/// comparison's worst difference, bound and their ratio to FILE.
public struct Float32Tolerance: Sendable, CustomStringConvertible {
    /// ε = 2⁻²³: the distance from 1 to the next Float (twice the unit roundoff).
    public static let epsilon = Float.ulpOfOne

    /// k: the number of terms of the longest sum behind one compared element.
    public var reductionLength: Int
    /// M, or with `scalesWithExpected` the factor of the largest |expected|.
    public var magnitude: Float
    /// Whether M is `magnitude` times the largest |expected| of the compared values.
    public var scalesWithExpected: Bool
    /// How many stages of sums feed each other before the compared values (at least 1).
    public var chainedSteps: Int
    /// The headroom for elementwise operations between the sums (default 2).
    public var factor: Float

    public init(reductionLength: Int, magnitude: Float = 1, scalesWithExpected: Bool = false, chainedSteps: Int = 1,
                factor: Float = 2) {
        precondition(reductionLength >= 1 && chainedSteps >= 1 && magnitude > 0 && factor > 0,
                     "Float32Tolerance: k, steps, magnitude and factor must be positive")
        self.reductionLength = reductionLength
        self.magnitude = magnitude
        self.scalesWithExpected = scalesWithExpected
        self.chainedSteps = chainedSteps
        self.factor = factor
    }

    /// The largest difference allowed for one element when M is `magnitude` (the factor of M when it
    /// scales with the expected values).
    public var bound: Float { factor * Float(chainedSteps) * Float(reductionLength) * Self.epsilon * magnitude }

    /// The largest difference allowed for one element of a comparison with `expected`.
    public func bound(comparingWith expected: [Double]) -> Double {
        guard scalesWithExpected else { return Double(bound) }
        return Double(bound) * (expected.map(abs).max() ?? 0)
    }

    public var description: String {
        "\(factor) · \(chainedSteps) steps · k \(reductionLength) · ε · M "
            + (scalesWithExpected ? "(\(magnitude) × the largest |expected|)" : "\(magnitude) = " + String(format: "%.3g", bound))
    }
}

extension Float32Tolerance {
    /// The outputs and final states of a recurrent layer (or stack) built with PyTorch's default
    /// initialisation (weights and biases within ±1/√hidden), run over `sequenceLength` steps on
    /// inputs and initial states within ±`valueBound` (tanh keeps the later states within ±1).
    ///
    /// Each step's gate pre-activation `W_ih·x + b_ih + W_hh·h + b_hh` is one sum of
    /// k = layer input + output hidden size + 2 terms (plus the hidden size for the projection
    /// `W_hr·h`, and the gates' width for a layer norm's mean and variance). With weights within
    /// ±1/√hidden, the first layer's inputs within ±max(1, valueBound) and every state within ±1, its
    /// terms add up to at most M = (input · max(1, valueBound) + output hidden + 2)/√hidden (the widest
    /// layer's). The stages are the sequence length times the number of layers.
    public static func recurrentLayer(_ configuration: RecurrentLayerConfiguration, sequenceLength: Int,
                                      valueBound: Float = 1) -> Float32Tolerance {
        let c = configuration
        let inputs = (0..<c.numLayers).map { c.layerInputSize($0) }
        let widest = inputs.max() ?? c.inputSize
        var k = widest + c.outputHiddenSize + 2
        if c.projSize > 0 { k += c.hiddenSize }
        if c.layerNorm { k += c.gateCount * c.hiddenSize }
        let largestSum = inputs.enumerated().map { layer, size in
            Float(size) * (layer == 0 ? max(1, valueBound) : 1) + Float(c.outputHiddenSize + 2)
        }.max() ?? 1
        return Float32Tolerance(reductionLength: k, magnitude: largestSum / Float(c.hiddenSize).squareRoot(),
                                chainedSteps: max(1, sequenceLength) * c.numLayers)
    }

    /// The gradients of Σ probe ⊙ (outputs, final states), probes within ±1, with respect to the input,
    /// the initial states and the parameters of `recurrentLayer(c, sequenceLength:)` run on `batchSize`
    /// rows. The backward pass runs the forward chain in reverse (twice the stages); its products sum
    /// over the gates (gates × hidden terms, through the transposed weights) and, for a weight's
    /// gradient, over every step and row (sequenceLength × batchSize terms). The terms of those sums
    /// are not bounded by the configuration alone, so M scales with the largest expected gradient.
    public static func recurrentLayerGradients(_ configuration: RecurrentLayerConfiguration, sequenceLength: Int,
                                               batchSize: Int) -> Float32Tolerance {
        let c = configuration, T = max(1, sequenceLength)
        let forward = recurrentLayer(c, sequenceLength: T)
        let k = max(forward.reductionLength, c.gateCount * c.hiddenSize + 2, T * max(1, batchSize))
        return Float32Tolerance(reductionLength: k, scalesWithExpected: true, chainedSteps: 2 * forward.chainedSteps)
    }
}

extension Float32Tolerance {
    /// The logits and states of `model` after `sequenceLength` tokens: its recurrent stack
    /// (`recurrentLayer`, on embedding rows as inputs: N(0, 1) draws, bounded by the table's largest
    /// entry) and one more stage for the head, a sum of hidden + 1 terms within ±1/√hidden.
    public static func languageModel(_ model: LanguageModel, sequenceLength: Int) -> Float32Tolerance {
        let largest = model.embedding.weight.value.scalars.map(abs).max() ?? 1
        var rule = recurrentLayer(model.configuration.recurrent, sequenceLength: sequenceLength, valueBound: largest)
        let hidden = model.configuration.hiddenSize
        rule.reductionLength = max(rule.reductionLength, hidden + 1)
        rule.chainedSteps += 1
        return rule
    }

    /// The gradients of Σ probe ⊙ logits (probes within ±1) with respect to every parameter of `model`
    /// run on `batchSize` rows of `sequenceLength` tokens: `recurrentLayerGradients` of its stack, with
    /// the head's stage before and after it (its products sum over hidden + 1 or vocabulary terms).
    public static func languageModelGradients(_ model: LanguageModel, sequenceLength: Int, batchSize: Int) -> Float32Tolerance {
        var rule = recurrentLayerGradients(model.configuration.recurrent, sequenceLength: sequenceLength, batchSize: batchSize)
        rule.reductionLength = max(rule.reductionLength, model.configuration.hiddenSize + 1, model.configuration.vocabularySize)
        rule.chainedSteps += 2
        return rule
    }
}

// MARK: Assertions

/// Asserts that `actual` and `expected` (two Float32 computations of the same values) have the same
/// shape and differ by at most `tolerance.bound` in every element; the failure names the worst
/// element, its difference and the rule.
public func assertClose(_ actual: Tensor, _ expected: Tensor, within tolerance: Float32Tolerance,
                        _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "\(message()): shape", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    assertClose(actual.scalars.map(Double.init), expected.scalars.map(Double.init), within: tolerance,
                message(), file: file, line: line)
}

/// `assertClose` for arrays of Float32 results.
public func assertClose(_ actual: [Float], _ expected: [Float], within tolerance: Float32Tolerance,
                        _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    assertClose(actual.map(Double.init), expected.map(Double.init), within: tolerance, message(), file: file, line: line)
}

/// `assertClose` for a Float32 result against an exact reference computed in Double (its own error is
/// half the bound's: the rule holds with room to spare).
public func assertClose(_ actual: [Float], _ expected: [Double], within tolerance: Float32Tolerance,
                        _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    assertClose(actual.map(Double.init), expected, within: tolerance, message(), file: file, line: line)
}

/// `assertClose` with a magnitude per element: element i may differ by `tolerance.bound · magnitudes[i]`
/// (for sums whose Σ|aᵢbᵢ| the test computes itself, such as the products of a kernel test; give
/// `tolerance` a magnitude of 1).
public func assertClose(_ actual: [Float], _ expected: [Double], within tolerance: Float32Tolerance, magnitudes: [Double],
                        _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(magnitudes.count, expected.count, "\(message()): magnitude count", file: file, line: line)
    assertClose(actual.map(Double.init), expected, within: tolerance, magnitudes: magnitudes, message(), file: file, line: line)
}

/// `assertClose` for one value.
public func assertClose(_ actual: Float, _ expected: Float, within tolerance: Float32Tolerance,
                        _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    assertClose([Double(actual)], [Double(expected)], within: tolerance, message(), file: file, line: line)
}

/// The one comparison behind every `assertClose`: the element whose difference uses the largest part
/// of its bound decides.
private func assertClose(_ actual: [Double], _ expected: [Double], within tolerance: Float32Tolerance,
                         magnitudes: [Double]? = nil, _ message: String, file: StaticString, line: UInt) {
    XCTAssertEqual(actual.count, expected.count, "\(message): element count", file: file, line: line)
    let rule = tolerance.bound(comparingWith: expected)
    var worstRatio = 0.0, worst = (index: -1, difference: 0.0, bound: rule)
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        let difference = abs(a - e), bound = rule * (magnitudes?[i] ?? 1)
        let ratio = difference == 0 ? 0 : difference / bound
        // `!(≤)` also catches NaN.
        if !(ratio <= worstRatio) { worstRatio = ratio; worst = (i, difference, bound) }
    }
    ToleranceLog.record(ratio: worstRatio, worst: worst.difference, bound: worst.bound, message: message, file: file, line: line)
    if !(worstRatio <= 1) {
        let what = message.isEmpty ? "" : "\(message): "
        let i = worst.index
        XCTFail(what + String(format: "difference %.4g at element %d (%.9g against %.9g) exceeds the bound %.4g",
                              worst.difference, i, actual[i], expected[i], worst.bound)
                + (magnitudes == nil ? " = \(tolerance)" : " (\(tolerance), times the magnitude " + String(format: "%.4g)", magnitudes![i])),
                file: file, line: line)
    }
}

/// `RECURRENT_TOLERANCE_LOG=FILE`: one line per comparison, `ratio worst bound file:line message`.
private enum ToleranceLog {
    static let handle: FileHandle? = {
        guard let path = ProcessInfo.processInfo.environment["RECURRENT_TOLERANCE_LOG"], !path.isEmpty else { return nil }
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = FileHandle(forWritingAtPath: path)
        handle?.seekToEndOfFile()
        return handle
    }()
    static let lock = NSLock()

    static func record(ratio: Double, worst: Double, bound: Double, message: String, file: StaticString, line: UInt) {
        guard let handle else { return }
        let name = ("\(file)" as NSString).lastPathComponent
        let text = String(format: "%.3e %.3e %.3e ", ratio, worst, bound) + "\(name):\(line) \(message)\n"
        lock.lock()
        handle.write(Data(text.utf8))
        lock.unlock()
    }
}
