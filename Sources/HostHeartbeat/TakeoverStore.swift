import SmbvolSystem

/// Takeover records below a share's root, one directory per image file number so that a host
/// reads only the directories of the images its domains use:
///
///     .smbvol/takeovers/<file number>/<new host_id>-<unix seconds>-<random>.json
///
/// Written with the heartbeat records' no-follow, atomic file system; removed only by age.
public struct TakeoverStore: Sendable {
    public static let directory = [HeartbeatLayout.directory, "takeovers"]
    /// Entries listed (and read) per image directory.
    public static let maximumListedEntries = 1000

    public var fileSystem: any ShareFileSystem

    public init(fileSystem: any ShareFileSystem = NoFollowShareFileSystem()) { self.fileSystem = fileSystem }

    public static func imageDirectory(fileNumber: String) -> [String] { directory + [HeartbeatLayout.addressComponent(fileNumber)] }

    public static func isRecordFileName(_ name: String) -> Bool { name.hasSuffix(".json") && !name.hasPrefix(".") }

    /// Writes `record` as a new file; returns its path below the share root.
    @discardableResult
    public func write(_ record: TakeoverRecord, shareRoot: String) throws -> String {
        let bytes = try record.encoded()
        let directory = Self.imageDirectory(fileNumber: record.fileNumber)
        let name = "\(record.newHolder.hostID ?? "unknown")-\(Int(record.takenAt.rounded(.down)))-\(RandomIdentifier.hex(count: 8)).json"
        try fileSystem.replaceFile(root: shareRoot, directory: directory, name: name, bytes: bytes)
        return (directory + [name]).joined(separator: "/")
    }

    public enum Entry: Sendable, Equatable {
        case record(TakeoverRecord, file: String)
        case unusable(file: String, reason: String)
    }

    /// The records filed under `fileNumber` (none when the directory does not exist). A record
    /// filed under another file number than it names is unusable.
    public func records(fileNumber: String, shareRoot: String) -> [Entry] {
        let directory = Self.imageDirectory(fileNumber: fileNumber)
        let shown = directory.joined(separator: "/")
        let listing: ShareDirectoryListing
        do {
            listing = try fileSystem.listEntriesIfAny(root: shareRoot, path: directory, limit: Self.maximumListedEntries)
        } catch {
            return [.unusable(file: shown, reason: "\(error)")]
        }
        var result: [Entry] = []
        if listing.truncated {
            result.append(.unusable(file: shown, reason: "more than \(Self.maximumListedEntries) entries: only the first were read"))
        }
        for entry in listing.entries.sorted(by: { $0.name < $1.name }) where Self.isRecordFileName(entry.name) {
            let file = shown + "/" + entry.name
            do {
                let record = try TakeoverRecord.decode(
                    try fileSystem.readFile(root: shareRoot, path: directory + [entry.name], limit: TakeoverRecord.maximumBytes))
                guard record.fileNumber == fileNumber else {
                    result.append(.unusable(file: file, reason: "filed under file number \(fileNumber) but names file number \(record.fileNumber)"))
                    continue
                }
                result.append(.record(record, file: file))
            } catch ShareFileError.notFound {
                continue  // swept between the listing and the read
            } catch {
                result.append(.unusable(file: file, reason: "\(error)"))
            }
        }
        return result
    }

    /// Removes what is older than `olderThanSeconds` in the image's directory: a file whose
    /// modification time and, for a readable record, whose `taken_at` are both that old.
    @discardableResult
    public func sweep(fileNumber: String, shareRoot: String, now: Double, olderThanSeconds: Double = TakeoverRecord.retentionSeconds) -> [String] {
        let directory = Self.imageDirectory(fileNumber: fileNumber)
        guard let listing = try? fileSystem.listEntries(root: shareRoot, path: directory, limit: Self.maximumListedEntries) else { return [] }
        var removed: [String] = []
        for entry in listing.entries {
            guard let modified = entry.modified, now - modified > olderThanSeconds else { continue }
            if Self.isRecordFileName(entry.name),
                let bytes = try? fileSystem.readFile(root: shareRoot, path: directory + [entry.name], limit: TakeoverRecord.maximumBytes),
                let record = try? TakeoverRecord.decode(bytes), now - record.takenAt <= olderThanSeconds
            {
                continue
            }
            if (try? fileSystem.removeFile(root: shareRoot, directory: directory, name: entry.name)) != nil {
                removed.append((directory + [entry.name]).joined(separator: "/"))
            }
        }
        return removed
    }
}
