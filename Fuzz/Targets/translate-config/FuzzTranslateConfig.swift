import FuzzSupport
import RecurrentText

private let scratch = ScratchDirectory(fixture: "translate")

/// The input as the `config.json` of a translator beside the committed `model.safetensors`
/// (`Fuzz/Fixtures/translate`), loaded as `translate predict` loads it (`TranslationCheckpoint.load`),
/// then one source translated greedily and by a beam of 2.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTranslateConfig(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    scratch.write(FuzzDriver.data(bytes, count), as: TranslationCheckpoint.configurationFile)
    guard let (translator, _) = try? TranslationCheckpoint.load(from: scratch.url) else { return 0 }
    for beamWidth in [1, 2] { _ = translator.translate(["3 March 2021"], beamWidth: beamWidth) }
    return 0
}
