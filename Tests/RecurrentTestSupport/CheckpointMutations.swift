import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Mutates a JSON file of a saved checkpoint field by field and checks what loading does with each
/// mutation: it must either refuse it with one short line of a typed error, or give a model that
/// runs and produces finite results — never trap, never allocate without bound, never take long.
///
/// Every field is visited (objects recursively; an array as a whole and through its first element),
/// and each receives every `Mutation`: huge integers (1e9, 1e12, 1e18, `Int.max`), negative, zero,
/// a fraction, strings (`"x"`, `"NaN"`, `"inf"`, `"0x10"`, 100 KB of text), `null`, a boolean, an
/// empty array or object, and removal.
public enum CheckpointMutations {
    /// One replacement of a field's value.
    public struct Mutation: CustomStringConvertible {
        public var description: String
        /// The new value (a JSON object from `JSONSerialization`'s vocabulary); nil removes the field.
        public var value: Any?
    }

    /// 100 KB of text, to check that error messages do not echo a whole bad value.
    public static let longText = String(repeating: "abcdefghij", count: 10_000)

    /// The mutations applied to every field.
    public static var all: [Mutation] { [
        Mutation(description: "1e9", value: 1_000_000_000),
        Mutation(description: "1e12", value: 1_000_000_000_000),
        Mutation(description: "1e18", value: 1_000_000_000_000_000_000),
        Mutation(description: "Int.max", value: Int.max),
        Mutation(description: "Int.min", value: Int.min),
        Mutation(description: "-1", value: -1),
        Mutation(description: "0", value: 0),
        Mutation(description: "1", value: 1),
        Mutation(description: "0.5", value: 0.5),
        Mutation(description: "1e300", value: 1e300),
        Mutation(description: "\"x\"", value: "x"),
        Mutation(description: "\"NaN\"", value: "NaN"),
        Mutation(description: "\"inf\"", value: "inf"),
        Mutation(description: "\"0x10\"", value: "0x10"),
        Mutation(description: "100 KB string", value: longText),
        Mutation(description: "null", value: NSNull()),
        Mutation(description: "true", value: true),
        Mutation(description: "[]", value: [Int]()),
        Mutation(description: "{}", value: [String: Int]()),
        Mutation(description: "removed", value: nil),
    ] }

    /// What happened to the mutations of one file.
    public struct Report: CustomStringConvertible {
        /// Mutations that loading refused with a proper error.
        public var refused = 0
        /// Mutations that loaded and ran.
        public var accepted = 0
        /// Every problem: "field ← mutation: what went wrong".
        public var failures: [String] = []
        /// The slowest mutation and its time in seconds.
        public var slowest: (String, Double) = ("", 0)
        /// The time all loads and runs took, in seconds.
        public var seconds = 0.0

        public var description: String {
            "\(refused) refused, \(accepted) accepted in \(String(format: "%.2f", seconds)) s, slowest \(slowest.0) \(String(format: "%.3f", slowest.1)) s"
                + (failures.isEmpty ? "" : "; failures:\n" + failures.joined(separator: "\n"))
        }
    }

    /// The longest error message accepted (a path or two plus one short reason).
    public static let maximumMessageLength = 600

    /// Applies every mutation to every field of the JSON file at `url` (restoring it afterwards) and
    /// calls `load` then `run` on the loaded value for each.
    /// - Parameters:
    ///   - skip: fields (dotted paths, array elements as `0`) left alone, with their sub-fields.
    ///   - isLoadError: whether an error thrown by `load` is of the expected type.
    ///   - run: exercises what loaded; returns the numbers it produced, which must be finite. Errors it
    ///     throws must be typed, one-line errors too (bad input met while running, such as a series
    ///     shorter than a window).
    ///   - timeLimit: the most seconds one load and run may take.
    public static func check<Loaded>(_ url: URL, skip: Set<String> = [], timeLimit: Double,
                                      isLoadError: (any Error) -> Bool, load: () throws -> Loaded,
                                      run: (Loaded) throws -> [Double]) throws -> Report {
        let original = try Data(contentsOf: url)
        defer { try? overwrite(url, with: original) }
        let object = try JSONSerialization.jsonObject(with: original)
        var report = Report()
        // RECURRENT_MUTATION_TRACE=1 prints each mutation before it is tried (to find one that traps).
        let trace = ProcessInfo.processInfo.environment["RECURRENT_MUTATION_TRACE"] != nil
        for path in paths(in: object) where !skip.contains(where: { path == $0 || path.hasPrefix($0 + ".") }) {
            for mutation in all {
                let label = "\(path) ← \(mutation)"
                let mutated = replacing(path.split(separator: ".").map(String.init)[...], in: object, with: mutation.value)
                try overwrite(url, with: JSONSerialization.data(withJSONObject: mutated))
                if trace { FileHandle.standardError.write(Data("mutation \(url.lastPathComponent) \(label)\n".utf8)) }
                let start = DispatchTime.now().uptimeNanoseconds
                let failure = attempt(isLoadError: isLoadError, load: load, run: run, counting: &report)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                if let failure { report.failures.append("\(label): \(failure)") }
                if seconds > timeLimit { report.failures.append("\(label): took \(String(format: "%.2f", seconds)) s") }
                if seconds > report.slowest.1 { report.slowest = (label, seconds) }
                report.seconds += seconds
            }
        }
        if trace { FileHandle.standardError.write(Data("mutations of \(url.lastPathComponent): \(report)\n".utf8)) }
        return report
    }

    /// Replaces the file at `url` by a new one with `data`: removing and creating it is two orders of
    /// magnitude faster on ext4 than truncating or renaming over it, which flush the old blocks.
    private static func overwrite(_ url: URL, with data: Data) throws {
        unlink(url.path)
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path]) }
        defer { close(descriptor) }
        let written = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == data.count else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path]) }
    }

    /// Loads and runs once; returns what went wrong, or nil.
    private static func attempt<Loaded>(isLoadError: (any Error) -> Bool, load: () throws -> Loaded,
                                        run: (Loaded) throws -> [Double], counting report: inout Report) -> String? {
        let loaded: Loaded
        do { loaded = try load() } catch {
            report.refused += 1
            guard isLoadError(error) else { return "unexpected error type \(type(of: error)): \(error)" }
            return problem(with: error)
        }
        do {
            let values = try run(loaded)
            if let bad = values.first(where: { !$0.isFinite }) { return "accepted, and running it gave \(bad)" }
        } catch {
            report.refused += 1
            return problem(with: error)
        }
        report.accepted += 1
        return nil
    }

    /// Why `error`'s message is not one short line, or nil when it is.
    private static func problem(with error: any Error) -> String? {
        guard let message = (error as? LocalizedError)?.errorDescription else { return "not a LocalizedError: \(error)" }
        if message.contains("\n") { return "message of several lines: \(message)" }
        if message.count > maximumMessageLength { return "message of \(message.count) characters: \(message.prefix(200))…" }
        return nil
    }

    /// The dotted paths of every field of `object`: object members recursively, arrays as a whole and
    /// through their first element (`0`).
    public static func paths(in object: Any) -> [String] {
        var result: [String] = []
        func visit(_ value: Any, _ prefix: String) {
            if let dictionary = value as? [String: Any] {
                for key in dictionary.keys.sorted() {
                    let path = prefix.isEmpty ? key : prefix + "." + key
                    result.append(path)
                    visit(dictionary[key]!, path)
                }
            } else if let array = value as? [Any], let first = array.first {
                let path = prefix + ".0"
                result.append(path)
                visit(first, path)
            }
        }
        visit(object, "")
        return result
    }

    /// `object` with the field at `path` replaced by `value` (removed when nil).
    static func replacing(_ path: ArraySlice<String>, in object: Any, with value: Any?) -> Any {
        guard let key = path.first else { return value ?? NSNull() }
        let rest = path.dropFirst()
        if var dictionary = object as? [String: Any] {
            if rest.isEmpty {
                dictionary[key] = value
            } else if let child = dictionary[key] {
                dictionary[key] = replacing(rest, in: child, with: value)
            }
            return dictionary
        }
        if var array = object as? [Any], let index = Int(key), array.indices.contains(index) {
            if rest.isEmpty {
                if let value { array[index] = value } else { array.remove(at: index) }
            } else {
                array[index] = replacing(rest, in: array[index], with: value)
            }
            return array
        }
        return object
    }
}
