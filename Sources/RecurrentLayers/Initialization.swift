import RecurrentCore

/// Tensors of the given shapes with elements uniform in `[-bound, bound)`, drawn in order.
///
/// This is PyTorch's default for recurrent layers and cells (`bound = 1/√hiddenSize` for every
/// parameter) and for `Linear` (`bound = 1/√inputSize`). The generator differs from PyTorch's, so
/// the values do not; their distribution does.
func uniformTensors(_ shapes: [[Int]], bound: Float, using rng: inout RandomGenerator) -> [Tensor] {
    shapes.map { Tensor.uniform(shape: $0, low: -bound, high: bound, using: &rng) }
}
