import AttachmentLocks
import LibvirtDomains
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolSystem

/// Brings smbvol's records back in line with reality after a crash, a killed hook or a lost
/// release: libvirt's active domains and the mount table are the truth. Operator locks are never
/// dropped; mounts smbvol did not make are only reported.
///
/// A hook lock is dropped only when its domain is not *active* (has no id: no qemu, no start in
/// progress — a crashed domain kept by `on_crash=preserve` is active) AND the lock was last
/// recorded surely before libvirt was asked: a domain that starts after the query records or
/// refreshes its lock after it, and keeps it. The choice is made on the store as it stands under
/// its flock, not on an earlier read.
public struct Reconcile: Sendable {
    /// One line of what was (or, in a dry run, would be) done, in order.
    public enum Step: Sendable, Equatable {
        case droppedLock(id: String, reason: String, domainUUID: String)
        /// A hook lock of a domain libvirt did not list as active, kept because it was recorded
        /// after (or cannot be shown to be before) the query: `why` says which.
        case keptLock(id: String, reason: String, domainUUID: String, why: String)
        case unmounted(share: String)
        case unmountingUnheld(share: String, mountPoint: String)
        case notOurs(source: String, mountPoint: String)
    }

    public struct Report: Sendable {
        public var steps: [Step] = []
        public var unmountFailures: [String] = []

        /// What the command fails with once it has printed the steps: the shares that could
        /// not be unmounted (nil when none).
        public var failure: SharesLeftMounted? {
            unmountFailures.isEmpty ? nil : SharesLeftMounted(after: .reconcile, failures: unmountFailures)
        }
    }

    public let attachments: ShareAttachments
    public var mountTable: any MountTableReading = ProcMountTableReader()

    public init(attachments: ShareAttachments) { self.attachments = attachments }

    /// Asks `domains` (libvirt) which domains are active, then reconciles. An error from
    /// libvirt changes nothing.
    public func callAsFunction(domains: any LibvirtDomainListing, dryRun: Bool) throws -> Report {
        // Taken before the question: any lock recorded after this instant may belong to a
        // start libvirt's answer does not show yet.
        let queryStarted = attachments.service.clock.wallClockSeconds()
        let active = Set(try domains.listDomains().filter(\.isActive).map { $0.uuid.lowercased() })
        return try reconcile(activeDomainUUIDs: active, queryStartedAt: queryStarted, dryRun: dryRun)
    }

    /// Whether `lock` may be dropped: a hook lock of a domain not in `active`, last recorded
    /// surely before `queryStarted`; else whether it is kept (and why) or not concerned.
    static func verdict(_ lock: AttachmentLock, active: Set<String>, queryStarted: Double) -> Verdict {
        guard lock.context == .hook, !active.contains(lock.domainUUID.lowercased()) else { return .notConcerned }
        guard let recorded = lock.latestRecordingSeconds else {
            return .keep("its created_at/recorded_at cannot be read, so it may be newer than libvirt's answer: kept; check it and `smbvol lock delete` it if stale")
        }
        guard recorded <= queryStarted else {
            return .keep("it was recorded after libvirt was asked (a start in progress): kept, the next reconcile decides")
        }
        return .drop
    }

    enum Verdict: Equatable {
        case notConcerned, drop
        case keep(String)
    }

    func reconcile(activeDomainUUIDs active: Set<String>, queryStartedAt queryStarted: Double, dryRun: Bool) throws -> Report {
        let service = attachments.service
        let deadline = attachments.deadline
        var report = Report()
        let why = "domain not active in libvirt (no id) when asked at \(UTCTimestamp.iso8601(secondsSinceEpoch: queryStarted))"
        if dryRun {
            for lock in try service.locks() where Self.verdict(lock, active: active, queryStarted: queryStarted) == .drop {
                report.steps.append(.droppedLock(id: lock.id, reason: lock.reason, domainUUID: lock.domainUUID))
            }
        } else {
            let released = try service.dropHookLocks(deadline: deadline, why: { _ in why }) { lock in
                Self.verdict(lock, active: active, queryStarted: queryStarted) == .drop
            }
            report.steps += released.removedLocks.map { .droppedLock(id: $0.id, reason: $0.reason, domainUUID: $0.domainUUID) }
            report.steps += released.unmountedShares.map { .unmounted(share: $0) }
            report.unmountFailures += released.unmountFailures
        }
        for lock in try service.locks() {
            guard case .keep(let reason) = Self.verdict(lock, active: active, queryStarted: queryStarted) else { continue }
            report.steps.append(.keptLock(id: lock.id, reason: lock.reason, domainUUID: lock.domainUUID, why: reason))
        }

        let locks = try service.locks()
        for status in try service.status(of: attachments.shares) where status.mounted && !status.share.isLocal {
            guard !locks.contains(where: { $0.mountPoint == status.share.usablePath }) else { continue }
            report.steps.append(.unmountingUnheld(share: status.share.name, mountPoint: status.share.usablePath))
            guard !dryRun else { continue }
            do {
                _ = try service.unmountShare(status.share, force: false, deadline: deadline)
            } catch {
                report.unmountFailures.append("\(status.share.name): \(error)")
            }
        }

        // The mount table lists real paths: compare in those (mount_base may be a symlink).
        let known = Set((attachments.shares.map(\.usablePath) + locks.map(\.mountPoint)).map(ShareMounter.canonicalPath))
        let realBase = ShareMounter.canonicalPath(attachments.configuration.mountBase)
        let base = realBase.hasSuffix("/") ? realBase : realBase + "/"
        for entry in try MountTable.read(from: mountTable).entries where entry.mountPoint.hasPrefix(base) && !known.contains(entry.mountPoint) {
            report.steps.append(.notOurs(source: entry.source, mountPoint: entry.mountPoint))
        }
        return report
    }
}

/// Shares a `detach` or `reconcile` could not unmount: the command prints what it did, then
/// fails with this (exit 1). Rendered by the executable (`FailureText`).
public struct SharesLeftMounted: Error, Sendable, Equatable {
    public enum Step: Sendable, Equatable {
        case detach, reconcile
    }

    public var after: Step
    /// One per share that stayed mounted, as the release reported it (`share: error`).
    public var failures: [String]

    public init(after: Step, failures: [String]) {
        self.after = after
        self.failures = failures
    }
}
