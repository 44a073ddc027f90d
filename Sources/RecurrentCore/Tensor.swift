/// A dense Float32 tensor: contiguous, row-major, with value semantics.
///
/// Storage is a Swift `Array`, so copies are cheap until one side is mutated (copy-on-write).
/// Hot loops reach the scalars through `withUnsafeBufferPointer` / `withUnsafeMutableBufferPointer`.
/// A tensor of rank 0 (shape `[]`) holds one scalar.
public struct Tensor: Sendable, Equatable, CustomStringConvertible {
    /// The extent of each dimension, outermost first.
    public private(set) var shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.reduce(1, *)`.
    public var scalars: [Float]

    /// A tensor with the given shape and row-major elements.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        precondition(shape.reduce(1, *) == scalars.count,
                     "Tensor: shape \(shape) needs \(shape.reduce(1, *)) elements, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) { self.init(repeating: 0, shape: shape) }

    /// A rank-0 tensor holding `value`.
    public init(_ value: Float) { self.init(shape: [], scalars: [value]) }

    /// A rank-1 tensor holding `values`.
    public init(_ values: [Float]) { self.init(shape: [values.count], scalars: values) }

    /// A rank-2 tensor from rows of equal length.
    public init(rows: [[Float]]) {
        let columns = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == columns }, "Tensor(rows:): rows of unequal length")
        self.init(shape: [rows.count, columns], scalars: rows.flatMap { $0 })
    }

    /// Creates a tensor whose scalars are written by `body` into uninitialised storage of `count` elements.
    @inlinable
    public init(shape: [Int], unsafeUninitializedScalars body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let count = shape.reduce(1, *)
        let scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            body(buffer)
            initialized = count
        }
        self.init(shape: shape, scalars: scalars)
    }

    /// The number of elements.
    @inlinable public var count: Int { scalars.count }
    /// The number of dimensions.
    @inlinable public var rank: Int { shape.count }
    /// The single value of a one-element tensor.
    public var scalar: Float {
        precondition(scalars.count == 1, "Tensor.scalar: tensor of shape \(shape) has \(scalars.count) elements")
        return scalars[0]
    }

    /// Row-major strides, in elements.
    public var strides: [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for axis in Swift.stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = step
            step *= shape[axis]
        }
        return strides
    }

    /// Element access by full index.
    public subscript(_ index: Int...) -> Float {
        get { scalars[offset(of: index)] }
        set { scalars[offset(of: index)] = newValue }
    }

    private func offset(of index: [Int]) -> Int {
        precondition(index.count == shape.count, "Tensor: index \(index) does not match shape \(shape)")
        var offset = 0
        for (axis, i) in index.enumerated() {
            precondition(i >= 0 && i < shape[axis], "Tensor: index \(index) out of bounds for shape \(shape)")
            offset = offset * shape[axis] + i
        }
        return offset
    }

    /// The same elements under another shape with the same element count. One dimension may be -1.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let unknown = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != unknown }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "Tensor.reshaped: cannot infer -1 in \(newShape) for \(count) elements")
            resolved[unknown] = count / known
        }
        return Tensor(shape: resolved, scalars: scalars)
    }

    public var description: String { "Tensor(shape: \(shape), scalars: \(scalars))" }
}

extension Tensor {
    /// The sub-tensor at `index` along the first axis (shape `shape.dropFirst()`).
    public func row(_ index: Int) -> Tensor {
        precondition(rank >= 1 && index >= 0 && index < shape[0], "Tensor.row: index \(index) out of range for shape \(shape)")
        let inner = Array(shape.dropFirst())
        let size = inner.reduce(1, *)
        return Tensor(shape: inner, scalars: Array(scalars[(index * size)..<((index + 1) * size)]))
    }

    /// Elements `range` along the first axis.
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0],
                     "Tensor.rows: range \(range) out of bounds for shape \(shape)")
        var newShape = shape
        newShape[0] = range.count
        let size = shape.dropFirst().reduce(1, *)
        return Tensor(shape: newShape, scalars: Array(scalars[(range.lowerBound * size)..<(range.upperBound * size)]))
    }

    /// Stacks tensors of equal shape along a new first axis.
    public static func stacked(_ tensors: [Tensor]) -> Tensor {
        precondition(!tensors.isEmpty, "Tensor.stacked: no tensors")
        let inner = tensors[0].shape
        precondition(tensors.allSatisfy { $0.shape == inner }, "Tensor.stacked: shapes differ")
        var scalars = [Float]()
        scalars.reserveCapacity(inner.reduce(1, *) * tensors.count)
        for t in tensors { scalars.append(contentsOf: t.scalars) }
        return Tensor(shape: [tensors.count] + inner, scalars: scalars)
    }

    /// Concatenates tensors along `axis`; all other dimensions must agree.
    public static func concatenated(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "Tensor.concatenated: no tensors")
        let rank = tensors[0].rank
        precondition(axis >= 0 && axis < rank, "Tensor.concatenated: axis \(axis) out of range for rank \(rank)")
        for t in tensors {
            precondition(t.rank == rank && zip(t.shape, tensors[0].shape).enumerated().allSatisfy { $0.offset == axis || $0.element.0 == $0.element.1 },
                         "Tensor.concatenated: shapes \(tensors.map(\.shape)) differ outside axis \(axis)")
        }
        let outer = tensors[0].shape[..<axis].reduce(1, *)
        let inners = tensors.map { $0.shape[axis...].reduce(1, *) }
        var shape = tensors[0].shape
        shape[axis] = tensors.map { $0.shape[axis] }.reduce(0, +)
        var scalars = [Float]()
        scalars.reserveCapacity(shape.reduce(1, *))
        for o in 0..<outer {
            for (t, inner) in zip(tensors, inners) {
                scalars.append(contentsOf: t.scalars[(o * inner)..<((o + 1) * inner)])
            }
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// Splits along `axis` into pieces of the given sizes (the inverse of `concatenated`).
    public func split(sizes: [Int], axis: Int) -> [Tensor] {
        precondition(axis >= 0 && axis < rank, "Tensor.split: axis \(axis) out of range for rank \(rank)")
        precondition(sizes.reduce(0, +) == shape[axis], "Tensor.split: sizes \(sizes) do not sum to \(shape[axis])")
        let outer = shape[..<axis].reduce(1, *)
        let unit = shape[(axis + 1)...].reduce(1, *)
        let total = shape[axis] * unit
        var start = 0
        return sizes.map { size in
            var pieceShape = shape
            pieceShape[axis] = size
            var piece = [Float]()
            piece.reserveCapacity(outer * size * unit)
            for o in 0..<outer {
                let base = o * total + start * unit
                piece.append(contentsOf: scalars[base..<(base + size * unit)])
            }
            start += size
            return Tensor(shape: pieceShape, scalars: piece)
        }
    }

    /// Swaps the two axes `a` and `b` (a copying permutation).
    public func swappingAxes(_ a: Int, _ b: Int) -> Tensor {
        precondition(a >= 0 && a < rank && b >= 0 && b < rank, "Tensor.swappingAxes: axes \(a), \(b) out of range for rank \(rank)")
        if a == b { return self }
        var perm = Array(0..<rank)
        perm.swapAt(a, b)
        return permuted(perm)
    }

    /// Reorders the axes: result axis `i` is this tensor's axis `permutation[i]`.
    public func permuted(_ permutation: [Int]) -> Tensor {
        precondition(permutation.sorted() == Array(0..<rank), "Tensor.permuted: \(permutation) is not a permutation of 0..<\(rank)")
        let newShape = permutation.map { shape[$0] }
        let oldStrides = strides
        let mappedStrides = permutation.map { oldStrides[$0] }
        let n = count
        return Tensor(shape: newShape) { out in
            scalars.withUnsafeBufferPointer { src in
                var index = [Int](repeating: 0, count: newShape.count)
                var srcOffset = 0
                for i in 0..<n {
                    out[i] = src[srcOffset]
                    var axis = newShape.count - 1
                    while axis >= 0 {
                        index[axis] += 1
                        srcOffset += mappedStrides[axis]
                        if index[axis] < newShape[axis] { break }
                        srcOffset -= mappedStrides[axis] * newShape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
    }

    /// The transpose of a rank-2 tensor.
    public func transposed() -> Tensor {
        precondition(rank == 2, "Tensor.transposed: needs rank 2, got shape \(shape)")
        return permuted([1, 0])
    }
}
