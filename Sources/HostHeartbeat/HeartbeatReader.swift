/// Reads heartbeat records from a share, bounded: only the files asked for, each at most
/// `HeartbeatRecord.maximumBytes`, regular files only, no symlink followed, strictly validated.
/// Nothing read here can fail the caller: an unusable file becomes an `.unusable` entry saying
/// why, which the hygiene ignores (with a warning) — records only ever add liveness.
public struct HeartbeatReader: Sendable {
    /// An address is normally listed by one host; more entries than this are not read.
    public static let maximumRecordsPerAddress = 16
    /// `holders` lists at most this many hosts per share.
    public static let maximumHosts = 100_000

    public enum Entry: Sendable, Equatable {
        /// A valid record, and the file it came from (below the share root).
        case record(HeartbeatRecord, file: String)
        case unusable(file: String, reason: String)
    }

    public var fileSystem: any ShareFileSystem

    public init(fileSystem: any ShareFileSystem = NoFollowShareFileSystem()) { self.fileSystem = fileSystem }

    /// The records in `by-address/<address>/`: one directory listing plus one read per entry.
    /// No directory (nobody lists the address) is no entry.
    public func records(forAddress address: String, shareRoot: String) -> [Entry] {
        entries(in: HeartbeatLayout.addressDirectory(address), shareRoot: shareRoot, limit: Self.maximumRecordsPerAddress)
    }

    /// Every host's record in `hosts/` (the fleet view; this one grows with the hosts).
    public func allRecords(shareRoot: String) -> [Entry] {
        entries(in: HeartbeatLayout.hostsDirectory, shareRoot: shareRoot, limit: Self.maximumHosts)
    }

    /// One host's own record in `hosts/`, nil when there is none.
    public func record(hostID: String, shareRoot: String) -> Entry? {
        let path = HeartbeatLayout.hostRecordPath(hostID: hostID)
        do {
            return try read(path, shareRoot: shareRoot, expectedHostID: hostID)
        } catch ShareFileError.notFound {
            return nil
        } catch {
            return .unusable(file: path.joined(separator: "/"), reason: "\(error)")
        }
    }

    func entries(in directory: [String], shareRoot: String, limit: Int) -> [Entry] {
        let shown = directory.joined(separator: "/")
        let names: [String]
        do {
            names = try fileSystem.listDirectory(root: shareRoot, path: directory, limit: limit)
        } catch ShareFileError.notFound {
            return []
        } catch {
            return [.unusable(file: shown, reason: "\(error)")]
        }
        var result: [Entry] = []
        // Temporaries of writers (and anything else) are not records.
        for name in names.sorted() where HeartbeatLayout.isRecordFileName(name) {
            let hostID = String(name.dropLast(5))
            do {
                result.append(try read(directory + [name], shareRoot: shareRoot, expectedHostID: hostID))
            } catch ShareFileError.notFound {
                continue  // removed between the listing and the read
            } catch {
                result.append(.unusable(file: shown + "/" + name, reason: "\(error)"))
            }
        }
        return result
    }

    func read(_ path: [String], shareRoot: String, expectedHostID: String) throws -> Entry {
        let shown = path.joined(separator: "/")
        let bytes = try fileSystem.readFile(root: shareRoot, path: path, limit: HeartbeatRecord.maximumBytes)
        let record: HeartbeatRecord
        do {
            record = try HeartbeatRecord.decode(bytes)
        } catch {
            return .unusable(file: shown, reason: "\(error)")
        }
        guard record.hostID == expectedHostID else {
            return .unusable(file: shown, reason: "the file is named for host \(expectedHostID) but the record is of host \(record.hostID)")
        }
        return .record(record, file: shown)
    }
}
