import ArgumentParser
import HandleEvidence
import HostHeartbeat
import LockHygiene
import SMBMounts
import SmbvolConfig
import SmbvolLogging
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
            let ownAddresses = ClientAddress.canonical(LocalAddresses.current(extra: configuration.localAddresses))
            let table = (try? MountTable.read(from: ProcMountTableReader())) ?? MountTable(entries: [])
            let now = SystemClock().wallClockSeconds()
            let fresh = configuration.effectiveHeartbeatFreshSeconds
            let probe = ChildProcessMountHealthProbe(timeout: Self.probeTimeout)
            var result: [ShareHolders] = []
            for name in names {
                let mountable = try shares.share(named: name)
                let mounted = mountable.isLocal || table.entry(at: mountable.mountPoint).map { mountable.export.matches(mountSource: $0.source) } == true
                var holders = ShareHolders(share: name, directory: mountable.usablePath, mounted: mounted)
                guard mounted else {
                    result.append(holders)
                    continue
                }
                // A hung share costs a probe, not the command's deadline: probed in a child
                // first (as starts do), then read on a thread waited for at most readBound.
                if !mountable.isLocal, case .hung(let seconds) = probe.health(of: mountable.mountPoint) {
                    holders.error = "does not answer (no answer within \(StaleHandleClassifier.seconds(seconds))): no records read"
                    result.append(holders)
                    continue
                }
                let directory = mountable.usablePath
                guard let work = BoundedWork.start({ Self.read(shareRoot: directory, ownHostID: ownHostID) }),
                    let read = work.wait(seconds: Self.readBound)
                else {
                    holders.error = "did not answer within \(StaleHandleClassifier.seconds(Self.readBound)) while its records were read: the list is incomplete"
                    result.append(holders)
                    continue
                }
                holders.fill(read, now: now, freshSeconds: fresh, ownHostID: ownHostID, ownAddresses: ownAddresses)
                for host in holders.hosts where host.collision {
                    var event = AuditEvent(
                        .hostIDCollision,
                        message: "a heartbeat record with this host's host_id lists addresses this host does not have: another host uses the same host_id",
                        extra: [
                            "host_id": host.hostID, "other_hostname": host.hostname, "other_addresses": host.addresses.joined(separator: ","),
                            "mount_point": directory,
                        ])
                    event[.share] = name
                    logger.audit(event)
                }
                result.append(holders)
            }
            return HoldersDocument(shares: result)
        }
        let output = OutputWriter()
        if json {
            output.write(JSONWriter.document(document.json))
        } else {
            for share in document.shares { share.text().forEach(output.line) }
        }
        output.flush()
        // Audit events reach the system log only: the warnings go to stderr too.
        for share in document.shares {
            for host in share.hosts where host.collision {
                writeToStandardError(
                    "smbvol: warning: share \(share.share): HOST_ID COLLISION: host \(oneLine(host.hostname)) at \(host.addresses.joined(separator: ", ")) "
                        + "writes records with this host's host_id \(host.hostID) (cloned /etc/machine-id?); give one of them a distinct host_id in smbvol.toml\n")
            }
            if let error = share.error { writeToStandardError("smbvol: warning: share \(share.share): \(error)\n") }
        }
    }

    static let probeTimeout = Duration.seconds(3)
    static let readBound = 10.0

    /// Everything `holders` reads on one share (run on a bounded thread).
    struct ShareRead: Sendable {
        var hosts: [HeartbeatReader.Entry]
        /// This host's host_id under every address directory: another host with the same
        /// host_id overwrites `hosts/<host_id>.json`, but not the entries of its own addresses.
        var ownUnderAddresses: [HeartbeatReader.Entry]
    }

    static func read(shareRoot: String, ownHostID: String?) -> ShareRead {
        let reader = HeartbeatReader()
        return ShareRead(
            hosts: reader.allRecords(shareRoot: shareRoot),
            ownUnderAddresses: ownHostID.map { reader.records(hostID: $0, underEveryAddressOf: shareRoot) } ?? [])
    }
}

struct HoldersDocument {
    var shares: [ShareHolders]

    var json: JSONValue { .object([("shares", .array(shares.map(\.json)))]) }
}

struct ShareHolders {
    var share: String
    var directory: String
    var mounted: Bool
    /// Why the records could not be read (a hung share); nil when they were.
    var error: String?
    var hosts: [HostHolder] = []
    var unusable: [UnusableRecord] = []

    var json: JSONValue {
        .object([
            ("share", .string(share)), ("directory", .string(directory)), ("mounted", .bool(mounted)), ("error", .nullable(error)),
            ("hosts", .array(hosts.map(\.json))),
            ("unusable", .array(unusable.map { .object([("file", .string($0.file)), ("reason", .string($0.reason))]) })),
        ])
    }

    mutating func fill(_ read: HoldersCommand.ShareRead, now: Double, freshSeconds: Double, ownHostID: String?, ownAddresses: Set<String>) {
        var seen: Set<String> = []
        for entry in read.hosts + read.ownUnderAddresses {
            switch entry {
            case .record(let record, let file, let dropped):
                // The same record is under hosts/ and each of its addresses: list it once.
                guard seen.insert("\(record.hostID) \(record.addresses) \(record.writtenAt)").inserted else { continue }
                let collision = record.hostID == ownHostID && !ClientAddress.canonical(record.addresses).isSubset(of: ownAddresses)
                // This host's own record under its addresses repeats hosts/: only collisions add a host.
                if file.hasPrefix(HeartbeatLayout.byAddressDirectory.joined(separator: "/")) && !collision { continue }
                hosts.append(
                    HostHolder(
                        record, now: now, freshSeconds: freshSeconds, ownHostID: ownHostID, collision: collision,
                        droppedEntries: dropped.map(\.description)))
            case .unusable(let file, let reason):
                unusable.append(UnusableRecord(file: file, reason: reason))
            }
        }
    }

    func text() -> [String] {
        guard mounted else { return ["share \(share) (\(directory)): not mounted; no records read"] }
        if let error { return ["share \(share) (\(directory)): \(error)"] }
        var lines = ["share \(share) (\(directory)): \(hosts.count) host(s)"]
        for host in hosts {
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
        for record in unusable { lines.append("  ignored \(record.file): \(record.reason)") }
        return lines
    }
}

struct HostHolder {
    var hostID: String
    var hostname: String
    var addresses: [String]
    var writtenAt: String
    var ageSeconds: Double
    var intervalSeconds: Double
    var fresh: Bool
    var thisHost: Bool
    /// This host's host_id, but addresses that are not this host's: another host.
    var collision: Bool
    var droppedEntries: [String]
    var images: [HeldImage]

    init(_ record: HeartbeatRecord, now: Double, freshSeconds: Double, ownHostID: String?, collision: Bool = false, droppedEntries: [String] = []) {
        self.collision = collision
        self.droppedEntries = droppedEntries
        hostID = record.hostID
        hostname = record.hostname
        addresses = record.addresses
        writtenAt = record.writtenAtText
        ageSeconds = (now - record.writtenAt).rounded()
        intervalSeconds = record.intervalSeconds
        fresh = now - record.writtenAt <= freshSeconds
        thisHost = record.hostID == ownHostID && !collision
        images = record.images.map { HeldImage(path: $0.path, domainName: $0.domainName, domainUUID: $0.domainUUID) }
    }

    var json: JSONValue {
        .object([
            ("host_id", .string(hostID)), ("hostname", .string(hostname)), ("addresses", .strings(addresses)),
            ("written_at", .string(writtenAt)), ("age_seconds", .number(ageSeconds)), ("interval_seconds", .number(intervalSeconds)),
            ("fresh", .bool(fresh)), ("this_host", .bool(thisHost)), ("collision", .bool(collision)),
            ("dropped_entries", .strings(droppedEntries)),
            ("images", .array(images.map { .object([("path", .string($0.path)), ("domain_name", .string($0.domainName)), ("domain_uuid", .string($0.domainUUID))]) })),
        ])
    }
}

struct HeldImage {
    var path: String
    var domainName: String
    var domainUUID: String
}

struct UnusableRecord {
    var file: String
    var reason: String
}
