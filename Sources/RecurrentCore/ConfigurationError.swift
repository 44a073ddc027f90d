import Foundation

/// A user-facing error for an invalid argument or configuration: names the argument, the value and the rule.
public struct ConfigurationError: Error, LocalizedError, Equatable, Sendable {
    /// The argument's name as the user wrote it (`hiddenSize`, `dropout`, ...).
    public var argument: String
    /// What is wrong, as one clause: "must be positive, got 0".
    public var reason: String

    public init(argument: String, reason: String) {
        self.argument = argument
        self.reason = reason
    }

    public var errorDescription: String? { "invalid \(argument): \(reason)" }

    /// Throws unless `condition` holds.
    public static func require(_ condition: Bool, _ argument: String, _ reason: @autoclosure () -> String) throws {
        if !condition { throw ConfigurationError(argument: argument, reason: reason()) }
    }
}
