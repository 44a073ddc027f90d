import FuzzSupport
import RecurrentForecasting

private let scratch = ScratchDirectory()

/// A CSV table as `forecast train|predict --csv` reads it (`CSVTable.load`: UTF-8, SwiftCSV's
/// parsing, ragged rows, duplicate headers), then the series `ForecastSeries` takes from it under each
/// missing-value policy: the last column as the target with the date column detected, and the first
/// column as the target with every other column as a feature.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let file = scratch.write(FuzzDriver.data(bytes, count), as: "table.csv")
    guard let table = try? CSVTable.load(from: file) else { return 0 }
    let header = table.header
    for fill in MissingValuePolicy.allCases {
        _ = try? ForecastSeries(table: table, columns: ForecastColumns(target: header[header.count - 1]), fill: fill)
        _ = try? ForecastSeries(table: table, columns: ForecastColumns(target: header[0], features: Array(header.dropFirst())), fill: fill)
    }
    return 0
}
