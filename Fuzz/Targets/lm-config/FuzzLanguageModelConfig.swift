import FuzzSupport
import RecurrentText

private let target = LanguageModelCheckpointTarget(replacing: TrainingCheckpoint.File.configuration)

/// The input as the `config.json` of a language-model checkpoint (see `LanguageModelCheckpointTarget`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLanguageModelConfig(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    target.run(FuzzDriver.data(bytes, count))
    return 0
}
