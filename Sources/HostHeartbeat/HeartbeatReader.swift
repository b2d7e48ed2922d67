import SmbvolSystem

/// Reads heartbeat records from a share, bounded: only the files asked for, each at most
/// `HeartbeatRecord.maximumBytes`, regular files only, no symlink followed, validated by the
/// one codec (`HeartbeatRecord.decodeReporting`). Nothing read here can fail the caller: an
/// unusable file becomes an `.unusable` entry saying why, which the hygiene ignores (with a
/// warning) — records only ever add liveness — and an unusable entry inside a record is dropped
/// alone, the rest of the record standing.
public struct HeartbeatReader: Sendable {
    /// An address is normally listed by one host, but a reinstalled host (new machine-id), a
    /// reused address or many hosts behind one NAT address put more records under it. The newest
    /// this many (by modification time) are read; a host that beats rewrites its record every
    /// interval, so a live holder's record is always among them. The rest are reported, never a
    /// reason to ignore the ones read.
    public static let maximumRecordsPerAddress = 32
    /// Names listed per directory (listing is cheap; reading is not).
    public static let maximumListedEntries = 100_000
    /// `holders` lists at most this many hosts per share.
    public static let maximumHosts = 100_000

    public enum Entry: Sendable, Equatable {
        /// A valid record, the file it came from (below the share root) and the entries of it
        /// that were dropped.
        case record(HeartbeatRecord, file: String, dropped: [DroppedHeartbeatEntry])
        case unusable(file: String, reason: String)
    }

    public var fileSystem: any ShareFileSystem

    public init(fileSystem: any ShareFileSystem = NoFollowShareFileSystem()) { self.fileSystem = fileSystem }

    /// The records in `by-address/<address>/`, newest first: one directory listing plus one
    /// read for each of the newest `maximumRecordsPerAddress` entries. No directory (nobody
    /// lists the address) is no entry.
    public func records(forAddress address: String, shareRoot: String) -> [Entry] {
        recordsReporting(forAddress: address, shareRoot: shareRoot).entries
    }

    /// As `records(forAddress:shareRoot:)`, and how many record files were left unread (a
    /// crowded directory). The order "newest first" is only the files' modification times,
    /// which any writer of the share can set: a crowd dated in the future pushes a live
    /// holder's fresh record out of the ones read. A caller deciding a close must count unread
    /// records as missing evidence, never as "no record".
    public func recordsReporting(forAddress address: String, shareRoot: String) -> (entries: [Entry], notRead: Int) {
        entriesReporting(in: HeartbeatLayout.addressDirectory(address), shareRoot: shareRoot, readLimit: Self.maximumRecordsPerAddress)
    }

    /// Every host's record in `hosts/` (the fleet view; this one grows with the hosts).
    public func allRecords(shareRoot: String) -> [Entry] {
        entries(in: HeartbeatLayout.hostsDirectory, shareRoot: shareRoot, readLimit: Self.maximumHosts)
    }

    /// One host's own record in `hosts/`, nil when there is none.
    public func record(hostID: String, shareRoot: String) -> Entry? {
        record(at: HeartbeatLayout.hostRecordPath(hostID: hostID), hostID: hostID, shareRoot: shareRoot)
    }

    /// The record of `hostID` under `address`, nil when there is none.
    public func record(hostID: String, address: String, shareRoot: String) -> Entry? {
        record(at: HeartbeatLayout.addressDirectory(address) + [HeartbeatLayout.hostFileName(hostID: hostID)], hostID: hostID, shareRoot: shareRoot)
    }

    /// `by-address/*/<host_id>.json`: one host_id's entries under every address directory (one
    /// listing of `by-address/`, which grows with the fleet's addresses, and one open per
    /// address). For `holders`: two hosts with one host_id overwrite each other's `hosts/` file,
    /// never each other's address entries.
    public func records(hostID: String, underEveryAddressOf shareRoot: String) -> [Entry] {
        let directory = HeartbeatLayout.byAddressDirectory
        let listing: ShareDirectoryListing
        do {
            listing = try fileSystem.listEntriesIfAny(root: shareRoot, path: directory, limit: Self.maximumListedEntries)
        } catch {
            return [.unusable(file: directory.joined(separator: "/"), reason: "\(error)")]
        }
        let name = HeartbeatLayout.hostFileName(hostID: hostID)
        return listing.entries.filter { !$0.name.hasPrefix(".") }.map(\.name).sorted().compactMap { address in
            record(at: directory + [address, name], hostID: hostID, shareRoot: shareRoot)
        }
    }

    func record(at path: [String], hostID: String, shareRoot: String) -> Entry? {
        do {
            return try read(path, shareRoot: shareRoot, expectedHostID: hostID)
        } catch ShareFileError.notFound {
            return nil
        } catch {
            return .unusable(file: path.joined(separator: "/"), reason: "\(error)")
        }
    }

    func entries(in directory: [String], shareRoot: String, readLimit: Int) -> [Entry] {
        entriesReporting(in: directory, shareRoot: shareRoot, readLimit: readLimit).entries
    }

    func entriesReporting(in directory: [String], shareRoot: String, readLimit: Int) -> (entries: [Entry], notRead: Int) {
        let shown = directory.joined(separator: "/")
        let files: NewestHostFiles
        do {
            files = NewestHostFiles(
                try fileSystem.listEntriesIfAny(root: shareRoot, path: directory, limit: Self.maximumListedEntries), readLimit: readLimit)
        } catch {
            return ([.unusable(file: shown, reason: "\(error)")], 0)
        }
        var result: [Entry] = []
        if files.truncated {
            result.append(.unusable(file: shown, reason: "more than \(Self.maximumListedEntries) entries: only the first \(Self.maximumListedEntries) listed were considered"))
        }
        for candidate in files.toRead {
            let name = candidate.name
            let hostID = String(name.dropLast(5))
            do {
                result.append(try read(directory + [name], shareRoot: shareRoot, expectedHostID: hostID))
            } catch ShareFileError.notFound {
                continue  // removed between the listing and the read
            } catch {
                result.append(.unusable(file: shown + "/" + name, reason: "\(error)"))
            }
        }
        if files.leftUnread > 0 {
            result.append(
                .unusable(
                    file: shown,
                    reason: "\(files.leftUnread) older record file(s) not read (only the newest \(readLimit) are); "
                        + "records of hosts gone for a day are swept by the hosts that beat there"))
        }
        return (result, files.notRead)
    }

    func read(_ path: [String], shareRoot: String, expectedHostID: String) throws -> Entry {
        let shown = path.joined(separator: "/")
        let bytes = try fileSystem.readFile(root: shareRoot, path: path, limit: HeartbeatRecord.maximumBytes)
        let decoded: HeartbeatRecord.Decoded
        do {
            decoded = try HeartbeatRecord.decodeReporting(bytes)
        } catch {
            return .unusable(file: shown, reason: "\(error)")
        }
        guard decoded.record.hostID == expectedHostID else {
            return .unusable(file: shown, reason: "the file is named for host \(expectedHostID) but the record is of host \(decoded.record.hostID)")
        }
        return .record(decoded.record, file: shown, dropped: decoded.dropped)
    }
}
