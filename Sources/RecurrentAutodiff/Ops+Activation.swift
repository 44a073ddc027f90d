import RecurrentCore

// Activation functions; backward uses the saved output where the derivative is a function of it.

extension Variable {
    public func tanh() -> Variable {
        let y = value.map(Activation.tanh)
        return Tape.record("tanh", inputs: [self], output: y) { g in [g.zipWith(y) { g, y in g * (1 - y * y) }] }
    }

    public func sigmoid() -> Variable {
        let y = value.map(Activation.sigmoid)
        return Tape.record("sigmoid", inputs: [self], output: y) { g in [g.zipWith(y) { g, y in g * y * (1 - y) }] }
    }

    public func relu() -> Variable {
        let x = value
        return Tape.record("relu", inputs: [self], output: x.map(Activation.relu)) { g in [g.zipWith(x) { g, x in x > 0 ? g : 0 }] }
    }
}
