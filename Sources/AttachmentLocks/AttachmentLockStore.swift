#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SmbvolSystem

public enum AttachmentLockStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "attachment lock store \(path) is unreadable (\(reason)); smbvol will not overwrite it: "
                + "repair it or move it aside (losing the locks it records)"
        }
    }
}

/// The attachment locks of this host: `<state_dir>/locks.json`, changed only under an exclusive
/// flock on `<state_dir>/locks.lock` and replaced atomically (temporary file, fsync, rename,
/// fsync of the directory). Readers need no lock: they see the old or the new file. A kill -9
/// at any point leaves the old or the new state; the kernel drops the flock with the process.
public struct AttachmentLockStore: Sendable {
    /// Points where crash tests may kill the process.
    public enum Stage: String, Sendable, CaseIterable {
        case holdingLock = "holding-lock"
        case afterTemporaryWrite = "after-temp-write"
        case afterRename = "after-rename"
    }

    public let stateDirectory: String
    public var lockTimeout: Duration
    public var clock: any MonotonicClock
    public var stageObserver: (@Sendable (Stage) -> Void)?

    public var storePath: String { stateDirectory + "/locks.json" }
    public var lockFilePath: String { stateDirectory + "/locks.lock" }

    public init(
        stateDirectory: String, lockTimeout: Duration = .seconds(10), clock: any MonotonicClock = SystemClock(),
        stageObserver: (@Sendable (Stage) -> Void)? = nil
    ) {
        self.stateDirectory = stateDirectory
        self.lockTimeout = lockTimeout
        self.clock = clock
        self.stageObserver = stageObserver
    }

    private struct Document: Codable {
        var version: Int
        var locks: [AttachmentLock]
    }

    /// The current locks (empty when the store does not exist yet).
    public func load() throws -> [AttachmentLock] {
        let bytes: [UInt8]
        do {
            bytes = try readWholeFile(storePath)
        } catch let error as SystemCallError where error.code == Errno.noSuchFileOrDirectory {
            return []
        } catch let error as SystemCallError {
            throw AttachmentLockStoreError.unreadable(path: storePath, reason: error.description)
        }
        do {
            let document = try JSONDecoder().decode(Document.self, from: Data(bytes))
            guard document.version == 1 else {
                throw AttachmentLockStoreError.unreadable(path: storePath, reason: "unknown version \(document.version)")
            }
            return document.locks
        } catch let error as AttachmentLockStoreError {
            throw error
        } catch {
            throw AttachmentLockStoreError.unreadable(path: storePath, reason: "not valid JSON of the expected shape")
        }
    }

    /// Reads, lets `body` change, and (if anything changed) writes the locks, all under the
    /// store's flock. A store that cannot be read is never overwritten.
    public func update<T>(deadline: Deadline, _ body: (inout [AttachmentLock]) throws -> T) throws -> T {
        // Not 0700: the default mount_base lies inside state_dir and qemu must traverse it.
        try SecureFiles.ensureDirectory(stateDirectory)
        let lock = try FileLock.acquire(path: lockFilePath, timeout: lockTimeout, deadline: deadline, clock: clock)
        defer { lock.release() }
        stageObserver?(.holdingLock)
        removeLeftoverTemporaryFiles()
        let before = try load()
        var locks = before
        let result = try body(&locks)
        if locks != before {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let bytes = Array(try encoder.encode(Document(version: 1, locks: locks))) + [UInt8(ascii: "\n")]
            let observer = stageObserver
            let writer = AtomicFileWriter { stage in
                observer?(stage == .afterTemporaryWrite ? .afterTemporaryWrite : .afterRename)
            }
            try writer.write(bytes, to: storePath, mode: 0o600)
        }
        return result
    }

    /// Temporary files of writers killed before their rename; safe to delete under the flock.
    private func removeLeftoverTemporaryFiles() {
        let prefix = AtomicFileWriter.temporaryPrefix(for: storePath)
        let namePrefix = String(prefix.dropFirst(stateDirectory.count + 1))
        for name in (try? listDirectory(stateDirectory)) ?? [] where name.hasPrefix(namePrefix) {
            FileRemoval.removeFile(stateDirectory + "/" + name)
        }
    }
}
