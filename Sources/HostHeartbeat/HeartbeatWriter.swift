/// One or more files of a host's heartbeat could not be written on a share.
public struct HeartbeatWriteError: Error, Sendable, CustomStringConvertible {
    public var failures: [(file: String, reason: String)]

    public var description: String {
        let first = failures.first.map { "\($0.file): \($0.reason)" } ?? "unknown"
        return failures.count == 1 ? first : "\(first) (and \(failures.count - 1) more)"
    }
}

/// Writes this host's record on one share: `by-address/<a>/<host_id>.json` for each address it
/// lists, then `hosts/<host_id>.json`, each replaced atomically; then removes this host's
/// entries under addresses its previous record listed and this one does not.
public struct HeartbeatWriter: Sendable {
    public var fileSystem: any ShareFileSystem

    public init(fileSystem: any ShareFileSystem = NoFollowShareFileSystem()) { self.fileSystem = fileSystem }

    /// - Returns: the addresses whose old entries were removed.
    @discardableResult
    public func write(_ record: HeartbeatRecord, shareRoot: String) throws -> [String] {
        let bytes = try record.encoded()
        guard bytes.count <= HeartbeatRecord.maximumBytes else {
            throw HeartbeatWriteError(failures: [("record", "larger than \(HeartbeatRecord.maximumBytes) bytes (too many images or addresses)")])
        }
        let name = HeartbeatLayout.hostFileName(hostID: record.hostID)
        var previous: [String] = []
        if case .record(let old, _) = HeartbeatReader(fileSystem: fileSystem).record(hostID: record.hostID, shareRoot: shareRoot) {
            previous = old.addresses
        }
        var failures: [(file: String, reason: String)] = []
        for address in record.addresses {
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
        if failures.isEmpty {
            for address in Set(previous).subtracting(record.addresses).sorted() {
                if (try? fileSystem.removeFile(root: shareRoot, directory: HeartbeatLayout.addressDirectory(address), name: name)) != nil {
                    removed.append(address)
                }
            }
        }
        guard failures.isEmpty else { throw HeartbeatWriteError(failures: failures) }
        return removed
    }

    /// Removes temporaries a killed writer of this host left behind (once per process start:
    /// it lists `hosts/`, which grows with the fleet).
    public func sweepTemporaries(hostID: String, addresses: [String], shareRoot: String) {
        let name = HeartbeatLayout.hostFileName(hostID: hostID)
        for directory in [HeartbeatLayout.hostsDirectory] + addresses.map(HeartbeatLayout.addressDirectory) {
            guard let entries = try? fileSystem.listDirectory(root: shareRoot, path: directory, limit: HeartbeatReader.maximumHosts) else { continue }
            for entry in entries where HeartbeatLayout.isTemporary(entry, of: name) {
                try? fileSystem.removeFile(root: shareRoot, directory: directory, name: entry)
            }
        }
    }
}
