import RecurrentCore
import RecurrentAutodiff

// Pooling a padded batch of sequences over time, for many-to-one models.
//
// Shapes: input (T, B, F) time-major, as the fused recurrent layers return it; `lengths` holds one
// length per row b in 1...T; the result is (B, F). Only steps t < lengths[b] are read, so the padding
// (zeros in a fused layer's output) never enters a mean or a maximum, and its gradient is zero.

/// How a `TextClassifier` turns the recurrent layer's outputs into one vector per text.
public enum SequencePooling: String, Codable, CaseIterable, Sendable {
    /// The final state of the last layer: each row's state after its own last token (the reverse
    /// direction's after the first token, as PyTorch's packed sequences).
    case last
    /// The mean of the outputs over each row's steps.
    case mean
    /// The elementwise maximum of the outputs over each row's steps.
    case max

    /// The names, for help texts: "last, mean, max".
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

extension Variable {
    /// `(T, B, F)` → `(B, F)`: `y[b, f] = (1 / L_b) Σ_{t < L_b} x[t, b, f]` with `L_b = lengths[b]`.
    ///
    /// Backward: `dx[t, b, f] = dy[b, f] / L_b` for t < L_b, zero at the padding.
    public func maskedMean(overTimeWithLengths lengths: [Int]) -> Variable {
        let (T, B, F) = Self.poolingShape(shape, lengths, "maskedMean")
        let x = value
        let y = Tensor(shape: [B, F]) { out in
            out.initialize(repeating: 0)
            x.scalars.withUnsafeBufferPointer { x in
                for b in 0..<B {
                    let scale = 1 / Float(lengths[b])
                    for t in 0..<lengths[b] {
                        let row = (t * B + b) * F
                        for f in 0..<F { out[b * F + f] += x[row + f] }
                    }
                    for f in 0..<F { out[b * F + f] *= scale }
                }
            }
        }
        return Tape.record("maskedMean", inputs: [self], output: y) { g in
            [Tensor(shape: [T, B, F]) { dx in
                dx.initialize(repeating: 0)
                g.scalars.withUnsafeBufferPointer { g in
                    for b in 0..<B {
                        let scale = 1 / Float(lengths[b])
                        for t in 0..<lengths[b] {
                            let row = (t * B + b) * F
                            for f in 0..<F { dx[row + f] = g[b * F + f] * scale }
                        }
                    }
                }
            }]
        }
    }

    /// `(T, B, F)` → `(B, F)`: `y[b, f] = max_{t < lengths[b]} x[t, b, f]`.
    ///
    /// Backward: the gradient goes to the step holding the maximum (the first such step on ties, as
    /// `torch.max(dim=0)` returns one index), zero elsewhere.
    public func maskedMax(overTimeWithLengths lengths: [Int]) -> Variable {
        let (T, B, F) = Self.poolingShape(shape, lengths, "maskedMax")
        let x = value
        var argmax = [Int](repeating: 0, count: B * F)   // the winning t of each (b, f)
        let y = Tensor(shape: [B, F]) { out in
            x.scalars.withUnsafeBufferPointer { x in
                for b in 0..<B {
                    for f in 0..<F {
                        var best = x[b * F + f], bestT = 0
                        for t in 1..<lengths[b] where x[(t * B + b) * F + f] > best {
                            best = x[(t * B + b) * F + f]
                            bestT = t
                        }
                        out[b * F + f] = best
                        argmax[b * F + f] = bestT
                    }
                }
            }
        }
        return Tape.record("maskedMax", inputs: [self], output: y) { g in
            [Tensor(shape: [T, B, F]) { dx in
                dx.initialize(repeating: 0)
                for b in 0..<B {
                    for f in 0..<F { dx[(argmax[b * F + f] * B + b) * F + f] = g.scalars[b * F + f] }
                }
            }]
        }
    }

    private static func poolingShape(_ shape: [Int], _ lengths: [Int], _ name: String) -> (Int, Int, Int) {
        precondition(shape.count == 3, "\(name): input must be (T, B, F), got \(shape)")
        let (T, B, F) = (shape[0], shape[1], shape[2])
        precondition(lengths.count == B, "\(name): \(lengths.count) lengths for a batch of \(B)")
        for (b, length) in lengths.enumerated() where length < 1 || length > T {
            preconditionFailure("\(name): length \(length) of row \(b) is outside 1...\(T)")
        }
        return (T, B, F)
    }
}
