import DomainXML
import HandleEvidence
import LockHygiene
import SmbvolLogging
import SmbvolSystem

/// `check`'s output, human or JSON. The JSON keys are relied on by tools outside this
/// repository: `{"domain": {"name", "uuid"}, "verdict", "disks": [{"target", "image", "share",
/// "cluster_path", "handles": [{"location", "owner", "client_addresses", "decision",
/// "reason", "heartbeats"}]}], "errors": []}` (`heartbeats`: the heartbeat evidence per holder
/// address, see `heartbeatJSON`).
struct CheckReport {
    var inspection: DomainInspection
    var domain: DomainDefinition
    /// Share name → currently mounted.
    var mounted: [String: Bool]

    var verdictLine: String {
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

    func text() -> String {
        var lines: [String] = []
        let mode = inspection.policy.operation == .migration ? "incoming migration" : "start"
        lines.append("domain \(domain.name) (\(domain.uuid)): \(mode) check\(inspection.policy.force ? " with --force" : ""); nothing is mounted or closed")
        for image in inspection.images {
            let state = mounted[image.image.share] == true ? "mounted at \(image.image.shareDirectory)" : "would mount at \(image.image.shareDirectory)"
            lines.append("disk \(image.image.target)\(image.image.isBackingFile ? " (backing file)" : ""): share \(image.image.share), \(state)")
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
        }
        for disk in inspection.unmanagedDisks {
            lines.append("disk \(disk.target): \(disk.source ?? "no source file") is on no configured share (ignored)")
        }
        lines.append(verdictLine)
        // Names, paths, owners and addresses come from the XML and the cluster: one line each.
        return lines.map(LineEscaping.oneLine).joined(separator: "\n") + "\n"
    }

    static func verb(_ action: HandleAction) -> String {
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
    static func heartbeatJSON(_ heartbeat: HolderHeartbeat) -> String {
        let q = JSONString.quoted
        return "{\"address\": \(q(heartbeat.address)), \"status\": \(q(heartbeat.status.rawValue)), "
            + "\"host_id\": \(heartbeat.hostID.map(q) ?? "null"), \"hostname\": \(heartbeat.hostname.map(q) ?? "null"), "
            + "\"age_seconds\": \(heartbeat.ageSeconds.map { String(Int($0.rounded())) } ?? "null"), "
            + "\"written_at\": \(heartbeat.writtenAt.map(q) ?? "null"), \"domains\": \(JSONString.array(heartbeat.domains)), "
            + "\"collision\": \(heartbeat.collision), \"dropped_entries\": \(JSONString.array(heartbeat.droppedEntries)), "
            + "\"note\": \(q(heartbeat.note))}"
    }

    func json() -> String {
        let q = JSONString.quoted
        var disks: [String] = []
        for image in inspection.images {
            let handles = (image.decisions?.decisions ?? []).map { decision in
                "{\"location\": \(q(decision.handle.location)), \"owner\": \(q(decision.handle.ownerName)), "
                    + "\"client_addresses\": \(JSONString.array(decision.clientAddresses)), "
                    + "\"decision\": \(q(decision.action.rawValue)), \"reason\": \(q(decision.reason)), "
                    + "\"heartbeats\": [\(decision.heartbeats.map(Self.heartbeatJSON).joined(separator: ", "))]}"
            }
            disks.append(
                "{\"target\": \(q(image.image.target)), \"image\": \(q(image.image.image)), \"share\": \(q(image.image.share)), "
                    + "\"cluster_path\": \(image.clusterPath.map(q) ?? "null"), \"handles\": [\(handles.joined(separator: ", "))]}")
        }
        for disk in inspection.unmanagedDisks {
            disks.append(
                "{\"target\": \(q(disk.target)), \"image\": \(disk.source.map(q) ?? "null"), \"share\": null, \"cluster_path\": null, \"handles\": []}")
        }
        let errors = inspection.failure.map { [$0.description] } ?? []
        return "{\"domain\": {\"name\": \(q(domain.name)), \"uuid\": \(q(domain.uuid))}, \"verdict\": \(q(inspection.verdict.rawValue)), "
            + "\"disks\": [\(disks.joined(separator: ", "))], \"errors\": \(JSONString.array(errors))}\n"
    }
}
