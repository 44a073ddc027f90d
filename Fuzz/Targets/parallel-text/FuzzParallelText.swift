import FuzzSupport
import RecurrentText

private let scratch = ScratchDirectory()

/// A parallel text as `translate train --pairs` reads it (`ParallelCorpus(contentsOf:level:)`) at both
/// levels, then what training builds from it before the first step (the split and both vocabularies,
/// `TranslationTrainer.init`); and the same bytes as `translate predict` input (`TranslationInput`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParallelText(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = FuzzDriver.data(bytes, count)
    let file = scratch.write(data, as: "pairs.tsv")
    for level in TranslationLevel.allCases {
        _ = try? TranslationInput(data: data, level: level, label: "<stdin>")
        guard let corpus = try? ParallelCorpus(contentsOf: file, level: level) else { continue }
        var configuration = TranslationConfiguration()
        configuration.level = level
        configuration.maxVocabularySize = 50
        if let trainer = try? TranslationTrainer(configuration: configuration, corpus: corpus) {
            _ = trainer.maxOutputLength
            _ = trainer.trainingPairs.map { trainer.sourceVocabulary.encode($0.source) }
        }
    }
    return 0
}
