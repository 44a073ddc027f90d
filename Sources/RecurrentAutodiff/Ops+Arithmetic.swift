import RecurrentCore

// Elementwise arithmetic. Each operation's backward sits next to its forward.
// Binary operations take equal shapes; `addingBias` broadcasts a trailing-shape operand.

public func + (lhs: Variable, rhs: Variable) -> Variable {
    Tape.record("add", inputs: [lhs, rhs], output: lhs.value + rhs.value) { g in [g, g] }
}

public func - (lhs: Variable, rhs: Variable) -> Variable {
    Tape.record("subtract", inputs: [lhs, rhs], output: lhs.value - rhs.value) { g in [g, -g] }
}

public func * (lhs: Variable, rhs: Variable) -> Variable {
    let a = lhs.value, b = rhs.value
    return Tape.record("multiply", inputs: [lhs, rhs], output: a * b) { g in [g * b, g * a] }
}

public func * (lhs: Variable, rhs: Float) -> Variable {
    Tape.record("scale", inputs: [lhs], output: lhs.value * rhs) { g in [g * rhs] }
}

public func * (lhs: Float, rhs: Variable) -> Variable { rhs * lhs }

public prefix func - (x: Variable) -> Variable {
    Tape.record("negate", inputs: [x], output: -x.value) { g in [-g] }
}

extension Variable {
    /// Adds `bias` (whose shape is a trailing part of this shape) at every leading position.
    public func addingBias(_ bias: Variable) -> Variable {
        let biasShape = bias.shape
        return Tape.record("addingBias", inputs: [self, bias], output: value.addingBroadcast(bias.value)) { g in
            [g, g.sumLeading(to: biasShape)]
        }
    }

    /// The sum of all elements, as a one-element tensor of shape `[]`.
    public func sum() -> Variable {
        let shape = self.shape
        return Tape.record("sum", inputs: [self], output: Tensor(value.sum())) { g in
            [Tensor(repeating: g.scalar, shape: shape)]
        }
    }

    /// The mean of all elements, as a one-element tensor of shape `[]`.
    public func mean() -> Variable {
        let shape = self.shape, n = Float(value.count)
        return Tape.record("mean", inputs: [self], output: Tensor(value.mean())) { g in
            [Tensor(repeating: g.scalar / n, shape: shape)]
        }
    }

    /// The same elements under another shape (one dimension may be -1).
    public func reshaped(_ newShape: [Int]) -> Variable {
        let oldShape = shape
        return Tape.record("reshape", inputs: [self], output: value.reshaped(newShape)) { g in [g.reshaped(oldShape)] }
    }
}
