#if !canImport(Accelerate)
import COpenBLAS
#endif

/// AVX-512 elementwise kernels of the fused recurrent layers (Sources/COpenBLAS/recurrent_gates.h).
/// Callers check `FastGEMM.isEnabled` (same CPU requirement and the same switch to the reference path).
public enum FastElementwise {
    public enum Function: Int32 { case exp = 0, sigmoid = 1, tanh = 2 }

    /// `destination[i] = f(source[i])` for `i < count`; the pointers may be equal.
    @inline(__always)
    public static func apply(_ function: Function, _ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>,
                             count: Int) {
        #if !canImport(Accelerate)
        recurrent_activation(function.rawValue, source, destination, count)
        #endif
    }

    /// One batch row of the LSTM forward step without peepholes: `gates` (4H pre-activations, i f g o)
    /// become activations; writes `c` = f·cPrev + i·g and `h` = o·tanh(c) (H each).
    @inline(__always)
    public static func lstmForwardRow(hiddenSize: Int, gates: UnsafeMutablePointer<Float>, cPrev: UnsafePointer<Float>,
                                      c: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>) {
        #if !canImport(Accelerate)
        recurrent_lstm_forward_row(hiddenSize, gates, cPrev, c, h)
        #endif
    }

    /// One batch row of the LSTM backward step without peepholes: from the activations `gates`, c_t,
    /// c_{t−1} and dh, writes `dGates` (4H pre-activation gradients) and turns `dc` (gradient of c_t)
    /// into the gradient of c_{t−1}.
    @inline(__always)
    public static func lstmBackwardRow(hiddenSize: Int, gates: UnsafePointer<Float>, c: UnsafePointer<Float>,
                                       cPrev: UnsafePointer<Float>, dh: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>,
                                       dGates: UnsafeMutablePointer<Float>) {
        #if !canImport(Accelerate)
        recurrent_lstm_backward_row(hiddenSize, gates, c, cPrev, dh, dc, dGates)
        #endif
    }
}
