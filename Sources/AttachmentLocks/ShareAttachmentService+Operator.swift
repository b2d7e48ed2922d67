import Logging
import SmbvolLogging
import SmbvolShares
import SmbvolSystem

extension ShareAttachmentService {
    /// All locks, or those of one share (matched by name or mount point).
    public func locks(share: Share? = nil) throws -> [AttachmentLock] {
        let all = try store.load()
        guard let share else { return all }
        return all.filter { $0.mountPoint == share.usablePath || $0.share == share.name }
    }

    /// `shares` with their mount state and locks, plus any share that only the locks mention.
    public func status(of shares: [Share]) throws -> [MountsListingEntry] {
        let all = try store.load()
        var known = Set(shares.map(\.usablePath))
        var listed = shares
        for lock in all where known.insert(lock.mountPoint).inserted { listed.append(share(of: lock)) }
        return try listed.map { share in
            MountsListingEntry(
                share: share, mounted: try mounter.isMounted(share),
                locks: all.filter { $0.mountPoint == share.usablePath })
        }
    }

    /// Unmounts a share, refusing while locks remain unless `force` (which then also allows a
    /// lazy unmount of a busy share; the locks stay, as the record of who used it).
    @discardableResult
    public func unmountShare(_ share: Share, force: Bool, deadline: Deadline) throws -> Bool {
        if share.isLocal { return false }
        return try withShareLock(share, deadline: deadline) {
            let remaining = try store.load().filter { $0.mountPoint == share.usablePath }
            if !remaining.isEmpty {
                guard force else { throw AttachmentError.shareHasLocks(share: share.name, locks: remaining) }
                logger.audit(
                    shareEvent(
                        share, .unmountForced, message: "forced unmount of a share with attachment locks",
                        extra: ["lock_ids": remaining.map(\.id).joined(separator: ",")]))
            }
            return try mounter.unmount(share, force: force, deadline: deadline)
        }
    }

    /// Adds an operator lock ("backup window"); it keeps the share mounted until deleted by id.
    public func addOperatorLock(share: Share, reason: String, deadline: Deadline) throws -> AttachmentLock {
        guard !reason.trimmingCharacters().isEmpty else { throw AttachmentError.emptyReason }
        let lock = AttachmentLock(
            id: RandomIdentifier.hex(count: 16), share: share.name, mountPoint: share.usablePath, reason: reason,
            context: .operator, createdAt: now())
        try store.update(deadline: deadline) { $0.append(lock) }
        logger.audit(lockEvent(lock, .lockAdd, message: "attachment lock added"))
        return lock
    }

    /// Deletes any lock by id (operators act as administrators, as in Manila), then unmounts
    /// its share if that was the last lock.
    public func deleteLock(id: String, deadline: Deadline) throws -> (AttachmentLock, ReleaseReport) {
        guard try store.load().contains(where: { $0.id == id }) else { throw AttachmentError.noSuchLock(id: id) }
        let report = try removeLocksThrowing(where: { $0.id == id }, candidates: [], deadline: deadline)
        guard let removed = report.removedLocks.first else { throw AttachmentError.noSuchLock(id: id) }
        return (removed, report)
    }

    /// The hook path's removal by id: refuses operator locks.
    public func deleteHookLock(id: String, deadline: Deadline) throws -> ReleaseReport {
        let existing = try store.load().first { $0.id == id }
        guard let existing else { throw AttachmentError.noSuchLock(id: id) }
        guard existing.context == .hook else { throw AttachmentError.operatorLockNotRemovable(id: id) }
        return try removeLocksThrowing(where: { $0.id == id && $0.context == .hook }, candidates: [], deadline: deadline)
    }
}

extension String {
    func trimmingCharacters() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

extension ShareAttachmentService {
    /// Mounts `share` for a short read by this process — a fence reading heartbeat records on a
    /// host with no domain on the share — under the share's flock, as a start mounts (a mount
    /// found there is probed first: a hung one throws, never blocks). Records no lock: true
    /// when this call mounted the share, which the caller then gives back with
    /// `releaseReadMount`. A share already mounted is left as it is.
    public func mountForRead(_ share: Share, deadline: Deadline) throws -> Bool {
        if share.isLocal { return false }
        return try withShareLock(share, deadline: deadline) { try mounter.ensureMounted(share, deadline: deadline) }
    }

    /// Gives back a mount `mountForRead` made: unmounted under the share's flock unless a lock
    /// refers to the share by then (a domain started on it meanwhile keeps it mounted, exactly
    /// as a release leaves a share another domain uses). Never throws; failures are in the
    /// report and audited.
    public func releaseReadMount(_ share: Share, deadline: Deadline) -> ReleaseReport {
        var report = ReleaseReport()
        if !share.isLocal { unmountIfUnused(share, deadline: deadline, report: &report) }
        return report
    }
}
