import RecurrentAutodiff

/// The state of an LSTM: the short-term state `h` and the long-term (cell) state `c`.
///
/// For a cell both are `(batchSize, hiddenSize)` (`h` is `(batchSize, projSize)` with a projection);
/// for a layer both carry a leading `numLayers · numDirections` axis, as in PyTorch.
public struct LSTMState {
    public var h: Variable
    public var c: Variable
    public init(h: Variable, c: Variable) {
        self.h = h
        self.c = c
    }
}
