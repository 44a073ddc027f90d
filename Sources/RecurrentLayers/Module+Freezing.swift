import RecurrentAutodiff

extension Module {
    /// Freezes (`true`) or unfreezes (`false`) every parameter of the module: a frozen parameter has
    /// `requiresGrad == false`, so backward computes no gradient for it and optimizers and gradient
    /// clipping skip it. Its value still loads and saves with the state dict.
    public func setFrozen(_ frozen: Bool) {
        for parameter in parameters { parameter.requiresGrad = !frozen }
    }

    /// The parameters that are not frozen, in `namedParameters` order.
    public var trainableParameters: [Parameter] { parameters.filter(\.requiresGrad) }
}
