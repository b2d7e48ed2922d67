import Logging
import SmbvolLogging
import SmbvolShares
import SmbvolSystem

extension ShareAttachmentService {
    /// Removes every hook lock of the domain and unmounts the shares left without locks.
    /// Operator locks are never touched. Throws only when the store cannot be read or written.
    public func releaseDomain(uuid: String, deadline: Deadline) throws -> ReleaseReport {
        try removeLocksThrowing(where: { $0.context == .hook && $0.domainUUID == uuid }, candidates: [], deadline: deadline)
    }

    /// Removes the hook lock of one disk (hot-detach) and unmounts its share if that was the last.
    public func detachDisk(domainUUID: String, disk: String, deadline: Deadline) throws -> ReleaseReport {
        try removeLocksThrowing(
            where: { $0.context == .hook && $0.domainUUID == domainUUID && $0.disk == disk }, candidates: [],
            deadline: deadline)
    }

    func removeLocks(
        where predicate: (AttachmentLock) -> Bool, candidates: [Share], deadline: Deadline
    ) -> ReleaseReport {
        do {
            return try removeLocksThrowing(where: predicate, candidates: candidates, deadline: deadline)
        } catch {
            logger.audit(AuditEvent(.releaseFailed, message: "releasing attachment locks failed: \(error)"))
            var report = ReleaseReport()
            report.unmountFailures.append("\(error)")
            // The store could not be changed, but a share this run mounted must not leak:
            // unmounting is still safe, as it re-reads the locks under the share's flock.
            for share in candidates where !share.isLocal {
                unmountIfUnused(share, deadline: deadline, report: &report)
            }
            return report
        }
    }

    /// Removes matching locks, then, share by share under its flock, unmounts each affected
    /// share (and each of `candidates`) that no lock refers to any more.
    func removeLocksThrowing(
        where predicate: (AttachmentLock) -> Bool, candidates: [Share], deadline: Deadline,
        removalEvent: ((AttachmentLock) -> AuditEvent)? = nil
    ) throws -> ReleaseReport {
        var report = ReleaseReport()
        report.removedLocks = try store.update(deadline: deadline) { locks in
            let removed = locks.filter(predicate)
            locks.removeAll(where: predicate)
            return removed
        }
        for lock in report.removedLocks {
            logger.audit(removalEvent?(lock) ?? lockEvent(lock, .lockDelete, message: "attachment lock removed"))
        }
        var seen = Set<String>()
        let shares = (report.removedLocks.map(share(of:)) + candidates).filter { seen.insert($0.usablePath).inserted }
        for share in shares where !share.isLocal {
            let released = report.removedLocks.filter { $0.mountPoint == share.usablePath }
            unmountIfUnused(share, deadline: deadline, report: &report, keepingOnFailure: released)
        }
        return report
    }

    /// Unmounts `share` if no lock refers to it. When the unmount fails (still busy after the
    /// retries), the locks just released for it are put back: a mounted share keeps the record
    /// of who used it, and `reconcile` tries again once the domain is gone.
    func unmountIfUnused(
        _ share: Share, deadline: Deadline, report: inout ReleaseReport, keepingOnFailure released: [AttachmentLock] = []
    ) {
        do {
            let unmounted = try withShareLock(share, deadline: deadline) { () throws -> Bool in
                let remaining = try store.load().filter { $0.mountPoint == share.usablePath }
                guard remaining.isEmpty else { return false }
                do {
                    return try mounter.unmount(share, force: false, deadline: deadline)
                } catch {
                    // Locks are put back only for a mount of ours that stays (busy); a foreign
                    // mount there was never the share's, so it holds no one's lock.
                    if !released.isEmpty, !(error is AttachmentError) {
                        try store.update(deadline: deadline) { locks in
                            locks += released.filter { lock in !locks.contains { $0.id == lock.id } }
                        }
                        for lock in released {
                            logger.audit(lockEvent(lock, .lockKept, message: "attachment lock kept: the share is still mounted"))
                        }
                    }
                    throw error
                }
            }
            if unmounted { report.unmountedShares.append(share.name) }
        } catch {
            logger.audit(shareEvent(share, .unmountFailed, message: "share left mounted: \(error)", extra: ["error": "\(error)"]).at(.warning))
            report.unmountFailures.append("\(share.name): \(error)")
        }
    }
}
