import FuzzSupport
import RecurrentFormats

private let scratch = ScratchDirectory()

/// A GloVe or word2vec text file as `--embeddings` and `embeddings neighbours --vectors` read it
/// (`WordVectors.load`), then the queries run on what it holds: the neighbours of the first word and
/// the GloVe text written back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWordVectors(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let file = scratch.write(FuzzDriver.data(bytes, count), as: "vectors.txt")
    guard let vectors = try? WordVectors.load(contentsOf: file) else { return 0 }
    _ = vectors.nearest(to: vectors.words[0], count: 3)
    _ = vectors.gloveText()
    return 0
}
