import SmbvolShares
import SmbvolSystem

/// The mount layer, seen from the attachment service (SMBMounts' `ShareMounter` in production,
/// wired in by the executable; a recording double in tests).
///
/// The attachment layer counts a share by its directory (`usablePath`), so a configured share
/// and connection info naming the same export share their locks; a share it knows only from
/// lock records (`Share(recordedName:mountPoint:)`) is unmounted and asked about, never mounted.
public protocol ShareMounting: Sendable {
    /// Mounts the share unless it already is (healthy); true when this call mounted it.
    func ensureMounted(_ share: Share, deadline: Deadline) throws -> Bool
    /// Unmounts it (lazily only with `force`); false when it was not mounted.
    func unmount(_ share: Share, force: Bool, deadline: Deadline) throws -> Bool
    func isMounted(_ share: Share) throws -> Bool
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
    public var mountedShares: [Share]
    /// Every record in the store as this call's last change left it (every domain's): what
    /// lock hygiene reads next, without reading the store again.
    public var storeRecords: [AttachmentLock]

    public init(createdLockIDs: [String] = [], locks: [AttachmentLock] = [], mountedShares: [Share] = [], storeRecords: [AttachmentLock] = []) {
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

/// One entry of `smbvol mounts`: a share, whether it is mounted here, and its locks.
public struct MountsListingEntry: Sendable, Equatable {
    public var share: Share
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
