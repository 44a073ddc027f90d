import Foundation

/// A calendar date (and time) as written in a CSV cell: `1949`, `1949-01`, `1949-01-31`,
/// `1949-01-31 06:00`, `1949-01-31T06:00:00`; `/` may replace `-`. No time zones: the values are
/// taken as written (UTC).
public struct CalendarDate: Equatable, Sendable, Codable {
    /// How much of the date the cell gives.
    public enum Precision: Int, Codable, Sendable, Comparable {
        case year, month, day, minute, second
        public static func < (a: Precision, b: Precision) -> Bool { a.rawValue < b.rawValue }
    }

    public var year: Int
    public var month = 1
    public var day = 1
    public var hour = 0
    public var minute = 0
    public var second = 0
    public var precision: Precision

    /// Parses one cell; nil when it is not a date of the forms above.
    public init?(parsing text: String) {
        let characters = Array(text)
        var parts: [Int] = [], separators: [Character] = []
        var current = ""
        for c in characters {
            if c.isASCII && c.isNumber {
                current.append(c)
            } else {
                // A run of digits too long for an Int is no date either.
                guard "-/ T:".contains(c), let value = Int(current) else { return nil }
                parts.append(value)
                separators.append(c)
                current = ""
            }
        }
        guard !current.isEmpty, let last = Int(current) else { return nil }
        parts.append(last)
        // The year needs four digits, the other fields at most two.
        guard characters.prefix(while: { $0.isNumber }).count == 4, parts.count != 4, parts.count <= 6 else { return nil }
        let dateSeparators = separators.prefix(2)
        if let first = dateSeparators.first, !dateSeparators.allSatisfy({ $0 == first }) || !"-/".contains(first) { return nil }
        if parts.count > 3 {
            guard separators[2] == " " || separators[2] == "T", separators.dropFirst(3).allSatisfy({ $0 == ":" }) else { return nil }
        }
        year = parts[0]
        if parts.count > 1 { month = parts[1] }
        if parts.count > 2 { day = parts[2] }
        if parts.count > 3 { hour = parts[3]; minute = parts[4] }
        if parts.count > 5 { second = parts[5] }
        precision = [.year, .month, .day, .day, .minute, .second][parts.count - 1]
        guard (1...12).contains(month), (1...Self.daysIn(month: month, year: year)).contains(day),
              (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second) else { return nil }
    }

    public init(year: Int, month: Int = 1, day: Int = 1, hour: Int = 0, minute: Int = 0, second: Int = 0, precision: Precision) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.precision = precision
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Months since year 0.
    var monthIndex: Int { year * 12 + month - 1 }

    /// Days since 1970-01-01 (proleptic Gregorian calendar).
    var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Seconds since 1970-01-01 00:00:00.
    var secondsSinceEpoch: Int { dayNumber * 86_400 + hour * 3600 + minute * 60 + second }

    /// The date `days` days after 1970-01-01.
    static func fromDayNumber(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// The time axis of a series: its dates, and when they are evenly spaced the step, so that dates
/// can be continued past the end of the data (`forecast predict`).
///
/// Regular steps: a whole number of months (dates of month or year precision, or days that keep
/// their day of the month, such as month starts), or a fixed number of seconds (days, hours ...).
public struct DateAxis: Equatable, Sendable {
    public enum Step: Equatable, Sendable {
        case months(Int)
        case seconds(Int)
    }

    /// The column the dates come from.
    public var column: String
    /// The cells as written.
    public var labels: [String]
    /// The parsed dates, increasing.
    public var dates: [CalendarDate]
    /// The constant step between consecutive dates, or nil when they are irregular.
    public var step: Step?
    /// The separator between year, month and day in the file (`-` or `/`) and between date and time.
    var dateSeparator: Character = "-"
    var timeSeparator: Character = " "

    /// Parses a date column.
    /// - Throws: `ForecastDataError.badDate` for a cell that is no date or dates that do not increase.
    public init(column: String, labels: [String], lines: [Int]) throws {
        self.column = column
        self.labels = labels
        var dates: [CalendarDate] = []
        for (index, label) in labels.enumerated() {
            guard let date = CalendarDate(parsing: label) else {
                throw ForecastDataError.badDate(column: column, line: lines[index], value: label,
                                                reason: "is not a date (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS])")
            }
            if let previous = dates.last, previous.secondsSinceEpoch >= date.secondsSinceEpoch || previous.precision != date.precision {
                throw ForecastDataError.badDate(column: column, line: lines[index], value: label,
                                                reason: previous.precision != date.precision
                                                    ? "has another form than the dates before it"
                                                    : "is not later than the date before it (rows must be in chronological order)")
            }
            dates.append(date)
        }
        self.dates = dates
        if let sample = labels.first {
            if sample.contains("/") { dateSeparator = "/" }
            if sample.contains("T") { timeSeparator = "T" }
        }
        step = Self.regularStep(dates)
    }

    /// Whether every cell of `labels` is a date of month precision or finer (or of year precision
    /// when the column's name says "year"): the test used to detect a date column.
    public static func looksLikeDates(_ labels: [String], columnName: String) -> Bool {
        guard !labels.isEmpty else { return false }
        let allowYears = columnName.lowercased().contains("year")
        return labels.allSatisfy { label in
            guard let date = CalendarDate(parsing: label) else { return false }
            return date.precision != .year || allowYears
        }
    }

    private static func regularStep(_ dates: [CalendarDate]) -> Step? {
        guard dates.count >= 2, let first = dates.first else { return nil }
        if first.precision <= .month || (first.precision == .day && dates.allSatisfy({ $0.day == first.day })) {
            let step = dates[1].monthIndex - dates[0].monthIndex
            if step > 0 && zip(dates, dates.dropFirst()).allSatisfy({ $1.monthIndex - $0.monthIndex == step }) {
                return .months(step)
            }
        }
        if first.precision >= .day {
            let step = dates[1].secondsSinceEpoch - dates[0].secondsSinceEpoch
            if step > 0 && zip(dates, dates.dropFirst()).allSatisfy({ $1.secondsSinceEpoch - $0.secondsSinceEpoch == step }) {
                return .seconds(step)
            }
        }
        return nil
    }

    /// The `count` dates after the last one, written like the file's, or nil when the step is irregular.
    public func continuation(count: Int) -> [String]? {
        guard let step, let last = dates.last else { return nil }
        return (1...max(count, 1)).prefix(count).map { k in
            var date = last
            switch step {
            case .months(let months):
                let index = last.monthIndex + k * months
                date.year = index / 12
                date.month = index % 12 + 1
                date.day = min(last.day, CalendarDate.daysIn(month: date.month, year: date.year))
            case .seconds(let seconds):
                let total = last.secondsSinceEpoch + k * seconds
                let days = Int((Double(total) / 86_400).rounded(.down))
                let (y, m, d) = CalendarDate.fromDayNumber(days)
                let rest = total - days * 86_400
                date.year = y; date.month = m; date.day = d
                date.hour = rest / 3600; date.minute = rest % 3600 / 60; date.second = rest % 60
            }
            return format(date)
        }
    }

    private func format(_ date: CalendarDate) -> String {
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let s = String(dateSeparator)
        switch date.precision {
        case .year: return String(format: "%04d", date.year)
        case .month: return String(format: "%04d", date.year) + s + two(date.month)
        case .day: return String(format: "%04d", date.year) + s + two(date.month) + s + two(date.day)
        case .minute, .second:
            var text = String(format: "%04d", date.year) + s + two(date.month) + s + two(date.day)
                + String(timeSeparator) + two(date.hour) + ":" + two(date.minute)
            if date.precision == .second { text += ":" + two(date.second) }
            return text
        }
    }
}
