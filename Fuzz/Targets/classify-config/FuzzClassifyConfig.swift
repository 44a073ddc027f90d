import FuzzSupport
import RecurrentText

private let scratch = ScratchDirectory(fixture: "classify")

/// The input as the `config.json` of a classifier beside the committed `model.safetensors`
/// (`Fuzz/Fixtures/classify`), loaded as `classify predict|evaluate` load it
/// (`TextClassificationCheckpoint.load`), then two texts classified with it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClassifyConfig(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    scratch.write(FuzzDriver.data(bytes, count), as: TextClassificationCheckpoint.configurationFile)
    guard let (classifier, _) = try? TextClassificationCheckpoint.load(from: scratch.url) else { return 0 }
    _ = classifier.predict(["the plot was not bad at all", "?"])
    return 0
}
