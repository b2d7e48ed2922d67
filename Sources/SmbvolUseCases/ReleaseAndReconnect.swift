import DomainXML
import AttachmentLocks
import DiskImages
import HandleEvidence
import HostHeartbeat
import Logging
import QumuloClient
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem

/// `release end`: drop the domain's hook locks and its incoming-migration mark, unmount the
/// shares nobody holds. Never fails: errors are logged, with what to run.
public struct ReleaseDomain: Sendable {
    public let run: DomainRun
    public let attachments: ShareAttachments
    public let marks: IncomingMigrationMarks
    public let progress: any RunProgress

    public init(run: DomainRun, attachments: ShareAttachments, marks: IncomingMigrationMarks, progress: any RunProgress = NoRunProgress()) {
        self.run = run
        self.attachments = attachments
        self.marks = marks
        self.progress = progress
    }

    @discardableResult
    public func callAsFunction() -> ReleaseReport? {
        marks.clear(run.uuid)
        progress.began("release", mayFail: false)
        // This host's claims on the domain's images go first, while the shares are mounted
        // (bounded per share; a claim not removed goes stale by itself).
        if let all = try? attachments.service.locks() {
            let locks = all.filter { $0.context == .hook && $0.domainUUID == run.uuid.value }
            if !locks.isEmpty {
                HostClaims(configuration: run.configuration, hostID: try? HostIdentity.hostID(configured: run.configuration.hostID), logger: run.logger)
                    .remove(for: locks, allLocks: all)
            }
        }
        do {
            let report = try attachments.service.releaseDomain(uuid: run.uuid.value, deadline: run.deadlines.cleanup)
            if !report.unmountFailures.isEmpty {
                run.logger.error("release: shares left mounted", metadata: ["failures": "\(report.unmountFailures)"])
            }
            return report
        } catch {
            run.logger.error("release failed; run `smbvol reconcile`", metadata: ["error": "\(LineEscaping.oneLine("\(error)"))"])
            return nil
        }
    }
}

/// `reconnect begin` (libvirtd restarted): make sure the running domain's locks exist and its
/// shares are mounted. Never fails: a failing reconnect hook kills the VM.
public struct ReconnectDomain: Sendable {
    public let run: DomainRun
    public let attachments: ShareAttachments
    public let progress: any RunProgress
    public var mountGuard: HungMountGuard

    public init(run: DomainRun, attachments: ShareAttachments, progress: any RunProgress = NoRunProgress(), mountGuard: HungMountGuard = HungMountGuard()) {
        self.run = run
        self.attachments = attachments
        self.progress = progress
        self.mountGuard = mountGuard
    }

    public func callAsFunction() {
        progress.began("reconnect", mayFail: false)
        do {
            // The same locating and requests as a start; no lock hygiene (the VM runs already).
            let located = try LocateDomainImages(run: run, mountGuard: mountGuard)(on: run.shares)
            guard !located.images.isEmpty else { return }
            let plan = AttachmentPlan(
                images: located.images, domainName: run.domain.name, domainUUID: run.uuid.value,
                connectionInfoShares: attachments.connectionInfoShares)
            // The domain runs already: the locks it still has keep their time (the takeover
            // watch dates the domain's use of its images by them).
            _ = try attachments.service.attach(plan.requests, deadline: run.deadlines.work, domainStarting: false)
        } catch {
            run.logger.error(
                "reconnect: could not restore the domain's locks; run `smbvol reconcile`",
                metadata: ["error": "\(LineEscaping.oneLine("\(error)"))"])
        }
    }
}
