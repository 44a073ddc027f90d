import FuzzSupport
import RecurrentText

private let scratch = ScratchDirectory()

/// Labelled text as `classify train|evaluate --data` reads it (`LabelledTextReader.read`) as a `.csv`
/// (quoted cells), a `.tsv` and a file without extension (delimiter guessed from the first line), then
/// the training set built from it at both token levels (`TextClassificationDataset`: labels,
/// vocabulary, encoding).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLabelledText(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = FuzzDriver.data(bytes, count)
    for name in ["data.csv", "data.tsv", "data"] {
        let file = scratch.write(data, as: name)
        guard let examples = try? LabelledTextReader.read(from: file) else { continue }
        for level in ClassificationVocabulary.Level.allCases {
            _ = try? TextClassificationDataset(training: examples, level: level, maxVocabularySize: 50, maxLength: 20, path: file.path)
        }
    }
    return 0
}
