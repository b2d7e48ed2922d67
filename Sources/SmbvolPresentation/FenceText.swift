import SmbvolSystem
import SmbvolUseCases

/// `fence`, `unfence`, `fence --list` and the fence agent's output: lines, or JSON documents.
public enum FenceText {
    /// `fence --list --json`: `{"fenced": [{host, addresses, shares, fenced_at, fenced_by, in_force, host_source, recorded_here}]}`.
    public static func listDocument(_ fenced: [StorageFence.Listed]) -> String {
        JSONWriter.document(.object([("fenced", .array(fenced.map(json)))]))
    }

    /// `fence --list`: a line per fenced host, or one line saying none is.
    public static func listLines(_ fenced: [StorageFence.Listed], shareCount: Int, clusterName: String) -> [String] {
        fenced.isEmpty ? ["no host is fenced on the \(shareCount) share(s) of cluster \(clusterName)"] : fenced.map(line)
    }

    /// `fence --json`: `{"fence": {host, addresses, source, still_beats_on, dry_run, changed_shares, closed_sessions, verified}}`.
    public static func fenceDocument(_ target: FenceTarget, dryRun: Bool, outcome: StorageFence.Outcome) -> String {
        let extra: [(key: String, value: JSONValue)] = [
            ("changed_shares", .strings(outcome.changedShares)), ("closed_sessions", .strings(outcome.closedSessions)),
            ("verified", .bool(outcome.verified)),
        ]
        return JSONWriter.document(.object([("fence", json(target, dryRun: dryRun, extra: extra))]))
    }

    /// `unfence --json`: `{"unfence": {host, addresses, source, still_beats_on, dry_run, changed_shares}}`.
    public static func unfenceDocument(_ target: FenceTarget, dryRun: Bool, changedShares: [String]) -> String {
        JSONWriter.document(.object([("unfence", json(target, dryRun: dryRun, extra: [("changed_shares", .strings(changedShares))]))]))
    }

    public static func json(_ entry: StorageFence.Listed) -> JSONValue {
        .object([
            ("host", .string(entry.host)), ("addresses", .strings(entry.addresses)), ("shares", .strings(entry.shares)),
            ("fenced_at", .nullable(entry.fencedAt)), ("fenced_by", .nullable(entry.fencedBy)), ("in_force", .bool(entry.inForce)),
            ("host_source", .nullable(entry.hostSource)), ("recorded_here", .bool(entry.recordedHere)),
        ])
    }

    /// A fence or unfence as `--json` prints it.
    public static func json(_ target: FenceTarget, dryRun: Bool, extra: [(key: String, value: JSONValue)]) -> JSONValue {
        .object(
            [
                ("host", .string(target.host)), ("addresses", .strings(target.addresses.sorted())), ("source", .string(target.source)),
                ("still_beats_on", .strings(target.beatingOn)), ("dry_run", .bool(dryRun)),
            ] + extra)
    }

    public static func line(_ entry: StorageFence.Listed) -> String {
        let addresses = entry.addresses.joined(separator: ",")
        if !entry.inForce {
            let since = entry.fencedAt.map { "since \($0) by \(entry.fencedBy ?? "?")" } ?? ""
            return "\(entry.host)  \(addresses)  recorded \(since), but no share denies it any more"
        }
        let shares = "on \(entry.shares.joined(separator: ", "))"
        if entry.recordedHere {
            return "\(entry.host)  \(addresses)  since \(entry.fencedAt ?? "?") by \(entry.fencedBy ?? "?")  \(shares)"
        }
        let named: String
        switch entry.hostSource {
        case "heartbeat records": named = "host named by its heartbeat records"
        case "host_map": named = "host named by host_map"
        default: named = "no heartbeat record lists these addresses"
        }
        return "\(entry.host)  \(addresses)  \(shares)  (\(named); fenced from another host: no fence record here)"
    }

    /// The fence agent's stdout lines for an answer (ClusterLabs convention).
    public static func agentLines(_ answer: FenceAgent.Answer) -> [String] {
        switch answer {
        case .poweredOff: return ["Success: Powered OFF"]
        case .poweredOn: return ["Success: Powered ON"]
        case .statusOn: return ["Status: ON"]
        case .statusOff: return ["Status: OFF"]
        case .hosts(let hosts): return hosts.map { "\($0.hostID),\($0.hostname)" }
        case .passed: return []
        }
    }
}
