import RecurrentCore

/// Compares the gradients computed by `backward()` with central finite differences.
///
/// Everything runs in Float32, so the finite differences carry rounding noise of about
/// `ulp(loss) / epsilon`. With the defaults (`epsilon = 1e-2`, a loss of order 1–10) that noise is
/// below 1e-3, and the truncation error `O(epsilon²)` is of the same order; hence the default
/// tolerance `|analytic − numeric| ≤ absoluteTolerance + relativeTolerance · max(|analytic|, |numeric|)`
/// with 2e-3 and 2e-2. Keep the loss well-scaled (e.g. `sum(output * probe)` with a random probe)
/// and the inputs away from kinks such as ReLU's 0.
public struct GradientCheck {
    /// One compared element.
    public struct Mismatch: CustomStringConvertible, Sendable {
        public var variable: String
        public var index: Int
        public var analytic: Float
        public var numeric: Float
        public var description: String { "\(variable)[\(index)]: analytic \(analytic), numeric \(numeric)" }
    }

    public var epsilon: Float
    public var absoluteTolerance: Float
    public var relativeTolerance: Float
    /// At most this many elements per variable are checked (spread evenly); 0 means all.
    public var maxElementsPerVariable: Int

    public init(epsilon: Float = 1e-2, absoluteTolerance: Float = 2e-3, relativeTolerance: Float = 2e-2,
                maxElementsPerVariable: Int = 0) {
        self.epsilon = epsilon
        self.absoluteTolerance = absoluteTolerance
        self.relativeTolerance = relativeTolerance
        self.maxElementsPerVariable = maxElementsPerVariable
    }

    /// Checks `∂loss/∂v` for each named variable `v` (leaves that require gradients).
    ///
    /// `loss` must build a fresh graph on each call and return a one-element variable; it is called
    /// once for the analytic gradients and twice per checked element.
    /// - Returns: the mismatches (empty when the check passes).
    public func mismatches(of variables: [(name: String, variable: Variable)], loss: () -> Variable) -> [Mismatch] {
        for (_, v) in variables { v.zeroGrad() }
        let l = loss()
        precondition(l.value.count == 1, "GradientCheck: the loss must have one element, got shape \(l.shape)")
        l.backward()
        var result: [Mismatch] = []
        for (name, v) in variables {
            precondition(v.isLeaf && v.requiresGrad, "GradientCheck: \(name) must be a leaf that requires gradients")
            let analytic = v.grad ?? Tensor(zeros: v.shape)
            let n = v.value.count
            let stride = maxElementsPerVariable > 0 ? max(1, n / maxElementsPerVariable) : 1
            for i in Swift.stride(from: 0, to: n, by: stride) {
                let original = v.value.scalars[i]
                v.value.scalars[i] = original + epsilon
                let plus = GradientMode.withoutGradients { Double(loss().value.scalar) }
                v.value.scalars[i] = original - epsilon
                let minus = GradientMode.withoutGradients { Double(loss().value.scalar) }
                v.value.scalars[i] = original
                let numeric = Float((plus - minus) / (2 * Double(epsilon)))
                let a = analytic.scalars[i]
                if !(abs(a - numeric) <= absoluteTolerance + relativeTolerance * max(abs(a), abs(numeric))) {
                    result.append(Mismatch(variable: name, index: i, analytic: a, numeric: numeric))
                }
            }
        }
        for (_, v) in variables { v.zeroGrad() }
        return result
    }
}
