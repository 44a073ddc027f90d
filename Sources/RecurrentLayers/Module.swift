import Foundation
import RecurrentCore
import RecurrentAutodiff

/// Anything with named parameters: layers and models built from them.
///
/// Names follow PyTorch's state-dict convention (`weight_ih_l0`, `bias_hh_l1_reverse`, and
/// `child.name` for nested modules), so a saved state dict loads into the matching `torch.nn`
/// module and back.
public protocol Module: AnyObject {
    /// The parameters under their state-dict names, in a fixed order.
    var namedParameters: [(name: String, parameter: Parameter)] { get }
    /// Training mode enables dropout; evaluation mode disables it. Composite modules forward it.
    var isTraining: Bool { get set }
}

/// Why a state dict does not fit a module.
public enum StateDictError: Error, Equatable, CustomStringConvertible, Sendable {
    case missing(name: String)
    case unexpected(name: String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .missing(let name): return "state dict has no entry '\(ErrorMessage.excerpt(name))' that the model needs"
        case .unexpected(let name): return "state dict entry '\(ErrorMessage.excerpt(name))' does not belong to this model"
        case .shapeMismatch(let name, let expected, let found):
            return "state dict entry '\(ErrorMessage.excerpt(name))' has shape \(ErrorMessage.excerpt("\(found)")), the model expects \(expected)"
        }
    }
}

extension StateDictError: LocalizedError {
    public var errorDescription: String? { description }
}

extension Module {
    /// The parameters in `namedParameters` order.
    public var parameters: [Parameter] { namedParameters.map(\.parameter) }

    /// The number of scalar parameters.
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.parameter.value.count } }

    /// The current values under their state-dict names, in `namedParameters` order.
    public func stateDict() -> [(name: String, tensor: Tensor)] {
        namedParameters.map { ($0.name, $0.parameter.value) }
    }

    /// Replaces parameter values from a state dict. All checks run before anything is assigned,
    /// so on error the module is unchanged.
    /// - Parameter strict: when true, entries that belong to no parameter are an error too.
    public func loadStateDict(_ dict: [String: Tensor], strict: Bool = true) throws {
        let named = namedParameters
        for (name, parameter) in named {
            guard let tensor = dict[name] else { throw StateDictError.missing(name: name) }
            guard tensor.shape == parameter.value.shape else {
                throw StateDictError.shapeMismatch(name: name, expected: parameter.value.shape, found: tensor.shape)
            }
        }
        if strict {
            let known = Set(named.map(\.name))
            if let extra = dict.keys.sorted().first(where: { !known.contains($0) }) {
                throw StateDictError.unexpected(name: extra)
            }
        }
        for (name, parameter) in named { parameter.value = dict[name]! }
    }

    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}

/// Prefixes child parameter names with `prefix.`, as PyTorch does for submodules.
public func prefixed(_ prefix: String, _ parameters: [(name: String, parameter: Parameter)]) -> [(name: String, parameter: Parameter)] {
    parameters.map { ("\(prefix).\($0.name)", $0.parameter) }
}

/// Prefixes the names of parameter shapes with `prefix.`, as `prefixed` does for parameters.
public func prefixed(_ prefix: String, _ shapes: [(name: String, shape: [Int])]) -> [(name: String, shape: [Int])] {
    shapes.map { ("\(prefix).\($0.name)", $0.shape) }
}
