import AttachmentLocks
import HandleEvidence
import StaleHandleCleanup
import HostHeartbeat
import LockHygiene
import Logging
import QumuloClient
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolLogging

/// `smbvol handles close`: which handles an operator's request names, and closing them with an
/// audit event each (the operator — SUDO_USER, else USER — is recorded).
public struct CloseHandlesByHand {
    public enum Request: Sendable {
        /// These locations, as given.
        case locations([String])
        /// Every handle on the file at this cluster path: the operator forcing it.
        case everyHandle(path: String)
        /// Only what lock hygiene finds stale on the file, as a VM start would decide.
        case staleOnly(path: String, keepClients: [String])

        var path: String? {
            switch self {
            case .locations: return nil
            case .everyHandle(let path), .staleOnly(let path, _): return path
            }
        }
    }

    /// What to close, and what was decided about the rest.
    public struct Plan: Sendable {
        public var targets: [(location: String, detail: String)] = []
        /// Lock-hygiene decisions that keep or refuse a handle (stale-only).
        public var kept: [HandleDecision] = []
        /// Set when a live holder is on the file: nothing may be closed (stale-only).
        public var refusal: String?
        /// The file's number: closes are confirmed by listing this file only.
        public var fileNumbers: Set<String>?
        /// Handles the cluster listed for other files (a cluster that ignores `file_number`).
        public var foreignHandlesIgnored = 0
    }

    public let client: QumuloClient
    public let clusterName: String
    public let configuration: SmbvolConfiguration
    public let shares: ShareCatalog
    public let logger: Logger
    public let environment: [String: String]
    public var localAddresses: @Sendable () -> Set<String>

    public init(
        client: QumuloClient, clusterName: String, configuration: SmbvolConfiguration, shares: ShareCatalog, logger: Logger,
        environment: [String: String], localAddresses: @escaping @Sendable () -> Set<String>
    ) {
        self.client = client
        self.clusterName = clusterName
        self.configuration = configuration
        self.shares = shares
        self.logger = logger
        self.environment = environment
        self.localAddresses = localAddresses
    }

    public func plan(_ request: Request, cluster: String?) throws -> Plan {
        var plan = Plan()
        switch request {
        case .locations(let locations):
            plan.targets = locations.map { ($0, "") }
        case .everyHandle(let path):
            let attributes = try client.fileAttributes(path: path)
            plan.fileNumbers = [attributes.fileNumber]
            // Never trust the filter: a cluster that ignores file_number must not make this
            // close every handle on the cluster.
            let onFile = try HandlesOnFile(fileNumber: attributes.fileNumber, client: client)
            plan.foreignHandlesIgnored = onFile.foreignCount
            plan.targets = onFile.handles.map { ($0.location, "owner \(client.ownerName(authId: $0.owner)) on \(attributes.path)") }
        case .staleOnly(let path, let keepClients):
            let attributes = try client.fileAttributes(path: path)
            plan.fileNumbers = [attributes.fileNumber]
            let decisions = try staleDecisions(path: path, keepClients: keepClients, cluster: cluster)
            plan.kept = decisions.decisions.filter { $0.action != .close }
            if decisions.verdict == .refuse { plan.refusal = decisions.summary }
            plan.targets = decisions.decisions.filter { $0.action == .close }.map { ($0.handle.location, $0.reason) }
        }
        return plan
    }

    /// The lock-hygiene decisions for one file, as a VM start would make them: the same
    /// evidence (attachment records by the file's identity, heartbeat records) and decider.
    private func staleDecisions(path: String, keepClients: [String], cluster: String?) throws -> ImageDecisions {
        let hygiene = ImageHygiene(
            client: client, shares: shares, shareRoots: ShareRootResolver(stateDirectory: configuration.stateDirectory),
            records: AttachmentRecordIndex(records: try AttachmentLockStore(stateDirectory: configuration.stateDirectory).load()),
            localAddresses: localAddresses(), protectedClients: Set(configuration.policy.protectedClients + keepClients),
            localOpeners: LocalImageOpeners(), localHostID: { [configuration] in try? HostIdentity.hostID(configured: configuration.hostID) }, logger: logger)
        let policy = HygienePolicy.configured(configuration, operation: .start)
        // The file as a VM start would see it: exclusive, no domain of its own being started.
        return try hygiene.decide(
            clusterPath: path, cluster: cluster, excludingDomain: "", access: .exclusive, decider: LockHygieneDecider(policy: policy),
            location: { [client, shares, configuration] in
                HeartbeatEvidenceCollector.shareLocation(
                    ofClusterPath: path, shares: shares, stateDirectory: configuration.stateDirectory, client: client)
            }
        ).decisions
    }

    /// Closes the plan's targets (batches, confirmed by listing again) and audits each.
    public func close(_ plan: Plan, request: Request) throws -> CloseReport {
        let report = try client.closeHandles(locations: plan.targets.map(\.location), fileNumbers: plan.fileNumbers)
        let details = Dictionary(plan.targets.map { ($0.location, $0.detail) }, uniquingKeysWith: { first, _ in first })
        let reason = { (location: String) -> String in
            switch request {
            case .staleOnly: return "operator --stale-only: \(details[location] ?? "")"
            case .locations: return "operator request"
            case .everyHandle: return "operator request: every handle on the file (\(details[location] ?? ""))"
            }
        }
        // Every handle on a file, whatever the evidence says, is the operator forcing it.
        let forced: Bool
        if case .everyHandle = request { forced = true } else { forced = false }
        for closed in report.closed {
            logger.audit(
                auditEvent(
                    forced ? .forcedClose : .close, forced ? "force-closed SMB handle (operator, --path)" : "closed SMB handle",
                    closed, decision: "closed", reason: reason(closed), path: request.path))
        }
        for failure in report.failed {
            var event = auditEvent(.closeFailed, "SMB handle not closed", failure.location, decision: "not-closed", reason: reason(failure.location), path: request.path)
            event.extra["error"] = failure.reason
            logger.audit(event)
        }
        return report
    }

    private func auditEvent(_ kind: AuditEventKind, _ message: String, _ location: String, decision: String, reason: String, path: String?) -> AuditEvent {
        var event = AuditEvent(kind, message: message)
        event[.location] = location
        event[.decision] = decision
        event[.reason] = reason
        event[.clusterPath] = path
        event[.cluster] = clusterName
        event[.operator] = AuditEvent.invokingOperator(environment: environment)
        return event
    }
}
