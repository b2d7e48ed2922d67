/// One or more files of a host's heartbeat could not be written on a share.
public struct HeartbeatWriteError: Error, Sendable, CustomStringConvertible {
    public var failures: [(file: String, reason: String)]

    public var description: String {
        let first = failures.first.map { "\($0.file): \($0.reason)" } ?? "unknown"
        return failures.count == 1 ? first : "\(first) (and \(failures.count - 1) more)"
    }
}

/// Writes this host's record on one share: `by-address/<a>/<host_id>.json` for each address it
/// lists, then `hosts/<host_id>.json`, each replaced atomically, with only what every reader
/// accepts (`HeartbeatRecord.publishable`).
///
/// It removes nothing another host may have written: an entry under an address this host no
/// longer lists is removed only when it still holds exactly the bytes this writer wrote there
/// (another host with the same host_id — a cloned machine-id — writes different bytes), and
/// other hosts' records go only by age (`sweep`).
public struct HeartbeatWriter: Sendable {
    public var fileSystem: any ShareFileSystem

    public init(fileSystem: any ShareFileSystem = NoFollowShareFileSystem()) { self.fileSystem = fileSystem }

    /// What this writer published on a share last, for the next write there.
    public struct LastWrite: Sendable, Equatable {
        public var addresses: [String]
        public var bytes: [UInt8]
    }

    public struct Outcome: Sendable {
        /// What was published (and what had to be left out of it).
        public var published: HeartbeatRecord.Publishable
        /// The addresses whose old entries were removed.
        public var removed: [String]
        /// A fresh record with this host's host_id, not written by this writer, listing addresses
        /// this host does not: another host uses the same host_id.
        public var collision: HeartbeatRecord?
        public var lastWrite: LastWrite
    }

    /// - Parameters:
    ///   - previous: what this writer wrote on the share last (nil in a new process).
    ///   - now, freshSeconds: to tell a colliding host's fresh record from an old one.
    @discardableResult
    public func write(
        _ record: HeartbeatRecord, shareRoot: String, previous: LastWrite? = nil, now: Double? = nil, freshSeconds: Double = 30
    ) throws -> Outcome {
        let published = try record.publishable()
        let bytes = published.bytes
        let name = HeartbeatLayout.hostFileName(hostID: record.hostID)
        var collision: HeartbeatRecord?
        if case .record(let old, _, _) = HeartbeatReader(fileSystem: fileSystem).record(hostID: record.hostID, shareRoot: shareRoot),
            Self.isCollision(old, ours: published.record, previous: previous, now: now ?? old.writtenAt, freshSeconds: freshSeconds)
        {
            collision = old
        }
        var failures: [(file: String, reason: String)] = []
        for address in published.record.addresses {
            let directory = HeartbeatLayout.addressDirectory(address)
            do {
                try fileSystem.replaceFile(root: shareRoot, directory: directory, name: name, bytes: bytes)
            } catch {
                failures.append(((directory + [name]).joined(separator: "/"), "\(error)"))
            }
        }
        do {
            try fileSystem.replaceFile(root: shareRoot, directory: HeartbeatLayout.hostsDirectory, name: name, bytes: bytes)
        } catch {
            failures.append(((HeartbeatLayout.hostsDirectory + [name]).joined(separator: "/"), "\(error)"))
        }
        var removed: [String] = []
        if failures.isEmpty, let previous {
            for address in Set(previous.addresses).subtracting(published.record.addresses).sorted() {
                let directory = HeartbeatLayout.addressDirectory(address)
                // Only our own bytes: a file another writer replaced is not ours to remove.
                guard (try? fileSystem.readFile(root: shareRoot, path: directory + [name], limit: HeartbeatRecord.maximumBytes)) == previous.bytes else { continue }
                if (try? fileSystem.removeFile(root: shareRoot, directory: directory, name: name)) != nil {
                    removed.append(address)
                }
            }
        }
        guard failures.isEmpty else { throw HeartbeatWriteError(failures: failures) }
        return Outcome(
            published: published, removed: removed, collision: collision,
            lastWrite: LastWrite(addresses: published.record.addresses, bytes: bytes))
    }

    /// `found` (the record under this host's host_id before this write) was written by another
    /// host: it is fresh, it is not what this writer wrote last, and it lists an address this
    /// host does not publish. (After this host's own addresses change, the first beat of a new
    /// process may say so once: the record it finds lists the old address.)
    public static func isCollision(_ found: HeartbeatRecord, ours: HeartbeatRecord, previous: LastWrite?, now: Double, freshSeconds: Double) -> Bool {
        guard found.hostID == ours.hostID, now - found.writtenAt <= freshSeconds else { return false }
        if let previous, (try? found.publishable().bytes) == previous.bytes { return false }
        return !Set(found.addresses).isSubset(of: ours.addresses)
    }

    /// Sweeps what is old in the directories this host writes (`hosts/` and its addresses'):
    /// this host's leftover temporaries, and any other file — another
    /// host's record, temporary or junk — whose modification time and, for a readable record,
    /// whose `written_at` are both older than `olderThanSeconds`. Nothing fresh is ever
    /// removed, whoever wrote it, and nothing is removed for being one too many.
    ///
    /// - Returns: the files removed (below the share root).
    @discardableResult
    public func sweep(hostID: String, addresses: [String], shareRoot: String, now: Double, olderThanSeconds: Double) -> [String] {
        let ownName = HeartbeatLayout.hostFileName(hostID: hostID)
        let reader = HeartbeatReader(fileSystem: fileSystem)
        var removed: [String] = []
        for directory in [HeartbeatLayout.hostsDirectory] + addresses.map(HeartbeatLayout.addressDirectory) {
            removed += fileSystem.sweepHostFiles(
                in: directory, root: shareRoot, ownName: ownName, now: now, olderThanSeconds: olderThanSeconds,
                listLimit: HeartbeatReader.maximumListedEntries
            ) { name in
                guard case .record(let record, _, _) = reader.record(at: directory + [name], hostID: String(name.dropLast(5)), shareRoot: shareRoot)
                else { return nil }
                return record.writtenAt
            }
        }
        return removed
    }

    /// How old another host's record must be before a sweep removes it: a day, and at least
    /// ten times the freshness window.
    public static func sweepAgeSeconds(freshSeconds: Double) -> Double { max(86_400, 10 * freshSeconds) }
}
