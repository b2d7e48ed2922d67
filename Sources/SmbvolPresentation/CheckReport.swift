import DiskImages
import DomainXML
import HandleEvidence
import StaleHandleCleanup
import LockHygiene
import SmbvolShares
import SmbvolLogging
import SmbvolSystem

/// `check`'s output, human or JSON. The JSON keys are relied on by tools outside this
/// repository: `{"domain": {"name", "uuid"}, "verdict", "disks": [{"target", "image", "share",
/// "cluster_path", "handles": [{"location", "owner", "client_addresses", "decision",
/// "reason", "heartbeats"}]}], "errors": []}` (`heartbeats`: the heartbeat evidence per holder
/// address, see `heartbeatJSON`).
public struct CheckReport {
    public var inspection: DomainInspection
    public var domain: DomainDefinition
    /// Share name → currently mounted.
    public var mounted: [String: Bool]

    public init(inspection: DomainInspection, domain: DomainDefinition, mounted: [String: Bool]) {
        self.inspection = inspection
        self.domain = domain
        self.mounted = mounted
    }

    public var verdictLine: String {
        if let failure = inspection.failure { return "verdict: error — \(failure.description)" }
        let operation = inspection.policy.operation == .migration ? "incoming migration" : "start"
        let closes = inspection.images.reduce(0) { $0 + ($1.decisions?.locationsToClose.count ?? 0) }
        switch inspection.verdict {
        case .refuse:
            let summaries = inspection.images.compactMap { $0.decisions?.verdict == .refuse ? "\($0.image.target): \($0.decisions?.summary ?? "")" : nil }
            return "verdict: refuse — the \(operation) would be refused (\(summaries.joined(separator: "; ")))"
        case .proceed:
            return "verdict: proceed — the \(operation) would proceed\(closes > 0 ? " after closing \(closes) stale handle(s)" : "")"
        }
    }

    public func text() -> String {
        var lines: [String] = []
        let mode = inspection.policy.operation == .migration ? "incoming migration" : "start"
        lines.append("domain \(domain.name) (\(domain.uuid)): \(mode) check\(inspection.policy.force ? " with --force" : ""); nothing is mounted or closed")
        for image in inspection.images {
            let state = mounted[image.image.share.name] == true ? "mounted at \(image.image.shareDirectory)" : "would mount at \(image.image.shareDirectory)"
            lines.append("disk \(image.image.target)\(image.image.isBackingFile ? " (backing file)" : ""): share \(image.image.share.name), \(state)")
            lines.append("  image \(image.image.image) → cluster path \(image.clusterPath ?? "?")")
            guard let decisions = image.decisions else { continue }
            if decisions.decisions.isEmpty { lines.append("  no handles open") }
            for decision in decisions.decisions {
                let idle = decision.idleSeconds.map { StaleHandleClassifier.seconds($0) } ?? "-"
                let addresses = decision.clientAddresses.isEmpty ? "-" : decision.clientAddresses.joined(separator: ",")
                lines.append(
                    "  handle \(decision.handle.location) owner \(decision.handle.ownerName) client \(addresses) idle \(idle): \(Self.verb(decision.action)) — \(decision.reason)")
                for heartbeat in decision.heartbeats { lines.append("    heartbeat \(heartbeat.note)") }
            }
            for claim in decisions.claims { lines.append("  claim \(claim.status.rawValue): \(claim.note)") }
        }
        for disk in inspection.unmanagedDisks {
            lines.append("disk \(disk.target): \(disk.source ?? "no source file") is on no configured share (ignored)")
        }
        lines.append(verdictLine)
        // Names, paths, owners and addresses come from the XML and the cluster: one line each.
        return lines.map(LineEscaping.oneLine).joined(separator: "\n") + "\n"
    }

    public static func verb(_ action: HandleAction) -> String {
        switch action {
        case .close: return "would close"
        case .keep: return "keep"
        case .refuse: return "would refuse"
        case .report: return "report"
        }
    }

    /// `{"address", "status" (alive | stale | no-record | ignored), "host_id", "hostname",
    /// "age_seconds", "written_at", "domains", "collision", "dropped_entries", "note"}`; unknown
    /// values are null.
    public static func heartbeatJSON(_ heartbeat: HolderHeartbeat) -> JSONValue {
        .object([
            ("address", .string(heartbeat.address)), ("status", .string(heartbeat.status.rawValue)),
            ("host_id", .nullable(heartbeat.hostID)), ("hostname", .nullable(heartbeat.hostname)),
            ("age_seconds", heartbeat.ageSeconds.map { .number($0.rounded()) } ?? .null), ("written_at", .nullable(heartbeat.writtenAt)),
            ("domains", .strings(heartbeat.domains)), ("collision", .bool(heartbeat.collision)),
            ("dropped_entries", .strings(heartbeat.droppedEntries)), ("note", .string(heartbeat.note)),
        ])
    }

    public func json() -> String {
        var disks: [JSONValue] = []
        for image in inspection.images {
            let handles: [JSONValue] = (image.decisions?.decisions ?? []).map { decision in
                .object([
                    ("location", .string(decision.handle.location)), ("owner", .string(decision.handle.ownerName)),
                    ("client_addresses", .strings(decision.clientAddresses)), ("decision", .string(decision.action.rawValue)),
                    ("reason", .string(decision.reason)), ("heartbeats", .array(decision.heartbeats.map(Self.heartbeatJSON))),
                ])
            }
            disks.append(
                .object([
                    ("target", .string(image.image.target)), ("image", .string(image.image.image)), ("share", .string(image.image.share.name)),
                    ("cluster_path", .nullable(image.clusterPath)), ("handles", .array(handles)),
                ]))
        }
        for disk in inspection.unmanagedDisks {
            disks.append(
                .object([
                    ("target", .string(disk.target)), ("image", .nullable(disk.source)), ("share", .null), ("cluster_path", .null),
                    ("handles", .array([])),
                ]))
        }
        let errors = inspection.failure.map { [$0.description] } ?? []
        return JSONWriter.document(
            .object([
                ("domain", .object([("name", .string(domain.name)), ("uuid", .string(domain.uuid))])),
                ("verdict", .string(inspection.verdict.rawValue)), ("disks", .array(disks)), ("errors", .strings(errors)),
            ]))
    }

    /// A host_id collision and dropped record entries are worth more than a line in the report:
    /// one warning each for stderr (the use case audits them), each note once.
    public var heartbeatWarnings: [String] {
        var seen: Set<String> = []
        var warnings: [String] = []
        for image in inspection.images {
            for decision in image.decisions?.decisions ?? [] {
                for heartbeat in decision.heartbeats where (heartbeat.collision || !heartbeat.droppedEntries.isEmpty) && seen.insert(heartbeat.note).inserted {
                    warnings.append("heartbeat \(LineEscaping.oneLine(heartbeat.note))")
                }
            }
        }
        return warnings
    }
}
