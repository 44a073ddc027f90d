import RecurrentCore

// Sum and mean along one axis. Viewing the input as `(outer, n, inner)` around the axis, the result
// is `(outer, inner)` (or `(outer, 1, inner)` when the axis is kept); backward copies each output
// gradient to the `n` positions it summed (scaled by 1/n for the mean).

extension Variable {
    /// The sum along `axis` (negative counts from the end). The axis is removed unless
    /// `keepingAxis`, in which case it stays with length 1 (PyTorch's `keepdim`).
    /// Example: `(T, B, H).sum(alongAxis: 0)` is `(B, H)`.
    public func sum(alongAxis axis: Int, keepingAxis: Bool = false) -> Variable {
        reduce(alongAxis: axis, keepingAxis: keepingAxis, scale: 1, name: "sumAlongAxis")
    }

    /// The mean along `axis` (negative counts from the end); see `sum(alongAxis:keepingAxis:)`.
    public func mean(alongAxis axis: Int, keepingAxis: Bool = false) -> Variable {
        let resolved = normalizedAxis(axis, rank: shape.count, "mean(alongAxis:)")
        let n = shape[resolved]
        return reduce(alongAxis: resolved, keepingAxis: keepingAxis, scale: n == 0 ? .nan : 1 / Float(n),
                      name: "meanAlongAxis")
    }

    private func reduce(alongAxis axis: Int, keepingAxis: Bool, scale: Float, name: String) -> Variable {
        let shape = self.shape
        let axis = normalizedAxis(axis, rank: shape.count, name)
        let outer = shape[..<axis].reduce(1, *)
        let n = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        var outShape = shape
        if keepingAxis { outShape[axis] = 1 } else { outShape.remove(at: axis) }
        let x = value
        var y = Tensor(zeros: outShape)
        x.scalars.withUnsafeBufferPointer { x in
            y.scalars.withUnsafeMutableBufferPointer { y in
                for o in 0..<outer {
                    for k in 0..<n {
                        let src = (o * n + k) * inner
                        for j in 0..<inner { y[o * inner + j] += x[src + j] }
                    }
                }
                if scale != 1 { for i in 0..<y.count { y[i] *= scale } }
            }
        }
        return Tape.record(name, inputs: [self], output: y) { g in
            [Tensor(shape: shape) { dx in
                g.scalars.withUnsafeBufferPointer { g in
                    for o in 0..<outer {
                        for k in 0..<n {
                            let dst = (o * n + k) * inner
                            for j in 0..<inner { dx[dst + j] = g[o * inner + j] * scale }
                        }
                    }
                }
            }]
        }
    }
}
