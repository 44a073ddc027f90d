import Foundation
import RecurrentCore
import RecurrentFormats

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
        let data: Data
        do { data = try Data(contentsOf: configurationURL) } catch {
            throw CheckpointError.malformed(path: configurationURL.path, reason: "cannot read it (\(error.localizedDescription))")
        }
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

    /// The bytes of the checkpoint file at `url`.
    /// - Throws: `CheckpointError.missingFile` or `.malformed`.
    package static func readFile(at url: URL) throws -> Data {
        guard FileManager.default.fileExists(atPath: url.path) else { throw CheckpointError.missingFile(path: url.path) }
        do { return try Data(contentsOf: url) } catch {
            throw CheckpointError.malformed(path: url.path, reason: "cannot read it (\(error.localizedDescription))")
        }
    }

    /// The tensors of the safetensors checkpoint file at `url`, every value finite.
    /// - Throws: `CheckpointError.missingFile`, `.malformed`, or `.weightsMismatch` naming a tensor
    ///   that holds NaN or infinity.
    package static func readFiniteTensors(at url: URL) throws -> [String: Tensor] {
        guard FileManager.default.fileExists(atPath: url.path) else { throw CheckpointError.missingFile(path: url.path) }
        let tensors: [String: Tensor]
        do { tensors = try SafetensorsFile(contentsOf: url).tensors() } catch {
            throw CheckpointError.malformed(path: url.path, reason: CheckpointError.describe(error))
        }
        if let name = tensors.keys.sorted().first(where: { !tensors[$0]!.scalars.allSatisfy(\.isFinite) }) {
            throw CheckpointError.weightsMismatch(path: url.path, reason: "'\(name)' holds values that are not finite")
        }
        return tensors
    }
}

extension CheckpointError {
    /// An error's one-line description for a checkpoint message (decoding errors name the JSON path).
    package static func describe(_ error: any Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted(let context): return located(context, context.debugDescription)
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
        if let underlying = context.underlyingError { text += " (\((underlying as NSError).localizedDescription))" }
        return oneLine(text)
    }
}
