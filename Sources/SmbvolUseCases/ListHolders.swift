import HandleEvidence
import HostHeartbeat
import LockHygiene
import Logging
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem

/// `smbvol holders`: the fleet view from the heartbeat records on each share — which host holds
/// which image for which domain, and when it last beat. Reads only: nothing is changed.
///
/// A share counts as mounted by the mount-state query (`ShareMountQuery`, the canonical-path
/// rule every other command uses); a mounted share is probed first, so a hung one is reported,
/// not waited for; its records are read on a thread waited for at most `readBound`. A record is
/// fresh by the rule the start's decisions use (`HeartbeatJudgement`).
public struct ListHolders {
    public let configuration: SmbvolConfiguration
    public let catalog: ShareCatalog
    public let logger: Logger
    public var mountQuery = ShareMountQuery()
    public var probe: any MountHealthProbing = ChildProcessMountHealthProbe(timeout: .seconds(3))
    public var reader = HeartbeatReader()
    public var readBound = 10.0
    public var now: () -> Double = { SystemClock().wallClockSeconds() }
    /// This host's host_id (nil when it has none) and addresses: what makes a record this
    /// host's own, or another host's using the same host_id.
    public var ownHostID: String?
    public var ownAddresses: Set<String>

    public init(configuration: SmbvolConfiguration, catalog: ShareCatalog, logger: Logger) {
        self.configuration = configuration
        self.catalog = catalog
        self.logger = logger
        ownHostID = try? HostIdentity.hostID(configured: configuration.hostID)
        ownAddresses = ClientAddress.canonical(LocalAddresses.current(extra: configuration.localAddresses))
    }

    /// The holders on every configured share, or on `only`.
    public func callAsFunction(only: String? = nil) throws -> [ShareHolders] {
        var names = catalog.names
        if let only {
            guard configuration.shares[only] != nil else { throw UnknownShare(name: only, configured: names) }
            names = [only]
        }
        let states = mountQuery.states(of: catalog.shares)
        let judgement = HeartbeatJudgement(freshSeconds: configuration.effectiveHeartbeatFreshSeconds)
        let now = now()
        var result: [ShareHolders] = []
        for name in names {
            let share = try catalog.share(named: name)
            var holders = ShareHolders(share: name, directory: share.usablePath, mounted: states[name]?.isUsable == true)
            if holders.mounted { read(share, into: &holders, now: now, judgement: judgement) }
            result.append(holders)
        }
        return result
    }

    private func read(_ share: Share, into holders: inout ShareHolders, now: Double, judgement: HeartbeatJudgement) {
        if case .hung(let seconds)? = mountQuery.health(of: share, probe: probe) {
            holders.error = "does not answer (no answer within \(StaleHandleClassifier.seconds(seconds))): no records read"
            return
        }
        let directory = share.usablePath
        let (reader, ownHostID) = (reader, ownHostID)
        guard
            let work = BoundedWork.start({
                // This host's host_id under every address directory too: another host with the
                // same host_id overwrites hosts/<host_id>.json, but not its own addresses' entries.
                reader.allRecords(shareRoot: directory) + (ownHostID.map { reader.records(hostID: $0, underEveryAddressOf: directory) } ?? [])
            }),
            let entries = work.wait(seconds: readBound)
        else {
            holders.error = "did not answer within \(StaleHandleClassifier.seconds(readBound)) while its records were read: the list is incomplete"
            return
        }
        holders.fill(entries, now: now, judgement: judgement, ownHostID: ownHostID, ownAddresses: ownAddresses)
        for host in holders.hosts where host.collision {
            var event = AuditEvent(
                .hostIDCollision,
                message: "a heartbeat record with this host's host_id lists addresses this host does not have: another host uses the same host_id",
                extra: [
                    "host_id": host.hostID, "other_hostname": host.hostname, "other_addresses": host.addresses.joined(separator: ","),
                    "mount_point": directory,
                ])
            event[.share] = holders.share
            logger.audit(event)
        }
    }
}

/// A share name that is not configured.
public struct UnknownShare: Error, CustomStringConvertible {
    public var name: String
    public var configured: [String]

    public init(name: String, configured: [String]) {
        self.name = name
        self.configured = configured
    }

    public var description: String { "share \"\(name)\" is not configured (configured: \(configured.joined(separator: ", ")))" }
}

/// The holders found on one share.
public struct ShareHolders: Sendable {
    public var share: String
    public var directory: String
    public var mounted: Bool
    /// Why the records could not be read (a hung share); nil when they were.
    public var error: String?
    public var hosts: [HostHolder] = []
    public var unusable: [(file: String, reason: String)] = []

    public init(share: String, directory: String, mounted: Bool) {
        self.share = share
        self.directory = directory
        self.mounted = mounted
    }

    mutating func fill(_ entries: [HeartbeatReader.Entry], now: Double, judgement: HeartbeatJudgement, ownHostID: String?, ownAddresses: Set<String>) {
        var seen: Set<String> = []
        for entry in entries {
            switch entry {
            case .record(let record, let file, let dropped):
                // The same record is under hosts/ and each of its addresses: list it once.
                guard seen.insert("\(record.hostID) \(record.addresses) \(record.writtenAt)").inserted else { continue }
                let collision = record.hostID == ownHostID && !ClientAddress.canonical(record.addresses).isSubset(of: ownAddresses)
                // This host's own record under its addresses repeats hosts/: only collisions add a host.
                if file.hasPrefix(HeartbeatLayout.byAddressDirectory.joined(separator: "/")) && !collision { continue }
                hosts.append(
                    HostHolder(
                        record, now: now, fresh: judgement.isFresh(ageSeconds: now - record.writtenAt), ownHostID: ownHostID,
                        collision: collision, droppedEntries: dropped.map(\.description)))
            case .unusable(let file, let reason):
                unusable.append((file, reason))
            }
        }
    }
}

/// One host's record on a share.
public struct HostHolder: Sendable {
    public var hostID: String
    public var hostname: String
    public var addresses: [String]
    public var writtenAt: String
    public var ageSeconds: Double
    public var intervalSeconds: Double
    public var fresh: Bool
    public var thisHost: Bool
    /// This host's host_id, but addresses that are not this host's: another host.
    public var collision: Bool
    public var droppedEntries: [String]
    public var images: [(path: String, domainName: String, domainUUID: String)]

    init(_ record: HeartbeatRecord, now: Double, fresh: Bool, ownHostID: String?, collision: Bool, droppedEntries: [String]) {
        self.collision = collision
        self.droppedEntries = droppedEntries
        self.fresh = fresh
        hostID = record.hostID
        hostname = record.hostname
        addresses = record.addresses
        writtenAt = record.writtenAtText
        ageSeconds = (now - record.writtenAt).rounded()
        intervalSeconds = record.intervalSeconds
        thisHost = record.hostID == ownHostID && !collision
        images = record.images.map { ($0.path, $0.domainName, $0.domainUUID) }
    }
}
