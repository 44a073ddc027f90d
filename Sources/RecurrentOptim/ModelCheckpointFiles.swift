import Foundation
import RecurrentCore

/// Reading the `config.json` of a checkpoint directory, written once for the commands whose
/// checkpoint is a `config.json` beside a `model.safetensors` (forecasting, classification,
/// translation): locate the files, read and parse the JSON, check its `format` and `formatVersion`,
/// decode it. Every failure is a one-line `CheckpointError` naming the file.
package enum ModelCheckpointFiles {
    private struct FormatHeader: Decodable {
        var format: String?
        var formatVersion: Int?
    }

    /// Decodes the configuration of the checkpoint at `path` (its directory or its configuration
    /// file) as `Contents`, after checking that it is `format` at `formatVersion`.
    /// - Returns: the contents and the URLs of the configuration and of the model file beside it.
    package static func readConfiguration<Contents: Decodable>(
        _ type: Contents.Type, at path: URL, configurationFile: String, modelFile: String, format: String, formatVersion: Int
    ) throws -> (contents: Contents, configurationURL: URL, modelURL: URL) {
        let path = path.standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
            throw CheckpointError.notFound(path: path.path)
        }
        let configurationURL = isDirectory.boolValue ? path.appendingPathComponent(configurationFile) : path
        let modelURL = configurationURL.deletingLastPathComponent().appendingPathComponent(modelFile)
        guard FileManager.default.fileExists(atPath: configurationURL.path) else {
            throw CheckpointError.missingFile(path: configurationURL.path)
        }
        let data = try readJSON(at: configurationURL)
        let header: FormatHeader
        do { header = try JSONDecoder().decode(FormatHeader.self, from: data) } catch {
            throw CheckpointError.malformed(path: configurationURL.path, reason: "not JSON (\(CheckpointError.describe(error)))")
        }
        guard header.format == format, let version = header.formatVersion else {
            throw CheckpointError.unsupportedVersion(path: configurationURL.path,
                                                     found: header.format.map { "'\($0)'" } ?? "none", supported: formatVersion)
        }
        guard version == formatVersion else {
            throw CheckpointError.unsupportedVersion(path: configurationURL.path, found: "version \(version)", supported: formatVersion)
        }
        do {
            return (try JSONDecoder().decode(Contents.self, from: data), configurationURL, modelURL)
        } catch {
            throw CheckpointError.malformed(path: configurationURL.path, reason: CheckpointError.describe(error))
        }
    }
}

extension ModelCheckpointFiles {
    /// The bytes of a checkpoint's JSON file (`config.json`, `vocabulary.json`, `state.json`): a
    /// regular file of at most `InputFile.jsonByteLimit` bytes.
    /// - Throws: `CheckpointError.missingFile`, or `.malformed` saying why it cannot be read (a FIFO,
    ///   a directory, too large, permissions).
    package static func readJSON(at url: URL) throws -> Data {
        try read(url, limit: InputFile.jsonByteLimit)
    }

    /// The bytes of a checkpoint file of at most `limit` bytes (`InputFile`), with the errors of `readJSON`.
    package static func read(_ url: URL, limit: Int) throws -> Data {
        do { return try InputFile.read(url, limit: limit) } catch let error as InputFileError {
            if error.problem == .notFound { throw CheckpointError.missingFile(path: url.path) }
            throw CheckpointError.malformed(path: url.path, reason: "cannot read it (\(error.reason))")
        }
    }

    /// Throws `CheckpointError.nonFinite` for the first tensor (by name) of the file at `path` that
    /// holds NaN or an infinity: loaded weights, optimizer state and carried states must be finite
    /// (one NaN makes every later result NaN; an infinite bias makes every forecast infinite).
    package static func requireFinite(_ tensors: [String: Tensor], path: String) throws {
        for name in tensors.keys.sorted() {
            let scalars = tensors[name]!.scalars
            if let index = scalars.firstIndex(where: { !$0.isFinite }) {
                throw CheckpointError.nonFinite(path: path, tensor: name, reason: "holds \(scalars[index]) at element \(index)")
            }
        }
    }
}

extension CheckpointError {
    /// An error's one-line description for a checkpoint message (decoding errors name the JSON path).
    package static func describe(_ error: any Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted(let context): return located(context, ErrorMessage.excerpt(context.debugDescription, maximumLength: 160))
            case .keyNotFound(let key, let context): return located(context, "missing field '\(key.stringValue)'")
            case .typeMismatch(let type, let context): return located(context, "expected \(type)")
            case .valueNotFound(let type, let context): return located(context, "expected \(type), found null")
            @unknown default: return "\(decoding)"
            }
        }
        return oneLine((error as? LocalizedError)?.errorDescription ?? "\(error)")
    }

    private static func located(_ context: DecodingError.Context, _ message: String) -> String {
        let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        var text = path.isEmpty ? message : "\(path): \(message)"
        if let underlying = context.underlyingError {
            text += " (\(ErrorMessage.excerpt((underlying as NSError).localizedDescription, maximumLength: 160)))"
        }
        return oneLine(text)
    }
}
