import Logging
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
        where predicate: (AttachmentLock) -> Bool, candidates: [ShareTarget], deadline: Deadline
    ) -> ReleaseReport {
        do {
            return try removeLocksThrowing(where: predicate, candidates: candidates, deadline: deadline)
        } catch {
            logger.error("releasing attachment locks failed: \(error)", metadata: ["event": "release-failed"])
            var report = ReleaseReport()
            report.unmountFailures.append("\(error)")
            return report
        }
    }

    /// Removes matching locks, then, share by share under its flock, unmounts each affected
    /// share (and each of `candidates`) that no lock refers to any more.
    func removeLocksThrowing(
        where predicate: (AttachmentLock) -> Bool, candidates: [ShareTarget], deadline: Deadline
    ) throws -> ReleaseReport {
        var report = ReleaseReport()
        report.removedLocks = try store.update(deadline: deadline) { locks in
            let removed = locks.filter(predicate)
            locks.removeAll(where: predicate)
            return removed
        }
        for lock in report.removedLocks {
            logger.notice("attachment lock removed", metadata: auditMetadata(lock, event: "lock-remove"))
        }
        var seen = Set<String>()
        let shares = (report.removedLocks.map(Self.target(of:)) + candidates).filter { seen.insert($0.mountPoint).inserted }
        for share in shares where !share.isLocal {
            unmountIfUnused(share, deadline: deadline, report: &report)
        }
        return report
    }

    func unmountIfUnused(_ share: ShareTarget, deadline: Deadline, report: inout ReleaseReport) {
        do {
            let unmounted = try withShareLock(share, deadline: deadline) { () throws -> Bool in
                let remaining = try store.load().filter { $0.mountPoint == share.mountPoint }
                guard remaining.isEmpty else { return false }
                return try mounter.unmount(share, force: false, deadline: deadline)
            }
            if unmounted { report.unmountedShares.append(share.name) }
        } catch {
            logger.warning(
                "share left mounted: \(error)",
                metadata: ["event": "unmount-failed", "share": "\(share.name)", "mount_point": "\(share.mountPoint)"])
            report.unmountFailures.append("\(share.name): \(error)")
        }
    }
}
