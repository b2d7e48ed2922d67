import AttachmentLocks
import HostHeartbeat
import LibvirtDomains
import Logging
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolLogging
import SmbvolMetrics
import SmbvolSystem

/// The heartbeat service's half of "no zombie writers" (docs/stale-handle-policy.md, "After a takeover"):
/// for every image this host's attachment locks hold, the takeover records filed under its
/// file number; each is judged (`TakeoverJudgement`), the cluster asked only when the record
/// passes every other test, and a domain stopped through libvirt per `on_takeover` only once
/// the cluster confirms this host's handle is gone. Everything else is a warning, once per
/// record and domain in a process.
public struct TakeoverWatch {
    public let configuration: SmbvolConfiguration
    public let hostID: String
    public let logger: Logger
    /// The attach side (this host's locks, the shares' mount state), built per check.
    public let attachments: any ShareAttachmentsMaking
    public var store = TakeoverStore()
    public var ownHandles: any OwnHandleChecking
    /// Opened only when a domain must be looked at (rare): libvirt is never loaded otherwise.
    public var domainControl: () throws -> any LibvirtDomainControlling
    public var clock: any MonotonicClock = SystemClock()
    /// Records (file + domain UUID) already acted on or warned about by this process.
    public private(set) var handled: Set<String> = []

    public init(
        configuration: SmbvolConfiguration, hostID: String, logger: Logger, attachments: any ShareAttachmentsMaking,
        ownHandles: any OwnHandleChecking, domainControl: @escaping () throws -> any LibvirtDomainControlling
    ) {
        self.configuration = configuration
        self.hostID = hostID
        self.logger = logger
        self.attachments = attachments
        self.ownHandles = ownHandles
        self.domainControl = domainControl
    }

    /// What one check did, for `--once` and tests.
    public struct Report: Sendable {
        public var stopped: [(domain: String, action: String, record: String)] = []
        public var warnings: [String] = []
    }

    /// Checks every share this host's locks hold images on. `shareBound`: each share's reads
    /// are given this long (a hung share is skipped, reported, and costs the others nothing).
    public mutating func check(addresses: [String], shareBound: Double) -> Report {
        var report = Report()
        let wiring: ShareAttachments
        let locks: [AttachmentLock]
        do {
            wiring = try attachments.attachments(configuration: configuration, logger: logger)
            locks = try wiring.service.locks().filter { $0.context == .hook && $0.fileNumber != nil && !$0.domainUUID.isEmpty }
        } catch {
            logger.warning("takeover records not checked", metadata: ["error": "\(LineEscaping.oneLine("\(error)"))"])
            return report
        }
        guard !locks.isEmpty else { return report }
        let localAddresses = Set(addresses)
        let ownHandles = self.ownHandles
        let now = clock.wallClockSeconds()
        for share in wiring.shares where configuration.shares[share.name] != nil {
            let shareLocks = locks.filter { $0.share == share.name }
            guard !shareLocks.isEmpty else { continue }
            if !share.isLocal, (try? wiring.service.isMountedNow(share)) != true { continue }
            let fileNumbers = Array(Set(shareLocks.compactMap(\.fileNumber))).sorted()
            let store = self.store
            let root = share.usablePath
            guard let work = BoundedWork.start({ () -> [TakeoverStore.Entry] in
                var entries: [TakeoverStore.Entry] = []
                for fileNumber in fileNumbers {
                    store.sweep(fileNumber: fileNumber, shareRoot: root, now: now)
                    entries += store.records(fileNumber: fileNumber, shareRoot: root)
                }
                return entries
            }), let entries = work.wait(seconds: shareBound)
            else {
                let line = "takeover records on share \(share.name) not read: the share did not answer within \(Int(shareBound)) s"
                logger.warning("takeover records not read", metadata: ["share": "\(share.name)", "mount_point": "\(root)"])
                report.warnings.append(line)
                continue
            }
            for entry in entries {
                switch entry {
                case .unusable(let file, let reason):
                    warnOnce(
                        key: file, share: share.name, lock: nil, file: file, reason: "takeover record ignored: \(reason)", record: nil, into: &report)
                case .record(let record, let file):
                    for lock in shareLocks {
                        let key = file + "|" + lock.domainUUID
                        guard !handled.contains(key) else { continue }
                        let cluster = configuration.shares[share.name]?.cluster
                        let verdict = TakeoverJudgement.judge(
                            record, use: LocalImageUse(lock: lock), localHostID: hostID, localAddresses: localAddresses, now: now,
                            ownHandle: { ownHandles.status(fileNumber: record.fileNumber, cluster: cluster, localAddresses: localAddresses) })
                        switch verdict {
                        case .ignore(let reason):
                            logger.debug("takeover record not about this domain", metadata: ["file": "\(file)", "domain": "\(lock.domainName)", "reason": "\(reason)"])
                        case .warn(let reason) where record.closedHandles.isEmpty:
                            // No handle was closed: nothing of this host's was touched, and the
                            // new holder may open the image after this look — judged again on
                            // the next beat, warned about once.
                            warnOnce(key: key + "|" + reason, share: share.name, lock: lock, file: file, reason: reason, record: record, into: &report)
                        case .warn(let reason):
                            warnOnce(key: key, share: share.name, lock: lock, file: file, reason: reason, record: record, into: &report)
                        case .stop(let reason):
                            if stop(lock, record: record, file: file, share: share.name, reason: reason, into: &report) { handled.insert(key) }
                        }
                    }
                }
            }
        }
        return report
    }

    private mutating func warnOnce(
        key: String, share: String, lock: AttachmentLock?, file: String, reason: String, record: TakeoverRecord?, into report: inout Report
    ) {
        guard handled.insert(key).inserted else { return }
        var event = AuditEvent(.takeoverIgnored, message: "takeover record not acted on", extra: ["file": file, "reason": reason])
        event[.share] = share
        if let lock {
            event[.domain] = lock.domainName
            event[.domainUUID] = lock.domainUUID
            event[.image] = lock.image
        }
        if let record { event.extra["takeover"] = record.summary }
        logger.audit(event)
        report.warnings.append("takeover record \(file) not acted on\(lock.map { " for domain \($0.domainName)" } ?? ""): \(reason)")
    }

    /// Stops the lock's domain per `on_takeover`; true when done (or nothing is left to do).
    private func stop(_ lock: AttachmentLock, record: TakeoverRecord, file: String, share: String, reason: String, into report: inout Report) -> Bool {
        var event = AuditEvent(.takeoverStop, message: "", extra: ["file": file, "takeover": record.summary, "reason": reason])
        event[.share] = share
        event[.domain] = lock.domainName
        event[.domainUUID] = lock.domainUUID
        event[.image] = lock.image
        event[.client] = record.newHolder.addresses.joined(separator: ",")
        let action = configuration.onTakeover
        event.extra["action"] = action.rawValue
        do {
            var outcome = "logged only (on_takeover = \"log\")"
            if action != .log {
                let control = try domainControl()
                let domain = try control.domain(lock.domainUUID)
                guard domain.isActive else {
                    logger.info("domain of a taken-over image is not running", metadata: ["domain": "\(lock.domainName)", "file": "\(file)"])
                    return true
                }
                switch action {
                case .pause:
                    if domain.state != .paused { try control.suspend(lock.domainUUID) }
                    let after = try control.domain(lock.domainUUID)
                    guard after.state == .paused else {
                        throw LibvirtError(call: "virDomainSuspend", message: "the domain is \(after.state.rawValue) after the suspend")
                    }
                    outcome = "paused"
                case .destroy:
                    try control.destroy(lock.domainUUID)
                    outcome = "destroyed"
                case .log:
                    break
                }
            }
            event.message = "another host took over the domain's image and this host's handle is gone: domain \(outcome)"
            event.extra["outcome"] = outcome
            logger.audit(event)
            MetricsRecorder.shared.increment(.takeoverStops, labels: ["action": action.rawValue])
            report.stopped.append((lock.domainName, outcome, record.summary))
            return true
        } catch let error as LibvirtError where error.isNoSuchDomain {
            logger.info("domain of a taken-over image is not defined here", metadata: ["domain": "\(lock.domainName)", "file": "\(file)"])
            return true
        } catch {
            var failed = event
            failed.kind = .takeoverIgnored
            failed.level = .error
            failed.message = "another host took over the domain's image but the domain could not be stopped; retried on the next beat"
            failed.extra["error"] = LineEscaping.oneLine("\(error)")
            logger.audit(failed)
            MetricsRecorder.shared.increment(.takeoverStops, labels: ["action": "failed"])
            report.warnings.append("domain \(lock.domainName) not stopped after a takeover (\(record.summary)): \(LineEscaping.oneLine("\(error)"))")
            return false
        }
    }
}

extension LocalImageUse {
    /// The use an attachment lock records: dated by `recordedAt`, else `createdAt`.
    public init(lock: AttachmentLock) {
        self.init(lockID: lock.id, fileNumber: lock.fileNumber, since: lock.latestRecordingSeconds, sinceText: lock.recordedAt ?? lock.createdAt)
    }
}

/// A beat and its takeover check, as `heartbeat --once` reports them.
public struct HeartbeatRound {
    public var beat: HeartbeatBeat.Outcome
    public var takeovers: TakeoverWatch.Report

    public init(beat: HeartbeatBeat.Outcome, takeovers: TakeoverWatch.Report) {
        self.beat = beat
        self.takeovers = takeovers
    }
}
