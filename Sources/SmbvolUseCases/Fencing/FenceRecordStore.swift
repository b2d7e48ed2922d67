import FoundationEssentials

import SmbvolSystem

/// One fence smbvol made: kept in `<state_dir>/fences/fences.json` (directory 0700, file 0600,
/// replaced atomically under a flock on `fences.lock`), so `fence --list` can say since when and
/// by whom, and `unfence HOST` knows exactly which addresses it denied even when the host's
/// heartbeat records are gone. The cluster's list stays the truth about what is in force.
public struct FenceRecord: Codable, Sendable, Equatable {
    public struct Share: Codable, Sendable, Equatable {
        public var id: String
        public var name: String

        public init(id: String, name: String) {
            self.id = id
            self.name = name
        }
    }

    public var host: String
    public var addresses: [String]
    public var shares: [Share]
    /// ISO 8601, UTC.
    public var fencedAt: String
    public var fencedBy: String
    public var cluster: String

    public init(host: String, addresses: [String], shares: [Share], fencedAt: String, fencedBy: String, cluster: String) {
        self.host = host
        self.addresses = addresses
        self.shares = shares
        self.fencedAt = fencedAt
        self.fencedBy = fencedBy
        self.cluster = cluster
    }

    enum CodingKeys: String, CodingKey {
        case host, addresses, shares, cluster
        case fencedAt = "fenced_at"
        case fencedBy = "fenced_by"
    }
}

public struct FenceRecordStore: Sendable {
    public let directory: String
    public let lockTimeout: Duration

    public init(stateDirectory: String, lockTimeout: Duration = .seconds(10)) {
        directory = stateDirectory + "/fences"
        self.lockTimeout = lockTimeout
    }

    var file: String { directory + "/fences.json" }
    var lockFile: String { directory + "/fences.lock" }

    struct Document: Codable {
        var format = "smbvol-fences"
        var version = 1
        var fences: [FenceRecord] = []
    }

    /// Every record; none when the file does not exist.
    public func records() throws -> [FenceRecord] {
        guard fileExists(file) else { return [] }
        return try FileLock.withLock(path: try preparedLockFile(), timeout: lockTimeout) { try read().fences }
    }

    /// Changes the records under the lock; `body` gets them and may edit them.
    public func update(_ body: (inout [FenceRecord]) throws -> Void) throws {
        try FileLock.withLock(path: try preparedLockFile(), timeout: lockTimeout) {
            var document = try read()
            try body(&document.fences)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFileWriter().write(Array(try encoder.encode(document)) + [0x0A], to: file, mode: 0o600)
        }
    }

    private func preparedLockFile() throws -> String {
        try SecureFiles.ensurePrivateDirectory(directory)
        return lockFile
    }

    private func read() throws -> Document {
        guard fileExists(file) else { return Document() }
        let bytes = try readWholeFile(file)
        do {
            let document = try JSONDecoder().decode(Document.self, from: Data(bytes))
            guard document.format == "smbvol-fences", document.version == 1 else {
                throw FenceFailure("fence records \(file) have format \(document.format) version \(document.version), expected smbvol-fences 1")
            }
            return document
        } catch let failure as FenceFailure {
            throw failure
        } catch {
            throw FenceFailure("fence records \(file) are not readable (\(error)); move the file away and run `smbvol fence --list` to see what the cluster holds")
        }
    }

    private func fileExists(_ path: String) -> Bool {
        (try? FileStatus.ofLink(path)) != nil
    }
}

/// A fence step that cannot go on: one line saying what is wrong and what to do.
public struct FenceFailure: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
