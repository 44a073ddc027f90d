/// The activation of a plain (Elman) recurrent layer or cell, as PyTorch's `nonlinearity` argument.
public enum RNNNonlinearity: String { case tanh, relu }
