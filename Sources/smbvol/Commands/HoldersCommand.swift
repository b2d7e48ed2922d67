import ArgumentParser
import LockHygiene
import SMBMounts
import SmbvolShares
import SmbvolLogging
import SmbvolSystem
import SmbvolUseCases

/// `smbvol holders`: the fleet view from the heartbeat records on each share — which host holds
/// which image for which domain, and when it last beat.
struct HoldersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "holders",
        abstract: "Show which hosts hold which images on each share, from their heartbeat records.",
        discussion: """
            Reads .smbvol/hosts/*.json on every configured share that is mounted (or local_path). A record \
            is fresh when younger than heartbeat_fresh_seconds (default 3 × heartbeat_interval_seconds) by \
            this host's clock, or dated in the future. Records are written by anyone who can write the share: \
            they are evidence of liveness, not of identity. A record with this host's host_id that lists \
            addresses that are not this host's is another host using the same host_id (a cloned machine-id): \
            shown as a HOST_ID COLLISION, with a warning on stderr. Entries of a record that no reader accepts \
            are shown as dropped (the rest of the record is used). A mounted share is probed first: a hung \
            share is reported, not waited for. Nothing is changed.
            """)

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var loggingOptions: LoggingOptions

    @Option(name: .long, help: ArgumentHelp("Only this configured share.", valueName: "name"))
    var share: String?

    @Flag(name: .long, help: "Print JSON: {\"shares\": [{\"share\", \"directory\", \"mounted\", \"error\", \"hosts\": […], \"unusable\": […]}]}.")
    var json = false

    func run() throws {
        let logger = loggingOptions.bootstrap()
        let shares = try reportingErrors { () throws -> [ShareHolders] in
            let configuration = try configOption.load()
            return try ListHolders(configuration: configuration, catalog: try ShareCatalog(configuration: configuration), logger: logger)(only: share)
        }
        let output = OutputWriter()
        if json {
            output.write(JSONWriter.document(.object([("shares", .array(shares.map(HoldersText.json)))])))
        } else {
            for share in shares { HoldersText.lines(share).forEach(output.line) }
        }
        output.flush()
        // Audit events reach the system log only: the warnings go to stderr too.
        for share in shares {
            for host in share.hosts where host.collision {
                writeToStandardError(
                    "smbvol: warning: share \(share.share): HOST_ID COLLISION: host \(oneLine(host.hostname)) at \(host.addresses.joined(separator: ", ")) "
                        + "writes records with this host's host_id \(host.hostID) (cloned /etc/machine-id?); give one of them a distinct host_id in smbvol.toml\n")
            }
            if let error = share.error { writeToStandardError("smbvol: warning: share \(share.share): \(error)\n") }
        }
    }
}

/// `holders`' output: a block of lines per share, or JSON.
enum HoldersText {
    static func json(_ share: ShareHolders) -> JSONValue {
        .object([
            ("share", .string(share.share)), ("directory", .string(share.directory)), ("mounted", .bool(share.mounted)),
            ("error", .nullable(share.error)), ("hosts", .array(share.hosts.map(json))),
            ("unusable", .array(share.unusable.map { .object([("file", .string($0.file)), ("reason", .string($0.reason))]) })),
        ])
    }

    static func json(_ host: HostHolder) -> JSONValue {
        .object([
            ("host_id", .string(host.hostID)), ("hostname", .string(host.hostname)), ("addresses", .strings(host.addresses)),
            ("written_at", .string(host.writtenAt)), ("age_seconds", .number(host.ageSeconds)), ("interval_seconds", .number(host.intervalSeconds)),
            ("fresh", .bool(host.fresh)), ("this_host", .bool(host.thisHost)), ("collision", .bool(host.collision)),
            ("dropped_entries", .strings(host.droppedEntries)),
            ("images", .array(host.images.map { .object([("path", .string($0.path)), ("domain_name", .string($0.domainName)), ("domain_uuid", .string($0.domainUUID))]) })),
        ])
    }

    static func lines(_ share: ShareHolders) -> [String] {
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
