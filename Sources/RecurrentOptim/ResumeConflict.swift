import Foundation

/// The first field in which the configuration a run is resumed with differs from the one its
/// checkpoint was trained with, among the fields that must not change.
public struct ResumeConflict: Equatable, Sendable {
    /// The field's JSON path (`learningRate`, `model.hiddenSize`).
    public var field: String
    /// Both values, as JSON text ("none" when absent).
    public var saved: String
    public var given: String

    /// Compares `saved` and `given` as JSON objects, field by field in sorted order (nested objects
    /// by their fields, named `outer.inner`), skipping the paths in `mayChange`; nil when they agree.
    public static func first<Configuration: Encodable>(saved: Configuration, given: Configuration,
                                                       mayChange: Set<String>) -> ResumeConflict? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let a = try? encoder.encode(saved), let b = try? encoder.encode(given),
              let old = try? JSONSerialization.jsonObject(with: a), let new = try? JSONSerialization.jsonObject(with: b) else {
            return ResumeConflict(field: "configuration", saved: "\(saved)", given: "\(given)")
        }
        return first(old, new, path: "", mayChange: mayChange)
    }

    /// The error a trainer throws for it.
    public var error: CheckpointError { .configurationChanged(field: field, saved: saved, given: given) }

    private static func first(_ saved: Any?, _ given: Any?, path: String, mayChange: Set<String>) -> ResumeConflict? {
        if mayChange.contains(path) { return nil }
        if let old = saved as? [String: Any], let new = given as? [String: Any] {
            for key in Set(old.keys).union(new.keys).sorted() {
                if let conflict = first(old[key], new[key], path: path.isEmpty ? key : "\(path).\(key)", mayChange: mayChange) {
                    return conflict
                }
            }
            return nil
        }
        let (a, b) = (text(saved), text(given))
        return a == b ? nil : ResumeConflict(field: path.isEmpty ? "configuration" : path, saved: a, given: b)
    }

    private static func text(_ value: Any?) -> String {
        guard let value, !(value is NSNull) else { return "none" }
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) {
            return String(decoding: data, as: UTF8.self)
        }
        return "\(value)"
    }
}
