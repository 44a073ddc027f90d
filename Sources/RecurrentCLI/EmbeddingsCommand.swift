import ArgumentParser
import Foundation
import Recurrent

extension InitializationScheme: ExpressibleByArgument {}

/// `recurrent embeddings`: look into word embeddings, pretrained or learnt.
struct EmbeddingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embeddings",
        abstract: "Inspect word embeddings: a checkpoint's embedding or a GloVe/word2vec text file.",
        subcommands: [EmbeddingsNeighboursCommand.self, EmbeddingsExportCommand.self])
}

/// The embedding rows of a checkpoint as word vectors, one per vocabulary token.
private func checkpointVectors(_ path: String, best: Bool) throws -> WordVectors {
    let saved = try TrainingCheckpoint.load(from: URL(fileURLWithPath: path), pointer: best ? .best : .latest)
    let embedding = saved.model.embedding
    return WordVectors(words: saved.vocabulary.tokens, dimension: embedding.dimension, values: embedding.weight.value.scalars)
}

/// `recurrent embeddings export`.
struct EmbeddingsExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint's embedding as a GloVe text file (for --embeddings or other tools).",
        discussion: """
        One line per vocabulary token, `word v1 ... vd`; tokens that hold whitespace (at word level the \
        space and line-break tokens) cannot be written in the format and are left out. The file is \
        written atomically: on any error nothing is written.
        """)

    @Option(help: ArgumentHelp("A run directory (its latest checkpoint) or a checkpoint directory.", valueName: "dir"))
    var checkpoint: String

    @Flag(help: "Use the run's best checkpoint instead of the latest.")
    var best = false

    @Option(help: ArgumentHelp("The text file to write.", valueName: "file"))
    var out: String

    func run() throws {
        try Console.reportingErrors {
            let vectors = try checkpointVectors(checkpoint, best: best)
            let (text, skipped) = vectors.gloveText()
            try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: out))
            Console.line("wrote \(vectors.count - skipped) vectors of dimension \(vectors.dimension) to \(out)"
                         + (skipped > 0 ? " (\(skipped) tokens holding whitespace left out)" : ""))
        }
    }
}

/// `recurrent embeddings neighbours`.
struct EmbeddingsNeighboursCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neighbours",
        abstract: "Print the words nearest to a word by cosine similarity of their vectors.",
        discussion: """
        The vectors are the embedding rows of a trained language model (--checkpoint, one row per \
        vocabulary token) or the lines of a GloVe or word2vec text file (--vectors). The word itself is \
        left out; ties keep vocabulary (file) order.

        Example: recurrent embeddings neighbours --checkpoint runs/words --word king --count 5
        """,
        aliases: ["neighbors"])

    @Option(help: ArgumentHelp("A run directory (its latest checkpoint) or a checkpoint directory.", valueName: "dir"))
    var checkpoint: String?

    @Flag(help: "With --checkpoint: use the run's best checkpoint instead of the latest.")
    var best = false

    @Option(help: ArgumentHelp("A GloVe or word2vec text file instead of a checkpoint.", valueName: "file"))
    var vectors: String?

    @Option(help: ArgumentHelp("The word whose neighbours to print (as the vocabulary or file has it).", valueName: "word"))
    var word: String

    @Option(help: ArgumentHelp("How many neighbours to print.", valueName: "K"))
    var count = 10

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func validate() throws {
        guard (checkpoint == nil) != (vectors == nil) else {
            throw ValidationError("give exactly one of --checkpoint DIR and --vectors FILE")
        }
        guard count >= 1 else { throw ValidationError("--count must be at least 1, got \(count)") }
        if best && checkpoint == nil { throw ValidationError("--best needs --checkpoint") }
    }

    func run() throws {
        try Console.reportingErrors {
            let table: WordVectors
            let source: String
            if let checkpoint {
                table = try checkpointVectors(checkpoint, best: best)
                source = "the vocabulary of \(checkpoint)"
            } else {
                table = try WordVectors.load(contentsOf: URL(fileURLWithPath: vectors!))
                source = vectors!
            }
            guard let neighbours = table.nearest(to: word, count: count) else {
                throw ValidationError("'\(word)' is not in \(source) (\(table.count) words)")
            }
            if json {
                Console.printJSON([
                    "word": word, "source": source, "words": table.count, "dimension": table.dimension,
                    "neighbours": neighbours.map { ["word": $0.word, "similarity": $0.similarity] },
                ])
                return
            }
            Console.line("nearest to \(Self.display(word)) by cosine similarity (\(table.count) words of dimension \(table.dimension)):")
            let width = neighbours.map { Self.display($0.word).count }.max() ?? 0
            for (rank, neighbour) in neighbours.enumerated() {
                let name = Self.display(neighbour.word)
                Console.line(String(format: "%3d  ", rank + 1) + name + String(repeating: " ", count: width - name.count)
                             + String(format: "  %.4f", neighbour.similarity))
            }
        }
    }

    /// A token as printed: as it is, or quoted with escapes when it holds whitespace or controls.
    static func display(_ token: String) -> String {
        guard token.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 }) else { return token }
        return "\"" + token.unicodeScalars.map { $0.escaped(asASCII: false) }.joined() + "\""
    }
}
