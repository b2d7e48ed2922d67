import AttachmentLocks
import SMBMounts
import SmbvolConfig

/// Brings smbvol's records back in line with reality after a crash, a killed hook or a lost
/// release: the running domains (asked of libvirt by the caller) and the mount table are the
/// truth. Operator locks are never dropped; mounts smbvol did not make are only reported.
public struct Reconcile: Sendable {
    /// One line of what was (or, in a dry run, would be) done, in order.
    public enum Step: Sendable, Equatable {
        case droppedLock(id: String, reason: String, domainUUID: String)
        case unmounted(share: String)
        case unmountingUnheld(share: String, mountPoint: String)
        case notOurs(source: String, mountPoint: String)
    }

    public struct Report: Sendable {
        public var steps: [Step] = []
        public var unmountFailures: [String] = []
    }

    public let attachments: ShareAttachmentWiring
    public var mountTable: any MountTableReading = ProcMountTableReader()

    public init(attachments: ShareAttachmentWiring) { self.attachments = attachments }

    public func callAsFunction(runningDomainUUIDs running: Set<String>, dryRun: Bool) throws -> Report {
        let service = attachments.service
        let deadline = attachments.deadline
        var report = Report()
        let running = Set(running.map { $0.lowercased() })
        for lock in try service.locks() where lock.context == .hook && !running.contains(lock.domainUUID.lowercased()) {
            report.steps.append(.droppedLock(id: lock.id, reason: lock.reason, domainUUID: lock.domainUUID))
            guard !dryRun else { continue }
            let released = try service.deleteHookLock(id: lock.id, deadline: deadline)
            report.steps += released.unmountedShares.map { .unmounted(share: $0) }
            report.unmountFailures += released.unmountFailures
        }

        let locks = try service.locks()
        for status in try service.status(of: attachments.targets) where status.mounted && !status.share.isLocal {
            guard !locks.contains(where: { $0.mountPoint == status.share.mountPoint }) else { continue }
            report.steps.append(.unmountingUnheld(share: status.share.name, mountPoint: status.share.mountPoint))
            guard !dryRun else { continue }
            do {
                _ = try service.unmountShare(status.share, force: false, deadline: deadline)
            } catch {
                report.unmountFailures.append("\(status.share.name): \(error)")
            }
        }

        // The mount table lists real paths: compare in those (mount_base may be a symlink).
        let known = Set((attachments.targets.map(\.mountPoint) + locks.map(\.mountPoint)).map(ShareMounter.canonicalPath))
        let realBase = ShareMounter.canonicalPath(attachments.configuration.mountBase)
        let base = realBase.hasSuffix("/") ? realBase : realBase + "/"
        for entry in try MountTable.read(from: mountTable).entries where entry.mountPoint.hasPrefix(base) && !known.contains(entry.mountPoint) {
            report.steps.append(.notOurs(source: entry.source, mountPoint: entry.mountPoint))
        }
        return report
    }
}
