import ArgumentParser
import HostHeartbeat
import LockHygiene
import SMBMounts
import SmbvolConfig
import SmbvolSystem

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
            they are evidence of liveness, not of identity. Nothing is changed.
            """)

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var loggingOptions: LoggingOptions

    @Option(name: .long, help: ArgumentHelp("Only this configured share.", valueName: "name"))
    var share: String?

    @Flag(name: .long, help: "Print JSON: {\"shares\": [{\"share\", \"directory\", \"mounted\", \"hosts\": […], \"unusable\": […]}]}.")
    var json = false

    func run() throws {
        _ = loggingOptions.bootstrap()
        let document = try reportingErrors { () throws -> HoldersDocument in
            let configuration = try configOption.load()
            let shares = try ShareCatalog(configuration: configuration)
            var names = shares.names
            if let share {
                guard configuration.shares[share] != nil else {
                    throw ValidationError("share \"\(share)\" is not configured (configured: \(names.joined(separator: ", ")))")
                }
                names = [share]
            }
            let ownHostID = try? HostIdentity.hostID(configured: configuration.hostID)
            let table = (try? MountTable.read(from: ProcMountTableReader())) ?? MountTable(entries: [])
            let now = SystemClock().wallClockSeconds()
            let reader = HeartbeatReader()
            return HoldersDocument(
                shares: try names.map { name in
                    let mountable = try shares.share(named: name)
                    let mounted = mountable.isLocal || table.entry(at: mountable.mountPoint).map { mountable.export.matches(mountSource: $0.source) } == true
                    var result = ShareHolders(share: name, directory: mountable.usablePath, mounted: mounted)
                    guard mounted else { return result }
                    for entry in reader.allRecords(shareRoot: mountable.usablePath) {
                        switch entry {
                        case .record(let record, _):
                            result.hosts.append(
                                HostHolder(record, now: now, freshSeconds: configuration.effectiveHeartbeatFreshSeconds, ownHostID: ownHostID))
                        case .unusable(let file, let reason):
                            result.unusable.append(UnusableRecord(file: file, reason: reason))
                        }
                    }
                    return result
                })
        }
        let output = OutputWriter()
        if json {
            output.line(try reportingErrors { try LockJSON.encode(document) })
        } else {
            for share in document.shares { share.text().forEach(output.line) }
        }
        output.flush()
    }
}

struct HoldersDocument: Encodable {
    var shares: [ShareHolders]
}

struct ShareHolders: Encodable {
    var share: String
    var directory: String
    var mounted: Bool
    var hosts: [HostHolder] = []
    var unusable: [UnusableRecord] = []

    func text() -> [String] {
        guard mounted else { return ["share \(share) (\(directory)): not mounted; no records read"] }
        var lines = ["share \(share) (\(directory)): \(hosts.count) host(s)"]
        for host in hosts {
            let age = host.ageSeconds < 0
                ? "in the future by \(StaleHandleClassifier.seconds(-host.ageSeconds))" : "\(StaleHandleClassifier.seconds(host.ageSeconds)) ago"
            lines.append(
                "  \(host.hostname) (\(host.hostID)\(host.thisHost ? ", this host" : ""))  last beat \(host.writtenAt), \(age): "
                    + "\(host.fresh ? "fresh" : "stale")  addresses \(host.addresses.joined(separator: ", "))")
            if host.images.isEmpty { lines.append("      no images held") }
            for image in host.images {
                lines.append("      \(image.path)  domain \(image.domainName.isEmpty ? "-" : image.domainName) (\(image.domainUUID))")
            }
        }
        for record in unusable { lines.append("  ignored \(record.file): \(record.reason)") }
        return lines
    }
}

struct HostHolder: Encodable {
    var hostID: String
    var hostname: String
    var addresses: [String]
    var writtenAt: String
    var ageSeconds: Double
    var intervalSeconds: Double
    var fresh: Bool
    var thisHost: Bool
    var images: [HeldImageJSON]

    init(_ record: HeartbeatRecord, now: Double, freshSeconds: Double, ownHostID: String?) {
        hostID = record.hostID
        hostname = record.hostname
        addresses = record.addresses
        writtenAt = record.writtenAtText
        ageSeconds = (now - record.writtenAt).rounded()
        intervalSeconds = record.intervalSeconds
        fresh = now - record.writtenAt <= freshSeconds
        thisHost = record.hostID == ownHostID
        images = record.images.map { HeldImageJSON(path: $0.path, domainName: $0.domainName, domainUUID: $0.domainUUID) }
    }

    enum CodingKeys: String, CodingKey {
        case hostname, addresses, fresh, images
        case hostID = "host_id"
        case writtenAt = "written_at"
        case ageSeconds = "age_seconds"
        case intervalSeconds = "interval_seconds"
        case thisHost = "this_host"
    }
}

struct HeldImageJSON: Encodable {
    var path: String
    var domainName: String
    var domainUUID: String

    enum CodingKeys: String, CodingKey {
        case path
        case domainName = "domain_name"
        case domainUUID = "domain_uuid"
    }
}

struct UnusableRecord: Encodable {
    var file: String
    var reason: String
}
