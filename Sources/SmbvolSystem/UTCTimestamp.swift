/// UTC timestamps without Foundation's formatters.
public enum UTCTimestamp {
    public static func iso8601(secondsSinceEpoch: Double) -> String {
        var seconds = Int(secondsSinceEpoch.rounded(.down))
        let second = seconds % 60; seconds /= 60
        let minute = seconds % 60; seconds /= 60
        let hour = seconds % 24
        let (year, month, day) = civilDate(daysSinceEpoch: seconds / 24)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(hour)):\(two(minute)):\(two(second))Z"
    }

    /// `2026-01-31T12:00:00.123456Z`: `iso8601` with microseconds, for comparing instants.
    public static func preciseISO8601(secondsSinceEpoch: Double) -> String {
        let whole = secondsSinceEpoch.rounded(.down)
        let micros = min(999_999, max(0, Int(((secondsSinceEpoch - whole) * 1_000_000).rounded(.down))))
        let digits = String(micros)
        return String(iso8601(secondsSinceEpoch: whole).dropLast()) + "." + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }

    /// Parses what `preciseISO8601` (or `iso8601`) writes; nil for anything else.
    public static func secondsSinceEpoch(preciseISO8601 text: String) -> Double? {
        guard text.hasSuffix("Z") else { return nil }
        let parts = text.dropLast().split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = secondsSinceEpoch(iso8601: String(parts[0]) + "Z") else { return nil }
        guard parts.count == 2 else { return whole }
        let fraction = parts[1]
        guard (1...9).contains(fraction.count), fraction.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Double("0." + fraction) else {
            return nil
        }
        return whole + value
    }

    /// Parses what `iso8601` writes; nil for anything else.
    public static func secondsSinceEpoch(iso8601 text: String) -> Double? {
        let digits = text.split(whereSeparator: { "-T:Z".contains($0) }).compactMap { Int($0) }
        guard digits.count == 6, text.hasSuffix("Z") else { return nil }
        let days = daysSinceEpoch(year: digits[0], month: digits[1], day: digits[2])
        return Double(((days * 24 + digits[3]) * 60 + digits[4]) * 60 + digits[5])
    }

    // Howard Hinnant's days-from-civil algorithms.
    static func civilDate(daysSinceEpoch days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
