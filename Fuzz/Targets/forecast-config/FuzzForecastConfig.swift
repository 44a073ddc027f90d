import Foundation
import FuzzSupport
import RecurrentForecasting

private let scratch = ScratchDirectory(fixture: "forecast")
/// The table the fixture was trained on (committed beside it).
private let table: CSVTable = {
    do { return try CSVTable.load(from: scratch.file("series.csv")) } catch { fatalError("the forecast fixture's series.csv: \(error)") }
}()

/// The input as the `config.json` of a forecast checkpoint beside the committed `model.safetensors`
/// (`Fuzz/Fixtures/forecast`), loaded as `forecast predict` loads it (`ForecastCheckpoint.load`), then
/// what `forecast predict` does with it: the series of the checkpoint's columns and fill policy,
/// forecast after its end with the prediction interval.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzForecastConfig(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    scratch.write(FuzzDriver.data(bytes, count), as: ForecastCheckpoint.configurationFile)
    guard let (forecaster, _) = try? ForecastCheckpoint.load(from: scratch.url),
          let series = try? ForecastSeries(table: table, columns: forecaster.configuration.columns, fill: forecaster.configuration.fill)
    else { return 0 }
    _ = try? forecaster.forecastAfterEnd(series)
    return 0
}
