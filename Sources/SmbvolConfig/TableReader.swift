import TOMLKit

/// Reads one TOML table against a fixed set of keys: every key must be known and of the right
/// type, and every error names the file, the key and its line.
struct TableReader {
    let table: TOMLTable
    /// The table's own path (`[]` for the root, `["share", "vms"]` for `[share.vms]`).
    let path: [String]
    let file: String
    let lines: KeyLineIndex

    func rejectUnknownKeys(allowed: Set<String>) throws {
        for key in table.keys.sorted() where !allowed.contains(key) {
            let expected = allowed.sorted().joined(separator: ", ")
            throw error(key, "unknown key (known keys here: \(expected))")
        }
    }

    func string(_ key: String) throws -> String? {
        guard let value = table[key] else { return nil }
        guard let string = value.string else { throw wrongType(key, expected: "a string", got: value) }
        return string
    }

    func nonEmptyString(_ key: String) throws -> String? {
        guard let string = try string(key) else { return nil }
        guard !string.isEmpty else { throw error(key, "must not be empty") }
        return string
    }

    func absolutePath(_ key: String) throws -> String? {
        guard let string = try nonEmptyString(key) else { return nil }
        guard string.hasPrefix("/") else { throw error(key, "must be an absolute path, got \"\(string)\"") }
        return string
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = table[key] else { return nil }
        guard let bool = value.bool else { throw wrongType(key, expected: "true or false", got: value) }
        return bool
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = table[key] else { return nil }
        guard value.type == .int, let int = value.int else { throw wrongType(key, expected: "an integer", got: value) }
        guard range.contains(int) else {
            throw error(key, "must be between \(range.lowerBound) and \(range.upperBound), got \(int)")
        }
        return int
    }

    /// A number of seconds: integer or float, positive.
    func seconds(_ key: String) throws -> Double? {
        guard let value = table[key] else { return nil }
        let seconds: Double
        switch value.type {
        case .int: seconds = Double(value.int ?? 0)
        case .double: seconds = value.double ?? 0
        default: throw wrongType(key, expected: "a number of seconds", got: value)
        }
        guard seconds > 0, seconds.isFinite else { throw error(key, "must be a positive number of seconds") }
        return seconds
    }

    func stringArray(_ key: String) throws -> [String]? {
        guard let value = table[key] else { return nil }
        guard let array = value.array else { throw wrongType(key, expected: "a list of strings", got: value) }
        var strings: [String] = []
        for element in array {
            guard let string = element.string else {
                throw wrongType(key, expected: "a list of strings", got: element)
            }
            strings.append(string)
        }
        return strings
    }

    func subtable(_ key: String) throws -> TableReader? {
        guard let value = table[key] else { return nil }
        guard let subtable = value.table else { throw wrongType(key, expected: "a table", got: value) }
        return TableReader(table: subtable, path: path + [key], file: file, lines: lines)
    }

    func error(_ key: String, _ message: String) -> ConfigurationError {
        let keyPath = path + [key]
        return ConfigurationError(
            file: file, line: lines.line(of: keyPath), key: keyPath.joined(separator: "."), message: message)
    }

    private func wrongType(_ key: String, expected: String, got value: any TOMLValueConvertible) -> ConfigurationError {
        error(key, "must be \(expected), not \(Self.describe(value.type))")
    }

    private static func describe(_ type: TOMLType) -> String {
        switch type {
        case .table: return "a table"
        case .array: return "a list"
        case .string: return "a string"
        case .int: return "an integer"
        case .double: return "a floating-point number"
        case .bool: return "a boolean"
        case .date, .time, .dateTime: return "a date/time"
        }
    }
}
