import RecurrentCore

/// Looks up rows of an embedding table (PyTorch's `F.embedding`).
///
/// Shapes: `weight` is `(count, dimension)`; `indices` holds `shape.reduce(1, *)` integers in
/// `0..<count`, laid out row-major in `shape`; the result is `(*shape, dimension)`.
/// Example: token ids `(B, T)` give `(B, T, dimension)`.
///
/// Backward: `dWeight` is zero except at the looked-up rows, where it is the sum of the gradients
/// of every position that read that row (a scatter-add). The indices get no gradient.
///
/// An index outside `0..<count` is a programmer error and stops with a precondition failure that
/// names the index and its position; validate untrusted ids (e.g. with a vocabulary) beforehand.
public func embedding(_ indices: [Int], shape: [Int]? = nil, weight: Variable) -> Variable {
    let shape = shape ?? [indices.count]
    precondition(weight.shape.count == 2, "embedding: weight must be (count, dimension), got \(weight.shape)")
    precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == indices.count,
                 "embedding: shape \(shape) needs \(shape.reduce(1, *)) indices, got \(indices.count)")
    let count = weight.shape[0], dimension = weight.shape[1]
    for (position, index) in indices.enumerated() where index < 0 || index >= count {
        preconditionFailure("embedding: index \(index) at position \(position) is out of range 0..<\(count)")
    }
    let w = weight.value
    let y = Tensor(shape: shape + [dimension]) { out in
        w.scalars.withUnsafeBufferPointer { w in
            for (position, index) in indices.enumerated() {
                let src = index * dimension, dst = position * dimension
                for j in 0..<dimension { out[dst + j] = w[src + j] }
            }
        }
    }
    return Tape.record("embedding", inputs: [weight], output: y) { g in
        var dWeight = Tensor(zeros: [count, dimension])
        g.scalars.withUnsafeBufferPointer { g in
            dWeight.scalars.withUnsafeMutableBufferPointer { dw in
                for (position, index) in indices.enumerated() {
                    let src = position * dimension, dst = index * dimension
                    for j in 0..<dimension { dw[dst + j] += g[src + j] }
                }
            }
        }
        return [dWeight]
    }
}
