import CRecurrentKernels

/// SIMD elementwise kernels of the fused recurrent layers (Sources/CRecurrentKernels, the family of
/// `KernelFamily.current`). Callers check `FastGEMM.isEnabled` (the same switch to the reference path).
package enum FastElementwise {
    package enum Function: Int32 { case exp = 0, sigmoid = 1, tanh = 2 }

    /// `destination[i] = f(source[i])` for `i < count`; the pointers may be equal.
    @inline(__always)
    package static func apply(_ function: Function, _ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>,
                             count: Int) {
        rk_activation(KernelFamily.current.code, function.rawValue, source, destination, count)
    }

    /// One batch row of the LSTM forward step without peepholes: `gates` (4H pre-activations, i f g o)
    /// become activations; writes `c` = f·cPrev + i·g and `h` = o·tanh(c) (H each).
    @inline(__always)
    package static func lstmForwardRow(hiddenSize: Int, gates: UnsafeMutablePointer<Float>, cPrev: UnsafePointer<Float>,
                                      c: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>) {
        rk_lstm_forward_row(KernelFamily.current.code, hiddenSize, gates, cPrev, c, h)
    }

    /// One batch row of the LSTM backward step without peepholes: from the activations `gates`, c_t,
    /// c_{t−1} and dh, writes `dGates` (4H pre-activation gradients) and turns `dc` (gradient of c_t)
    /// into the gradient of c_{t−1}.
    @inline(__always)
    package static func lstmBackwardRow(hiddenSize: Int, gates: UnsafePointer<Float>, c: UnsafePointer<Float>,
                                       cPrev: UnsafePointer<Float>, dh: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>,
                                       dGates: UnsafeMutablePointer<Float>) {
        rk_lstm_backward_row(KernelFamily.current.code, hiddenSize, gates, c, cPrev, dh, dc, dGates)
    }
}
