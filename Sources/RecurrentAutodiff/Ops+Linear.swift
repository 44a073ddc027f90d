import RecurrentCore

/// The matrix product of two rank-2 variables: `(m, k) · (k, n) → (m, n)`.
public func matmul(_ a: Variable, _ b: Variable) -> Variable {
    let av = a.value, bv = b.value
    return Tape.record("matmul", inputs: [a, b], output: av.matmul(bv)) { g in
        [a.requiresGrad ? g.matmul(bv, transposeOther: true) : nil,
         b.requiresGrad ? av.matmul(g, transposeSelf: true) : nil]
    }
}

/// `y = x · Wᵀ + b` over the last axis (PyTorch's `F.linear`).
///
/// Shapes: `x` is `(..., inputSize)`, `weight` is `(outputSize, inputSize)`, `bias` is `(outputSize)`;
/// the result is `(..., outputSize)`.
public func linear(_ x: Variable, weight: Variable, bias: Variable?) -> Variable {
    let inputSize = weight.shape[1], outputSize = weight.shape[0]
    precondition(weight.value.rank == 2 && x.shape.last == inputSize,
                 "linear: input shape \(x.shape) does not end in the weight's input size \(inputSize)")
    let xShape = x.shape
    let x2 = x.value.reshaped([-1, inputSize])
    let w = weight.value
    var y = x2.matmul(w, transposeOther: true)
    if let bias { y = y.addingBroadcast(bias.value) }
    let outShape = Array(xShape.dropLast()) + [outputSize]
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    return Tape.record("linear", inputs: inputs, output: y.reshaped(outShape)) { g in
        let g2 = g.reshaped([-1, outputSize])
        var grads: [Tensor?] = [
            x.requiresGrad ? g2.matmul(w).reshaped(xShape) : nil,
            weight.requiresGrad ? g2.matmul(x2, transposeSelf: true) : nil,
        ]
        if let bias { grads.append(bias.requiresGrad ? g2.sumLeading(to: [outputSize]) : nil) }
        return grads
    }
}
