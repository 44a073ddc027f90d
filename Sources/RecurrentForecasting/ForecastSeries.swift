import Foundation
import RecurrentCore

/// What to do with missing cells (empty, `NA`, `N/A`, `NaN`, `null`, `?`) in the target and feature
/// columns.
public enum MissingValuePolicy: String, Codable, CaseIterable, Sendable {
    /// Stop with an error naming the column and line (the default).
    case error
    /// Repeat the last value before the gap; a gap at the very start is an error.
    case forward
    /// Interpolate linearly between the values around the gap; a gap at the start or end takes the
    /// nearest value.
    case linear
}

/// The columns of a CSV table used for forecasting.
public struct ForecastColumns: Codable, Equatable, Sendable {
    /// The column to forecast.
    public var target: String
    /// Extra input columns (exogenous variables), in order. Empty for a univariate series.
    public var features: [String]
    /// The date column; nil to detect it (the first other column whose every cell is a date).
    public var date: String?

    public init(target: String, features: [String] = [], date: String? = nil) {
        self.target = target
        self.features = features
        self.date = date
    }
}

/// A numeric multivariate time series read from a CSV table: channel 0 is the target, channels
/// 1... are the features; every channel has `count` finite values, oldest first.
public struct ForecastSeries: Sendable {
    /// Channel names: the target, then the features.
    public var names: [String]
    /// `channels[c][t]`: the value of channel c at time t, shape `(channelCount, count)`.
    public var channels: [[Double]]
    /// The line of the CSV each time step comes from (the header is line 1).
    public var lines: [Int]
    /// The dates, when a date column was given or detected.
    public var dateAxis: DateAxis?
    /// How many cells were missing and filled.
    public var filledCount: Int

    public var count: Int { channels[0].count }
    public var channelCount: Int { channels.count }
    public var target: [Double] { channels[0] }

    /// A series built directly from values (no CSV): `channels[0]` is the target.
    public init(names: [String], channels: [[Double]], dateAxis: DateAxis? = nil) {
        precondition(!channels.isEmpty && names.count == channels.count && channels.allSatisfy { $0.count == channels[0].count },
                     "ForecastSeries: one name per channel and channels of equal length")
        self.names = names
        self.channels = channels
        self.lines = Array(2..<(2 + channels[0].count))
        self.dateAxis = dateAxis
        self.filledCount = 0
    }

    /// The cells that mean "no value".
    public static let missingMarkers: Set<String> = ["", "na", "n/a", "nan", "null", "none", "?"]

    /// Selects, parses and fills the columns of `table`.
    /// - Throws: `ForecastDataError` for an unknown or repeated column, a non-numeric cell, a missing
    ///   value under `.error` (or one the policy cannot fill), or a bad date column.
    public init(table: CSVTable, columns: ForecastColumns, fill: MissingValuePolicy = .error) throws {
        let valueNames = [columns.target] + columns.features
        var used = Set<String>()
        for name in valueNames + (columns.date.map { [$0] } ?? []) where !used.insert(name).inserted {
            throw ForecastDataError.columnUsedTwice(name: name)
        }
        let indices = try valueNames.map { try table.columnIndex($0) }
        var filled = 0
        var channels: [[Double]] = []
        for (name, index) in zip(valueNames, indices) {
            let (values, count) = try Self.parse(table.column(index), column: name, lines: table.lines, fill: fill)
            channels.append(values)
            filled += count
        }
        var dateColumn = columns.date
        if dateColumn == nil {
            // By index: looking each name up again (firstIndex) made this quadratic in the number of
            // columns (a 100,000-column table took 40 s).
            let valueColumns = Set(indices)
            dateColumn = table.header.indices.first { index in
                !valueColumns.contains(index) && DateAxis.looksLikeDates(table.column(index), columnName: table.header[index])
            }.map { table.header[$0] }
        }
        if let dateColumn {
            dateAxis = try DateAxis(column: dateColumn, labels: table.column(try table.columnIndex(dateColumn)), lines: table.lines)
        }
        names = valueNames
        self.channels = channels
        lines = table.lines
        filledCount = filled
    }

    /// Parses one column into finite numbers, filling missing cells by `fill`; returns the values and
    /// how many were filled.
    static func parse(_ cells: [String], column: String, lines: [Int], fill: MissingValuePolicy) throws -> ([Double], Int) {
        var values = [Double?](repeating: nil, count: cells.count)
        for (t, cell) in cells.enumerated() {
            if missingMarkers.contains(cell.lowercased()) {
                if fill == .error { throw ForecastDataError.missingValue(column: column, line: lines[t]) }
                continue
            }
            // Plain decimal notation only: Double("0x10") would read a hexadecimal float as 16.
            guard DecimalSyntax.matches(cell.utf8), let value = Double(cell), value.isFinite else {
                throw ForecastDataError.nonNumeric(column: column, line: lines[t], value: cell)
            }
            values[t] = value
        }
        let known = values.indices.filter { values[$0] != nil }
        guard let firstKnown = known.first else {
            throw ForecastDataError.cannotFill(column: column, line: lines[0], reason: "the column has no values at all")
        }
        let missing = values.count - known.count
        switch fill {
        case .error:
            break
        case .forward:
            if firstKnown > 0 {
                throw ForecastDataError.cannotFill(column: column, line: lines[0],
                                                   reason: "forward fill needs a value before the gap (try --fill linear)")
            }
            for t in values.indices where values[t] == nil { values[t] = values[t - 1] }
        case .linear:
            var previous: Int? = nil
            for k in known {
                let start = (previous ?? -1) + 1
                for t in start..<k {
                    if let p = previous {
                        let w = Double(t - p) / Double(k - p)
                        values[t] = values[p]! * (1 - w) + values[k]! * w
                    } else {
                        values[t] = values[k]
                    }
                }
                previous = k
            }
            if let last = previous { for t in (last + 1)..<values.count { values[t] = values[last] } }
        }
        return (values.map { $0! }, missing)
    }
}
