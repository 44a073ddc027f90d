import RecurrentCore

// Operations that move elements without changing them: slicing, selecting, splitting, stacking,
// concatenating and permuting axes. Their backward passes move gradients back to where the
// elements came from (adding where an element was used twice).
//
// Axes may be negative, counting from the end (-1 is the last axis), as in PyTorch.
//
// A tensor viewed around `axis` is `(outer, axisLength, inner)` with `outer` the product of the
// dimensions before the axis and `inner` the product of those after it; slicing along the axis
// copies `outer` contiguous blocks.

/// The axis in `0..<rank` that `axis` names (negative counts from the end).
@inline(__always)
func normalizedAxis(_ axis: Int, rank: Int, _ operation: String) -> Int {
    let resolved = axis < 0 ? axis + rank : axis
    precondition(resolved >= 0 && resolved < rank, "\(operation): axis \(axis) out of range for rank \(rank)")
    return resolved
}

/// Copies `range` along `axis` of `source` (shape `shape`) into `destination`, or (when `scatter`)
/// adds `destination`-shaped data back into those positions of `source`-shaped storage.
private func copySlab(
    shape: [Int], axis: Int, range: Range<Int>,
    from source: UnsafeBufferPointer<Float>, to destination: UnsafeMutableBufferPointer<Float>,
    scatter: Bool
) {
    let outer = shape[..<axis].reduce(1, *)
    let inner = shape[(axis + 1)...].reduce(1, *)
    let full = shape[axis] * inner
    let block = range.count * inner
    let start = range.lowerBound * inner
    for o in 0..<outer {
        if scatter {
            // source is the slab, destination the whole tensor.
            for j in 0..<block { destination[o * full + start + j] += source[o * block + j] }
        } else {
            for j in 0..<block { destination[o * block + j] = source[o * full + start + j] }
        }
    }
}

extension Variable {
    /// Elements `range` along `axis`: the axis keeps its place with length `range.count`.
    /// Example: `x.slice(2..<5, axis: 0)` of `(T, B, I)` is `(3, B, I)`.
    /// Backward: `dInput` is zero outside the range and `dOutput` inside it.
    public func slice(_ range: Range<Int>, axis: Int = 0) -> Variable {
        let shape = self.shape
        let axis = normalizedAxis(axis, rank: shape.count, "slice")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[axis],
                     "slice: range \(range) out of bounds for axis \(axis) of shape \(shape)")
        var outShape = shape
        outShape[axis] = range.count
        let x = value
        let y = Tensor(shape: outShape) { out in
            x.scalars.withUnsafeBufferPointer { src in
                copySlab(shape: shape, axis: axis, range: range, from: src, to: out, scatter: false)
            }
        }
        return Tape.record("slice", inputs: [self], output: y) { g in
            var dx = Tensor(zeros: shape)
            g.scalars.withUnsafeBufferPointer { g in
                dx.scalars.withUnsafeMutableBufferPointer { dx in
                    copySlab(shape: shape, axis: axis, range: range, from: g, to: dx, scatter: true)
                }
            }
            return [dx]
        }
    }

    /// The sub-tensor at `index` along `axis`, with that axis removed (PyTorch's `select`).
    /// Example: time step `t` of `(T, B, I)` is `x.select(t, axis: 0)`, shape `(B, I)`.
    ///
    /// To visit every index along an axis, `unstacked(axis:)` records one node instead of one per index.
    public func select(_ index: Int, axis: Int = 0) -> Variable {
        let axis = normalizedAxis(axis, rank: shape.count, "select")
        precondition(index >= 0 && index < shape[axis],
                     "select: index \(index) out of range for axis \(axis) of shape \(shape)")
        var outShape = shape
        outShape.remove(at: axis)
        return slice(index..<(index + 1), axis: axis).reshaped(outShape)
    }

    /// Splits along `axis` into consecutive pieces of the given sizes (which must sum to the axis length).
    /// Backward concatenates the pieces' gradients (zeros for unused pieces).
    public func split(sizes: [Int], axis: Int = 0) -> [Variable] {
        let axis = normalizedAxis(axis, rank: shape.count, "split")
        precondition(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[axis],
                     "split: sizes \(sizes) do not add up to \(shape[axis]) (axis \(axis) of shape \(shape))")
        let pieces = value.split(sizes: sizes, axis: axis)
        return Tape.record("split", inputs: [self], outputs: pieces) { grads in
            [Tensor.concatenated(grads, axis: axis)]
        }
    }

    /// Splits along `axis` into `count` pieces of equal length (PyTorch's `chunk` when it divides evenly).
    /// Example: the four gate blocks `(B, 4H) → 4 × (B, H)` of an LSTM are `gates.chunked(4, axis: 1)`.
    public func chunked(_ count: Int, axis: Int = 0) -> [Variable] {
        let resolved = normalizedAxis(axis, rank: shape.count, "chunked")
        precondition(count > 0 && shape[resolved] % count == 0,
                     "chunked: axis \(resolved) of shape \(shape) does not split into \(count) equal pieces")
        return split(sizes: Array(repeating: shape[resolved] / count, count: count), axis: resolved)
    }

    /// Every sub-tensor along `axis`, that axis removed (the inverse of `stacked`).
    /// Example: `(T, B, I) → T × (B, I)`. One node for all pieces, so backward costs one pass.
    public func unstacked(axis: Int = 0) -> [Variable] {
        let axis = normalizedAxis(axis, rank: shape.count, "unstacked")
        let shape = self.shape
        var pieceShape = shape
        pieceShape.remove(at: axis)
        let pieces = value.split(sizes: Array(repeating: 1, count: shape[axis]), axis: axis).map { $0.reshaped(pieceShape) }
        var unitShape = shape
        unitShape[axis] = 1
        return Tape.record("unstack", inputs: [self], outputs: pieces) { grads in
            if grads.isEmpty { return [Tensor(zeros: shape)] }
            return [Tensor.concatenated(grads.map { $0.reshaped(unitShape) }, axis: axis)]
        }
    }

    /// Stacks variables of equal shape `S` along a new first axis: `n × S → (n, *S)`.
    /// Example: `T` outputs `(B, H)` become `(T, B, H)`.
    public static func stacked(_ variables: [Variable]) -> Variable {
        precondition(!variables.isEmpty, "stacked: no variables to stack")
        let first = variables[0].shape
        precondition(variables.allSatisfy { $0.shape == first },
                     "stacked: shapes differ: \(variables.map(\.shape))")
        let y = Tensor.stacked(variables.map(\.value))
        return Tape.record("stack", inputs: variables, output: y) { g in
            variables.indices.map { variables[$0].requiresGrad ? g.row($0) : nil }
        }
    }

    /// Concatenates along `axis`; all other dimensions must agree.
    /// Example: forward and reverse outputs `(T, B, H)` each become `(T, B, 2H)` along axis 2.
    public static func concatenated(_ variables: [Variable], axis: Int) -> Variable {
        precondition(!variables.isEmpty, "concatenated: no variables to concatenate")
        let axis = normalizedAxis(axis, rank: variables[0].shape.count, "concatenated")
        let y = Tensor.concatenated(variables.map(\.value), axis: axis)
        let sizes = variables.map { $0.shape[axis] }
        return Tape.record("concatenate", inputs: variables, output: y) { g in
            g.split(sizes: sizes, axis: axis)
        }
    }

    /// Reorders the axes: result axis `i` is this variable's axis `permutation[i]`.
    /// Backward applies the inverse permutation.
    public func permuted(_ permutation: [Int]) -> Variable {
        var inverse = [Int](repeating: 0, count: permutation.count)
        precondition(permutation.sorted() == Array(0..<shape.count),
                     "permuted: \(permutation) is not a permutation of 0..<\(shape.count)")
        for (i, p) in permutation.enumerated() { inverse[p] = i }
        return Tape.record("permute", inputs: [self], output: value.permuted(permutation)) { g in
            [g.permuted(inverse)]
        }
    }

    /// Swaps axes `a` and `b`, e.g. `(B, T, I) → (T, B, I)` with `swappingAxes(0, 1)`.
    public func swappingAxes(_ a: Int, _ b: Int) -> Variable {
        let a = normalizedAxis(a, rank: shape.count, "swappingAxes")
        let b = normalizedAxis(b, rank: shape.count, "swappingAxes")
        return Tape.record("swapAxes", inputs: [self], output: value.swappingAxes(a, b)) { g in
            [g.swappingAxes(a, b)]
        }
    }

    /// The transpose of a rank-2 variable: `(m, n) → (n, m)`.
    public func transposed() -> Variable {
        precondition(shape.count == 2, "transposed: needs rank 2, got shape \(shape)")
        return swappingAxes(0, 1)
    }
}
