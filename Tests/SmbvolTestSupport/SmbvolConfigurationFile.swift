import Foundation

/// One TOML value as `smbvol.toml` and `shares.d/*.toml` use them: strings (escaped, so any path
/// or hostile text is written as given), integers, numbers, booleans and arrays of strings.
public enum TOMLValue: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral
{
    case string(String)
    case integer(Int)
    case number(Double)
    case boolean(Bool)
    case strings([String])

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
    public init(arrayLiteral elements: String...) { self = .strings(elements) }

    /// The value as TOML writes it.
    public var rendered: String {
        switch self {
        case .string(let text): return Self.quoted(text)
        case .integer(let number): return String(number)
        case .number(let number): return String(number)
        case .boolean(let flag): return flag ? "true" : "false"
        case .strings(let items): return "[" + items.map(Self.quoted).joined(separator: ", ") + "]"
        }
    }

    /// A TOML basic string: `"`, `\` and control characters escaped.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                result += String(format: "\\u%04X", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

/// Keys in the order they were set (a table prints as written, so a test's file reads like the
/// sample configuration).
public struct TOMLTable: Sendable, Equatable {
    public private(set) var entries: [(key: String, value: TOMLValue)] = []

    /// Keys whose value is nil are left out (a key a test writes only sometimes).
    public init(_ entries: KeyValuePairs<String, TOMLValue?> = [:]) {
        for (key, value) in entries { self[key] = value }
    }

    /// Setting an existing key replaces its value in place; nil removes it.
    public subscript(key: String) -> TOMLValue? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }

    public var rendered: String { entries.map { "\($0.key) = \($0.value.rendered)\n" }.joined() }

    public static func == (left: TOMLTable, right: TOMLTable) -> Bool {
        left.entries.map(\.key) == right.entries.map(\.key) && left.entries.map(\.value) == right.entries.map(\.value)
    }
}

/// `smbvol.toml` and its `shares.d/*.toml` for a test: top-level keys, `[policy]`,
/// `[cluster.NAME]` and `[share.NAME]` tables, built in code and written in one call.
///
///     var file = SmbvolConfigurationFile(["state_dir": .string(state), "mount_base": .string(base)])
///     file.policy["stale_after_seconds"] = 180
///     file.share("vms", ["export": "//sim/vms", "fs_path": "/vms", "local_path": .string(share)])
///     let path = try file.write(in: directory)   // directory/smbvol.toml
public struct SmbvolConfigurationFile: Sendable, Equatable {
    public var topLevel: TOMLTable
    /// `[policy]`; written only when it has a key.
    public var policy = TOMLTable()
    /// `[cluster.NAME]`, in the order added.
    public private(set) var clusters: [(name: String, table: TOMLTable)] = []
    /// `[share.NAME]` in `smbvol.toml`, in the order added.
    public private(set) var shares: [(name: String, table: TOMLTable)] = []
    /// `shares.d/FILE` (FILE without directory), each holding `[share.NAME]` tables, or any text
    /// (for files that must be wrong).
    public private(set) var shareFiles: [(file: String, text: String)] = []

    public init(_ topLevel: KeyValuePairs<String, TOMLValue?> = [:]) {
        self.topLevel = TOMLTable(topLevel)
    }

    public subscript(key: String) -> TOMLValue? {
        get { topLevel[key] }
        set { topLevel[key] = newValue }
    }

    /// Adds (or replaces) `[share.NAME]` in `smbvol.toml`.
    public mutating func share(_ name: String, _ keys: KeyValuePairs<String, TOMLValue?>) {
        Self.upsert(&shares, name, TOMLTable(keys))
    }

    /// Adds (or replaces) `[cluster.NAME]`.
    public mutating func cluster(_ name: String, _ keys: KeyValuePairs<String, TOMLValue?>) {
        Self.upsert(&clusters, name, TOMLTable(keys))
    }

    /// A `shares.d/FILE` holding these `[share.NAME]` tables.
    public mutating func shareFile(_ file: String, _ tables: [(name: String, keys: TOMLTable)]) {
        shareFiles.append((file, tables.map { "[share.\($0.name)]\n" + $0.keys.rendered }.joined(separator: "\n")))
    }

    /// A `shares.d/FILE` with exactly this text.
    public mutating func shareFile(_ file: String, text: String) {
        shareFiles.append((file, text))
    }

    /// The text of `smbvol.toml`.
    public var rendered: String {
        var sections = [topLevel.rendered]
        if !policy.entries.isEmpty { sections.append("[policy]\n" + policy.rendered) }
        sections += clusters.map { "[cluster.\($0.name)]\n" + $0.table.rendered }
        sections += shares.map { "[share.\($0.name)]\n" + $0.table.rendered }
        return sections.filter { !$0.isEmpty }.joined(separator: "\n")
    }

    /// Writes `smbvol.toml` (named `fileName`) into `directory` and every `shares.d` file beside
    /// it, creating the directories; returns the configuration file's path.
    @discardableResult
    public func write(in directory: String, fileName: String = "smbvol.toml") throws -> String {
        let fileManager = FileManager.default
        try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/" + fileName
        try rendered.write(toFile: path, atomically: true, encoding: .utf8)
        if !shareFiles.isEmpty {
            try fileManager.createDirectory(atPath: directory + "/shares.d", withIntermediateDirectories: true)
            for (file, text) in shareFiles {
                try text.write(toFile: directory + "/shares.d/" + file, atomically: true, encoding: .utf8)
            }
        }
        return path
    }

    private static func upsert(_ list: inout [(name: String, table: TOMLTable)], _ name: String, _ table: TOMLTable) {
        if let index = list.firstIndex(where: { $0.name == name }) { list[index].table = table } else { list.append((name, table)) }
    }

    public static func == (left: SmbvolConfigurationFile, right: SmbvolConfigurationFile) -> Bool {
        left.rendered == right.rendered && left.shareFiles.map(\.file) == right.shareFiles.map(\.file)
            && left.shareFiles.map(\.text) == right.shareFiles.map(\.text)
    }
}
