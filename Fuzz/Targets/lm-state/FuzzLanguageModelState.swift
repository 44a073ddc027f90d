import FuzzSupport
import RecurrentText

private let target = LanguageModelCheckpointTarget(replacing: TrainingCheckpoint.File.state)

/// The input as the `state.json` of a language-model checkpoint (see `LanguageModelCheckpointTarget`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLanguageModelState(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    target.run(FuzzDriver.data(bytes, count))
    return 0
}
