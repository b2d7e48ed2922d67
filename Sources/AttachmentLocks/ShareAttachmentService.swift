import Logging
import SmbvolLogging
import SmbvolShares
import SmbvolSystem

/// Mounts shares for domains' disks and keeps them mounted while any attachment lock remains.
///
/// Rules: mounting, and the decision to unmount, happen for one share at a time under a flock
/// on `<state_dir>/mounts/<key>.lock`, so an attach cannot slip in between "the last lock is
/// gone" and the unmount. An attach records its lock before it lets go of that flock. The store
/// itself has its own flock; nothing waits for a share flock while holding the store's, so the
/// two cannot deadlock.
public struct ShareAttachmentService: Sendable {
    public var store: AttachmentLockStore
    public var mounter: any ShareMounting
    /// How long to wait for another process mounting or unmounting the same share.
    public var shareLockTimeout: Duration
    public var clock: any MonotonicClock
    public var logger: Logger
    /// The shares this run knows (connection info first, then the configured ones): what a lock
    /// record's mount point is matched back to (`share(of:)`).
    public var knownShares: [Share]

    public init(
        store: AttachmentLockStore, mounter: any ShareMounting, knownShares: [Share] = [], shareLockTimeout: Duration = .seconds(60),
        clock: any MonotonicClock = SystemClock(), logger: Logger
    ) {
        self.store = store
        self.mounter = mounter
        self.knownShares = knownShares
        self.shareLockTimeout = shareLockTimeout
        self.clock = clock
        self.logger = logger
    }

    var shareLockDirectory: String { store.stateDirectory + "/mounts" }

    /// Runs `body` holding the per-share flock of `share`.
    func withShareLock<T>(_ share: Share, deadline: Deadline, _ body: () throws -> T) throws -> T {
        try SecureFiles.ensureDirectory(store.stateDirectory)
        try SecureFiles.ensureDirectory(shareLockDirectory, mode: 0o700)
        let path = shareLockDirectory + "/" + Self.lockFileName(for: share) + ".lock"
        return try FileLock.withLock(path: path, timeout: shareLockTimeout, deadline: deadline, clock: clock, body)
    }

    /// A stable, file-name-safe key per directory (mount point or local path): its last
    /// component plus a short hash.
    static func lockFileName(for share: Share) -> String {
        let last = share.usablePath.split(separator: "/").last.map(String.init) ?? "root"
        let safe = last.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" }
        var hash: UInt32 = 2_166_136_261
        for byte in share.usablePath.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let hex = String(hash, radix: 16)
        return String(safe.prefix(80)) + "-" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    func now() -> String { UTCTimestamp.iso8601(secondsSinceEpoch: clock.wallClockSeconds()) }

    /// For `recordedAt`: instants `reconcile` compares with the time of its libvirt query.
    func preciseNow() -> String { UTCTimestamp.preciseISO8601(secondsSinceEpoch: clock.wallClockSeconds()) }

    /// The audit event of a lock added, deleted or kept (one shape for all three).
    func lockEvent(_ lock: AttachmentLock, _ kind: AuditEventKind, message: String) -> AuditEvent {
        var event = AuditEvent(kind, message: message)
        event[.share] = lock.share
        event[.domain] = lock.domainName
        event[.domainUUID] = lock.domainUUID
        event[.disk] = lock.disk
        event[.image] = lock.image
        event[.reason] = lock.reason
        event.extra = ["lock_id": lock.id, "mount_point": lock.mountPoint, "context": lock.context.rawValue]
        return event
    }

    /// A share-level event (unmount forced or failed), for the attachment layer's own decisions.
    func shareEvent(_ share: Share, _ kind: AuditEventKind, message: String, extra: [String: String] = [:]) -> AuditEvent {
        var event = AuditEvent(kind, message: message, extra: extra.merging(["mount_point": share.usablePath]) { new, _ in new })
        event[.share] = share.name
        return event
    }
}
