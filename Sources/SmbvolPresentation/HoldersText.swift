import LockHygiene
import SmbvolLogging
import SmbvolSystem
import SmbvolUseCases

/// `holders`' output: a block of lines per share, or JSON.
public enum HoldersText {
    /// `holders --json`: `{"shares": [{"share", "directory", "mounted", "error", "hosts": […], "unusable": […]}]}`.
    public static func document(_ shares: [ShareHolders]) -> String {
        JSONWriter.document(.object([("shares", .array(shares.map(json)))]))
    }

    /// What must reach stderr as well as the audit log: each host_id collision and each share
    /// whose records could not be read.
    public static func warnings(_ shares: [ShareHolders]) -> [String] {
        shares.flatMap { share in
            share.hosts.filter(\.collision).map {
                "share \(share.share): " + HeartbeatText.collision(hostname: LineEscaping.oneLine($0.hostname), addresses: $0.addresses, hostID: $0.hostID)
            } + (share.error.map { ["share \(share.share): \($0)"] } ?? [])
        }
    }

    public static func json(_ share: ShareHolders) -> JSONValue {
        .object([
            ("share", .string(share.share)), ("directory", .string(share.directory)), ("mounted", .bool(share.mounted)),
            ("error", .nullable(share.error)), ("hosts", .array(share.hosts.map(json))),
            ("unusable", .array(share.unusable.map { .object([("file", .string($0.file)), ("reason", .string($0.reason))]) })),
        ])
    }

    public static func json(_ host: HostHolder) -> JSONValue {
        .object([
            ("host_id", .string(host.hostID)), ("hostname", .string(host.hostname)), ("addresses", .strings(host.addresses)),
            ("written_at", .string(host.writtenAt)), ("age_seconds", .number(host.ageSeconds)), ("interval_seconds", .number(host.intervalSeconds)),
            ("fresh", .bool(host.fresh)), ("this_host", .bool(host.thisHost)), ("collision", .bool(host.collision)),
            ("dropped_entries", .strings(host.droppedEntries)),
            ("images", .array(host.images.map { .object([("path", .string($0.path)), ("domain_name", .string($0.domainName)), ("domain_uuid", .string($0.domainUUID))]) })),
        ])
    }

    public static func lines(_ share: ShareHolders) -> [String] {
        let title = "share \(share.share) (\(share.directory))"
        guard share.mounted else { return ["\(title): not mounted; no records read"] }
        if let error = share.error { return ["\(title): \(error)"] }
        var lines = ["\(title): \(share.hosts.count) host(s)"]
        for host in share.hosts {
            if host.collision {
                lines.append(
                    "  HOST_ID COLLISION: the record below has this host's host_id \(host.hostID) but lists addresses that are not this host's: "
                        + "another host uses the same host_id (cloned /etc/machine-id?); it counts as another host — give one of them a distinct host_id")
            }
            let age = host.ageSeconds < 0
                ? "in the future by \(StaleHandleClassifier.seconds(-host.ageSeconds))" : "\(StaleHandleClassifier.seconds(host.ageSeconds)) ago"
            lines.append(
                "  \(host.hostname) (\(host.hostID)\(host.thisHost ? ", this host" : host.collision ? ", NOT this host: same host_id" : ""))  last beat \(host.writtenAt), \(age): "
                    + "\(host.fresh ? "fresh" : "stale")  addresses \(host.addresses.joined(separator: ", "))")
            if host.images.isEmpty { lines.append("      no images held") }
            for image in host.images {
                lines.append("      \(image.path)  domain \(image.domainName.isEmpty ? "-" : image.domainName) (\(image.domainUUID))")
            }
            for dropped in host.droppedEntries { lines.append("      entry dropped (the rest of the record is used): \(dropped)") }
        }
        for record in share.unusable { lines.append("  ignored \(record.file): \(record.reason)") }
        return lines
    }
}
