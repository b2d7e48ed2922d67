import AttachmentLocks
import SmbvolShares
import Logging
import SmbvolConfig

/// An operator's view of and hand on the shares' mounts and attachment locks: `smbvol mounts`,
/// `unmount`, `lock add|delete|list`. Every change goes through the attachment service, under
/// the share's flock, within `deadline_seconds`.
public struct OperatorShares {
    public let wiring: ShareAttachments

    public init(attachments: ShareAttachments) {
        wiring = attachments
    }

    /// Every configured share (and those only the locks mention): mounted or not, its locks.
    public func statuses() throws -> [MountsListingEntry] { try wiring.service.status(of: wiring.shares) }

    public enum UnmountOutcome: Sendable, Equatable {
        /// A `local_path` share: nothing to unmount.
        case local(mountPoint: String)
        case unmounted(mountPoint: String)
        case notMounted
    }

    public func unmount(share name: String, force: Bool) throws -> UnmountOutcome {
        let share = try wiring.share(named: name)
        if share.isLocal { return .local(mountPoint: share.usablePath) }
        return try wiring.service.unmountShare(share, force: force, deadline: wiring.deadline)
            ? .unmounted(mountPoint: share.usablePath) : .notMounted
    }

    public func addLock(share name: String, reason: String) throws -> AttachmentLock {
        try wiring.service.addOperatorLock(share: try wiring.share(named: name), reason: reason, deadline: wiring.deadline)
    }

    /// The lock deleted, and what its deletion unmounted (its share's last lock).
    public func deleteLock(id: String) throws -> (lock: AttachmentLock, report: ReleaseReport) {
        try wiring.service.deleteLock(id: id, deadline: wiring.deadline)
    }

    public func locks(share name: String?) throws -> [AttachmentLock] {
        try wiring.service.locks(share: try name.map { try wiring.share(named: $0) })
    }
}
