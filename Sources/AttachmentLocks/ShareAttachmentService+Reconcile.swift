import Logging
import SmbvolLogging
import SmbvolSystem

extension ShareAttachmentService {
    /// Drops the hook locks `shouldDrop` picks, deciding on the store as it is under its flock
    /// (a lock written after the caller last looked is judged too, never removed unseen), then
    /// unmounts the shares left without locks. Operator locks are never passed to `shouldDrop`.
    /// Each drop is an audit event (`lock-delete`, decision `drop`, with `why`).
    public func dropHookLocks(
        deadline: Deadline, why: @escaping (AttachmentLock) -> String, where shouldDrop: (AttachmentLock) -> Bool
    ) throws -> ReleaseReport {
        try removeLocksThrowing(
            where: { $0.context == .hook && shouldDrop($0) }, candidates: [], deadline: deadline,
            removalEvent: { lock in
                var event = lockEvent(lock, .lockDelete, message: "attachment lock dropped by reconcile: \(why(lock))")
                event[.decision] = "drop"
                return event
            })
    }
}
