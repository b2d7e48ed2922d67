import AttachmentLocks
import SmbvolShares
import SmbvolSystem
import SmbvolUseCases

/// `mounts`, `lock`, `unmount`, `detach`, `reconcile` and `attach` output: lines, or JSON.
public enum ShareText {
    /// `mounts`: a line per share, then its locks indented.
    public static func mountLines(_ statuses: [MountsListingEntry], now: Double) -> [String] {
        statuses.flatMap { status in
            let state = status.share.isLocal ? "local" : (status.mounted ? "mounted" : "not mounted")
            // A share known only from lock records has no export to show.
            let export = status.share.export?.commandForm ?? "-"
            let share = "\(status.share.name)  \(export)  \(status.share.usablePath)  \(state)"
            return [share] + status.locks.map { "    " + LockText.line($0, now: now) }
        }
    }

    /// `mounts --json`: `{"mounts": [{"share", "export", "mount_point", "mounted", "locks": […]}]}`.
    public static func mountsDocument(_ statuses: [MountsListingEntry]) -> String {
        JSONWriter.document(.object([("mounts", .array(statuses.map(MountJSON.value)))]))
    }

    /// `lock list`: the share, then the lock.
    public static func lockLines(_ locks: [AttachmentLock], now: Double) -> [String] {
        locks.map { "\($0.share)  " + LockText.line($0, now: now) }
    }

    /// `lock list --json`: `{"locks": [{"id", "share", "domain_uuid", "domain_name", "disk", "reason", "context", "created_at"}]}`.
    public static func locksDocument(_ locks: [AttachmentLock]) -> String {
        JSONWriter.document(.object([("locks", .array(locks.map(LockJSON.value)))]))
    }

    public static func unmountLine(_ outcome: OperatorShares.UnmountOutcome, share: String) -> String {
        switch outcome {
        case .local(let mountPoint): return "share \(share) is local (\(mountPoint)): nothing to unmount"
        case .unmounted(let mountPoint): return "unmounted share \(share) from \(mountPoint)"
        case .notMounted: return "share \(share) is not mounted"
        }
    }

    /// `detach`: the locks released, the shares unmounted.
    public static func detachLines(_ report: ReleaseReport) -> [String] {
        report.removedLocks.map { "released lock \($0.id) (\($0.reason))" } + report.unmountedShares.map { "unmounted \($0)" }
    }

    /// `lock delete`: the lock deleted, the shares unmounted.
    public static func lockDeletedLines(_ lock: AttachmentLock, report: ReleaseReport) -> [String] {
        ["deleted lock \(lock.id) on share \(lock.share)"] + report.unmountedShares.map { "unmounted share \($0)" }
    }

    /// `reconcile`: a line per step; `dryRun` says what would be done.
    public static func reconcileLines(_ report: Reconcile.Report, dryRun: Bool) -> [String] {
        report.steps.map { step in
            switch step {
            case .droppedLock(let id, let reason, let domainUUID):
                return "\(dryRun ? "would drop" : "dropped") lock \(id): \(reason) (domain \(domainUUID) is not active in libvirt)"
            case .keptLock(let id, let reason, let domainUUID, let why):
                return "kept lock \(id): \(reason) (domain \(domainUUID) is not active in libvirt; \(why))"
            case .unmounted(let share):
                return "unmounted \(share)"
            case .unmountingUnheld(let share, let mountPoint):
                return "\(dryRun ? "would unmount" : "unmounting") \(share) at \(mountPoint): no lock holds it"
            case .notOurs(let source, let mountPoint):
                return "not smbvol's: \(source) mounted at \(mountPoint) (left alone)"
            }
        }
    }

    /// `attach --json`: `{"domain_uuid", "disk", "share", "mount_point", "image", "lock_id"}`.
    public static func attachDocument(domainUUID: String, disk: String, image: String, lock: AttachmentLock?) -> String {
        JSONWriter.document(
            .object([
                ("domain_uuid", .string(domainUUID)), ("disk", .string(disk)), ("share", .string(lock?.share ?? "")),
                ("mount_point", .string(lock?.mountPoint ?? "")), ("image", .string(image)), ("lock_id", .string(lock?.id ?? "")),
            ]))
    }
}

public enum MountJSON {
    public static func value(_ status: MountsListingEntry) -> JSONValue {
        .object([
            ("share", .string(status.share.name)), ("export", .string(status.share.export?.commandForm ?? "")),
            ("mount_point", .string(status.share.usablePath)), ("mounted", .bool(status.mounted)),
            ("locks", .array(status.locks.map(LockJSON.value))),
        ])
    }
}

/// A lock in the JSON that outside tools read (the keys are fixed; `share` added).
public enum LockJSON {
    public static func value(_ lock: AttachmentLock) -> JSONValue {
        .object([
            ("id", .string(lock.id)), ("share", .string(lock.share)), ("domain_uuid", .string(lock.domainUUID)),
            ("domain_name", .string(lock.domainName)), ("disk", .string(lock.disk)), ("reason", .string(lock.reason)),
            ("context", .string(lock.context.rawValue)), ("created_at", .string(lock.createdAt)),
        ])
    }
}

public enum LockText {
    /// `3f2a…  hook  web01 vdb  2h5m  domain web01 disk vdb`
    public static func line(_ lock: AttachmentLock, now: Double) -> String {
        let who = lock.context == .operator ? "-" : "\(lock.domainName) \(lock.disk)"
        let since = UTCTimestamp.secondsSinceEpoch(iso8601: lock.createdAt).map { age(now - $0) } ?? "?"
        return "\(lock.id)  \(lock.context.rawValue)  \(who)  \(since)  \(lock.reason)"
    }

    public static func age(_ seconds: Double) -> String {
        let total = max(0, Int(seconds))
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(total % 60)s" }
        if total < 86400 { return "\(total / 3600)h\(total % 3600 / 60)m" }
        return "\(total / 86400)d\(total % 86400 / 3600)h"
    }
}
