import SmbvolSystem

/// One line of /proc/self/mountinfo (escapes such as `\040` decoded).
public struct MountTableEntry: Sendable, Equatable {
    public var mountID: Int
    public var parentID: Int
    /// The path inside the mounted filesystem that appears at `mountPoint` (bind mounts).
    public var root: String
    public var mountPoint: String
    public var fileSystemType: String
    public var source: String

    public init(mountID: Int, parentID: Int, root: String = "/", mountPoint: String, fileSystemType: String, source: String) {
        self.mountID = mountID
        self.parentID = parentID
        self.root = root
        self.mountPoint = mountPoint
        self.fileSystemType = fileSystemType
        self.source = source
    }
}

/// Where mount-table text comes from: /proc/self/mountinfo in production, a string in tests.
public protocol MountTableReading: Sendable {
    func readMountInfo() throws -> String
}

public struct ProcMountTableReader: MountTableReading {
    public let path: String
    public init(path: String = "/proc/self/mountinfo") { self.path = path }
    public func readMountInfo() throws -> String { String(decoding: try readWholeFile(path), as: UTF8.self) }
}

/// The mounts visible to this process.
public struct MountTable: Sendable, Equatable {
    public var entries: [MountTableEntry]

    public init(entries: [MountTableEntry]) { self.entries = entries }

    public static func read(from reader: any MountTableReading) throws -> MountTable {
        MountTable(parsing: try reader.readMountInfo())
    }

    /// Parses mountinfo text; malformed lines are skipped.
    public init(parsing text: String) {
        entries = text.split(separator: "\n").compactMap(Self.parseLine)
    }

    /// The mount visible at `path`: with stacked mounts, the last one mounted on top.
    public func entry(at path: String) -> MountTableEntry? {
        let wanted = Self.trimTrailingSlash(path)
        return entries.last { Self.trimTrailingSlash($0.mountPoint) == wanted }
    }

    static func parseLine(_ line: Substring) -> MountTableEntry? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 10, let separator = fields.firstIndex(of: "-"), separator >= 6,
            separator + 2 < fields.count, let mountID = Int(fields[0]), let parentID = Int(fields[1])
        else { return nil }
        return MountTableEntry(
            mountID: mountID, parentID: parentID, root: unescape(fields[3]), mountPoint: unescape(fields[4]),
            fileSystemType: unescape(fields[separator + 1]), source: unescape(fields[separator + 2]))
    }

    /// Decodes the kernel's octal escapes (`\040` space, `\011` tab, `\012` newline, `\134` `\`).
    static func unescape(_ field: Substring) -> String {
        var bytes: [UInt8] = []
        let raw = Array(field.utf8)
        var index = 0
        while index < raw.count {
            if raw[index] == UInt8(ascii: "\\"), index + 4 <= raw.count {
                let digits = raw[(index + 1)..<(index + 4)]
                if digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") }) {
                    let value = digits.reduce(0) { $0 * 8 + Int($1 - UInt8(ascii: "0")) }
                    if value <= 255 {
                        bytes.append(UInt8(value))
                        index += 4
                        continue
                    }
                }
            }
            bytes.append(raw[index])
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func trimTrailingSlash(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }
}
