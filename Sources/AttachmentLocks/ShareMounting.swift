import SmbvolShares
import SmbvolSystem

/// A share as the attachment layer counts it: by its directory, so a configured share and
/// connection info naming the same export share their locks. It carries the `Share` itself
/// whenever this run knows it (the configuration, connection info); a share that only lock
/// records still name (connection info of an earlier run) has its recorded name and directory
/// alone.
public struct ShareTarget: Sendable, Hashable {
    public var name: String
    /// The mount point, or the local path of a `local_path` share.
    public var mountPoint: String
    /// Served by this host: never mounted or unmounted.
    public var isLocal: Bool
    /// The share, when known: what mounting it and recognising its mount go by.
    public var share: Share?

    public init(_ share: Share) {
        name = share.name
        mountPoint = share.usablePath
        isLocal = share.isLocal
        self.share = share
    }

    /// A share known only from a lock record's name and mount point.
    public init(recordedName name: String, mountPoint: String) {
        self.name = name
        self.mountPoint = mountPoint
        isLocal = false
        share = nil
    }

    /// `//server/share[/subdir]` for display; empty for a share only lock records name.
    public var export: String { share?.export.commandForm ?? "" }
}

/// The mount layer, seen from the attachment service (SMBMounts' `ShareMounter` in production,
/// wired in by the executable; a recording double in tests).
public protocol ShareMounting: Sendable {
    /// Mounts the share unless it already is (healthy); true when this call mounted it.
    func ensureMounted(_ share: Share, deadline: Deadline) throws -> Bool
    /// Unmounts it (lazily only with `force`); false when it was not mounted.
    func unmount(_ share: ShareTarget, force: Bool, deadline: Deadline) throws -> Bool
    func isMounted(_ share: ShareTarget) throws -> Bool
}

/// One disk of a domain that needs a share.
public struct DiskAttachmentRequest: Sendable, Equatable {
    public var domainUUID: String
    public var domainName: String
    /// Target dev, e.g. `vdb`.
    public var disk: String
    public var image: String
    public var share: Share

    public init(domainUUID: String, domainName: String, disk: String, image: String, share: Share) {
        self.domainUUID = domainUUID
        self.domainName = domainName
        self.disk = disk
        self.image = image
        self.share = share
    }
}

/// What one `attach` call took, so the caller can give exactly that back after a refusal.
public struct AttachmentReceipt: Sendable, Equatable {
    /// Locks this call created (not ones that already existed for the same domain and disk).
    public var createdLockIDs: [String]
    /// The lock of every requested disk, created or found.
    public var locks: [AttachmentLock]
    /// Shares this call mounted.
    public var mountedShares: [ShareTarget]
    /// Every record in the store as this call's last change left it (every domain's): what
    /// lock hygiene reads next, without reading the store again.
    public var storeRecords: [AttachmentLock]

    public init(createdLockIDs: [String] = [], locks: [AttachmentLock] = [], mountedShares: [ShareTarget] = [], storeRecords: [AttachmentLock] = []) {
        self.createdLockIDs = createdLockIDs
        self.locks = locks
        self.mountedShares = mountedShares
        self.storeRecords = storeRecords
    }
}

/// What a release did. Releasing never throws for an unmount that failed (the hook's release
/// must succeed); such failures are listed here and logged.
public struct ReleaseReport: Sendable, Equatable {
    public var removedLocks: [AttachmentLock] = []
    public var unmountedShares: [String] = []
    public var unmountFailures: [String] = []

    public init() {}
}

/// A share with its mount state and its locks (for `smbvol mounts`).
public struct ShareStatus: Sendable, Equatable {
    public var share: ShareTarget
    public var mounted: Bool
    public var locks: [AttachmentLock]
}

public enum AttachmentError: Error, Equatable, Sendable, CustomStringConvertible {
    case shareHasLocks(share: String, locks: [AttachmentLock])
    case noSuchLock(id: String)
    case operatorLockNotRemovable(id: String)
    case emptyReason
    /// What is mounted at the share's mount point is not the share's: left alone.
    case notOurMount(message: String)

    public var description: String {
        switch self {
        case .shareHasLocks(let share, let locks):
            return "share \(share) still has \(locks.count) attachment lock\(locks.count == 1 ? "" : "s"): "
                + locks.map(\.summary).joined(separator: ", ")
                + "; release them (smbvol lock delete ID) or use --force"
        case .noSuchLock(let id):
            return "no attachment lock with id \(id); see `smbvol lock list`"
        case .operatorLockNotRemovable(let id):
            return "lock \(id) is an operator lock: only `smbvol lock delete \(id)` removes it"
        case .notOurMount(let message):
            return message
        case .emptyReason:
            return "a lock needs a reason: give --reason TEXT (e.g. \"backup window\")"
        }
    }
}
