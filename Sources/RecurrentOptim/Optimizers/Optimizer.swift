import Foundation
import RecurrentCore
import RecurrentAutodiff

/// Updates parameters from their gradients, with PyTorch's update rules (`torch.optim`).
///
/// One optimizer owns one ordered list of parameters (a single PyTorch parameter group). The
/// usual loop is:
///
/// ```swift
/// optimizer.zeroGrad()
/// let loss = model(x) ... .mean()
/// loss.backward()
/// clipGradientNorm(optimizer.parameters, maxNorm: 1)   // optional
/// optimizer.step()
/// ```
///
/// Per-parameter state (moments, momentum buffers, step counts) is created lazily on the first
/// step in which the parameter has a gradient, as in PyTorch; a parameter whose `grad` is `nil`,
/// or that is frozen (`requiresGrad == false`), is skipped entirely (its value, state and step count stay as they are).
///
/// `stateDict()` / `loadStateDict(_:)` save and restore that state exactly, so a run resumed from a
/// checkpoint continues bit for bit as if it had never stopped.
public protocol Optimizer: AnyObject {
    /// The parameters updated by `step()`, in the order used by the state dict (`state.<index>.…`).
    var parameters: [Parameter] { get }
    /// The learning rate used by the next `step()`. Schedulers assign it; it must be non-negative.
    var learningRate: Float { get set }
    /// Updates every parameter that has a gradient.
    func step()
    /// Clears the gradient of every parameter (sets it to `nil`, like PyTorch's `set_to_none=True`).
    func zeroGrad()
    /// The optimizer's state as named tensors, in a fixed order:
    ///
    /// - `state.<index>.<buffer>`: a per-parameter buffer with the parameter's shape, named as in
    ///   PyTorch (`exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`, `momentum_buffer`, `square_avg`,
    ///   `grad_avg`, `sum`), present only for parameters that have state;
    /// - `state.<index>.step`: that parameter's step count, a Float tensor of shape `[]`. The count
    ///   is kept as a Float in memory too, exactly as PyTorch keeps `state["step"]` as a float32
    ///   tensor incremented by 1: the saved value is therefore always exact, and past 2^24 =
    ///   16,777,216 steps the count stops growing in both (by then every bias correction is 1);
    /// - `param_groups.0.lr`: the current learning rate, shape `[]`.
    func stateDict() -> [(name: String, tensor: Tensor)]
    /// Restores state saved by `stateDict()` of an optimizer of the same kind and configuration
    /// over parameters of the same shapes. Every entry is checked (names, shapes, values) before
    /// anything is changed, so on error the optimizer is unchanged.
    /// - Throws: `OptimizerStateError` naming the offending entry.
    func loadStateDict(_ entries: [(name: String, tensor: Tensor)]) throws
}

extension Optimizer {
    public func zeroGrad() {
        for parameter in parameters { parameter.zeroGrad() }
    }

    /// Restores state from a dictionary (as read from a checkpoint file).
    public func loadStateDict(_ dictionary: [String: Tensor]) throws {
        try loadStateDict(dictionary.sorted { $0.key < $1.key }.map { (name: $0.key, tensor: $0.value) })
    }
}

/// Why a saved optimizer or scheduler state does not fit the object it is loaded into.
public struct OptimizerStateError: Error, LocalizedError, Equatable, Sendable {
    public enum Problem: Equatable, Sendable {
        /// An entry the optimizer needs is absent.
        case missing
        /// An entry belongs to no parameter or buffer of this optimizer (or this configuration).
        case unexpected
        /// The same name occurs twice.
        case duplicate
        /// The tensor's shape differs from the parameter's.
        case shapeMismatch(expected: [Int], found: [Int])
        /// The value is out of range (a negative or fractional step count, a negative learning rate ...).
        case invalidValue(String)
    }

    /// The type that was loading: `Adam`, `SGD`, `LearningRateScheduler` ...
    public var owner: String
    /// The entry's name, such as `state.3.exp_avg`.
    public var entry: String
    public var problem: Problem

    public init(owner: String, entry: String, problem: Problem) {
        self.owner = owner
        self.entry = entry
        self.problem = problem
    }

    public var errorDescription: String? {
        let entry = ErrorMessage.excerpt(entry)
        switch problem {
        case .missing: return "\(owner) state: entry '\(entry)' is missing"
        case .unexpected: return "\(owner) state: entry '\(entry)' does not belong to this \(owner)"
        case .duplicate: return "\(owner) state: entry '\(entry)' occurs more than once"
        case .shapeMismatch(let expected, let found):
            return "\(owner) state: entry '\(entry)' has shape \(ErrorMessage.excerpt("\(found)")), expected \(expected)"
        case .invalidValue(let reason): return "\(owner) state: entry '\(entry)' \(reason)"
        }
    }
}

// MARK: - Shared helpers (internal)

/// Checks the parameter list given to an optimizer: non-empty, leaves only, no parameter twice.
func validatedParameters(_ parameters: [Parameter]) throws -> [Parameter] {
    try ConfigurationError.require(!parameters.isEmpty, "parameters", "the optimizer got an empty parameter list")
    var seen: [ObjectIdentifier: Int] = [:]
    for (index, parameter) in parameters.enumerated() {
        try ConfigurationError.require(parameter.isLeaf, "parameters",
                                       "entry \(index) is not a leaf variable; only leaves (parameters) can be optimized")
        if let first = seen.updateValue(index, forKey: ObjectIdentifier(parameter)) {
            throw ConfigurationError(argument: "parameters",
                                     reason: "entries \(first) and \(index) are the same parameter; each may appear once")
        }
    }
    return parameters
}

/// Checks a hyper-parameter that must be `>= 0` (rejects NaN, like PyTorch's `not 0.0 <= x`).
func requireNonNegative(_ value: Float, _ argument: String) throws {
    try ConfigurationError.require(value >= 0, argument, "must be non-negative, got \(value)")
}

/// Builds a state dict in the documented order.
struct OptimizerStateWriter {
    private(set) var entries: [(name: String, tensor: Tensor)] = []

    mutating func step(_ index: Int, _ step: Float) {
        entries.append((name: "state.\(index).step", tensor: Tensor(step)))
    }

    mutating func buffer(_ index: Int, _ key: String, _ values: [Float], shape: [Int]) {
        entries.append((name: "state.\(index).\(key)", tensor: Tensor(shape: shape, scalars: values)))
    }

    mutating func learningRate(_ value: Float) {
        entries.append((name: "param_groups.0.lr", tensor: Tensor(value)))
    }
}

/// Reads and checks a state dict; every accessor consumes the entries it reads so that
/// `finish()` can report any left over.
struct OptimizerStateReader {
    let owner: String
    let shapes: [[Int]]
    private var remaining: [String: Tensor] = [:]

    init(owner: String, parameters: [Parameter], entries: [(name: String, tensor: Tensor)]) throws {
        self.owner = owner
        self.shapes = parameters.map(\.value.shape)
        for (name, tensor) in entries {
            guard remaining.updateValue(tensor, forKey: name) == nil else {
                throw OptimizerStateError(owner: owner, entry: name, problem: .duplicate)
            }
        }
    }

    private func error(_ entry: String, _ problem: OptimizerStateError.Problem) -> OptimizerStateError {
        OptimizerStateError(owner: owner, entry: entry, problem: problem)
    }

    /// A one-element entry's value.
    private mutating func scalar(_ name: String) throws -> Float? {
        guard let tensor = remaining.removeValue(forKey: name) else { return nil }
        guard tensor.count == 1, tensor.rank <= 1 else {
            throw error(name, .shapeMismatch(expected: [], found: tensor.shape))
        }
        return tensor.scalars[0]
    }

    /// `param_groups.0.lr` (required, non-negative).
    mutating func learningRate() throws -> Float {
        let name = "param_groups.0.lr"
        guard let value = try scalar(name) else { throw error(name, .missing) }
        guard value >= 0, value.isFinite else { throw error(name, .invalidValue("must be a finite non-negative learning rate, got \(value)")) }
        return value
    }

    /// The state of parameter `index`: its step count (if `hasStep`) and the buffers named `keys`,
    /// in that order. `nil` when none of these entries is present (the parameter has no state yet);
    /// an error when only some are.
    mutating func slot(_ index: Int, hasStep: Bool, keys: [String]) throws -> (step: Float, buffers: [[Float]])? {
        let prefix = "state.\(index)."
        let names = (hasStep ? [prefix + "step"] : []) + keys.map { prefix + $0 }
        let present = names.filter { remaining[$0] != nil }
        if present.isEmpty { return nil }
        if let absent = names.first(where: { remaining[$0] == nil }) { throw error(absent, .missing) }
        var step: Float = 0
        if hasStep {
            let name = prefix + "step"
            let value = try scalar(name)!
            guard value >= 0, value.isFinite, value.rounded(.towardZero) == value else {
                throw error(name, .invalidValue("must be a whole, non-negative number of steps, got \(value)"))
            }
            step = value
        }
        var buffers: [[Float]] = []
        for key in keys {
            let name = prefix + key
            let tensor = remaining.removeValue(forKey: name)!
            guard tensor.shape == shapes[index] else {
                throw error(name, .shapeMismatch(expected: shapes[index], found: tensor.shape))
            }
            buffers.append(tensor.scalars)
        }
        return (step, buffers)
    }

    /// Like `slot`, for optimizers whose state exists for every parameter from the start.
    mutating func requiredSlot(_ index: Int, hasStep: Bool, keys: [String]) throws -> (step: Float, buffers: [[Float]]) {
        guard let slot = try slot(index, hasStep: hasStep, keys: keys) else {
            throw error("state.\(index)." + (hasStep ? "step" : keys[0]), .missing)
        }
        return slot
    }

    /// Fails if any entry was not consumed.
    func finish() throws {
        if let extra = remaining.keys.sorted().first { throw error(extra, .unexpected) }
    }
}
