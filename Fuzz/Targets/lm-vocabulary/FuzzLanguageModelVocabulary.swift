import FuzzSupport
import RecurrentText

private let target = LanguageModelCheckpointTarget(replacing: TrainingCheckpoint.File.vocabulary)

/// The input as the `vocabulary.json` of a language-model checkpoint (see `LanguageModelCheckpointTarget`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLanguageModelVocabulary(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    target.run(FuzzDriver.data(bytes, count))
    return 0
}
