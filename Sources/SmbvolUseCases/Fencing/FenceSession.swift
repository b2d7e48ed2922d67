import AttachmentLocks
import HandleEvidence
import HostHeartbeat
import Logging
import QumuloClient
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem

/// Builds a `StorageFence` and resolves a host to its addresses, for `fence`, `unfence` and
/// `fence-agent` alike.
public struct FenceSession {
    public let configuration: SmbvolConfiguration
    public let fence: StorageFence
    public let catalog: ShareCatalog
    public let logger: Logger
    /// Mounts a fenced share this host has not mounted, for reading its heartbeat records.
    public let attachments: any ShareAttachmentsMaking
    public let say: (String) -> Void
    /// The agent's `host_map` (host_id → its single addresses): an explicit alternative to the
    /// heartbeat records.
    public var hostMap: [String: Set<String>] = [:]

    /// `client`: the fencing account's, on the cluster named `clusterName` at `clusterHost`
    /// (SmbvolWiring's `FenceSession.connecting` logs it in).
    public init(
        configuration: SmbvolConfiguration, client: QumuloClient, clusterName: String, clusterHost: String, onlyShares: [String],
        attachments: any ShareAttachmentsMaking, logger: Logger, say: @escaping (String) -> Void
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.attachments = attachments
        self.say = say
        let environment = ProcessEnvironment.current()
        let catalog = try ShareCatalog(configuration: configuration)
        let shares = try FenceSetup.shares(
            client: client, catalog: catalog, clusterName: clusterName, configuredClusters: configuration.clusters.count, only: onlyShares)
        // The session listing names the node each client talks to: those are the cluster's.
        let sessions = (try? client.sessions().sessions) ?? []
        fence = StorageFence(
            client: client, clusterName: clusterName, shares: shares,
            localAddresses: Set(LocalAddresses.current(extra: configuration.localAddresses).map(FenceAddress.canonical)),
            clusterAddresses: FenceSetup.clusterAddresses(host: clusterHost, sessions: sessions),
            store: FenceRecordStore(stateDirectory: configuration.stateDirectory),
            operatorName: AuditEvent.invokingOperator(environment: environment), logger: logger, say: say)
        self.catalog = catalog
    }

    public enum Purpose: Sendable {
        case fence, unfence
        /// A read-only question (the agent's status): its refusals are errors, not audit events.
        case status

        var verb: String {
            switch self {
            case .fence: return "fence"
            case .unfence: return "unfence"
            case .status: return "status"
            }
        }
    }

    /// HOST (a host_id) and/or explicit addresses → the target. Addresses given win; then the
    /// agent's host_map; else, to fence, the host's heartbeat records (then its fence record);
    /// to unfence or for a status, its fence record (then its heartbeat records). Heartbeat
    /// records are read on every fenced share, mounted for the read when this host has not
    /// mounted it (`withReadableShares`). Every refusal here is a `fence-refuse` audit event.
    public func target(host: String?, addresses: [String], purpose: Purpose, dryRun: Bool = false) throws -> FenceTarget {
        let given = Set(addresses.map(FenceAddress.canonical))
        func refuse(_ reason: String) -> any Error {
            guard purpose != .status else { return FenceFailure("refused: \(reason)") }
            return fence.refused(reason, host: host ?? given.sorted().joined(separator: ","), addresses: given, verb: purpose.verb, dryRun: dryRun)
        }
        for address in addresses {
            if let problem = FenceAddress.problem(with: address) { throw refuse("--address \(problem)") }
        }
        let name = host ?? given.sorted().joined(separator: ",")
        if let host, let own = try? HostIdentity.hostID(configured: configuration.hostID), own == host {
            throw refuse("\(host) is this host's own host_id; fence it from another host")
        }
        if !given.isEmpty { return FenceTarget(host: name, addresses: given, source: "--address") }
        guard let host else { return FenceTarget(host: name, addresses: [], source: "nothing") }
        let record = try fence.store.records().first { $0.host == host && $0.cluster == fence.clusterName }
        let fromRecord = record.map { FenceTarget(host: host, addresses: Set($0.addresses), source: "fence record of \($0.fencedAt)") }
        if purpose != .fence, let fromRecord { return fromRecord }
        if let mapped = hostMap[host] {
            for address in mapped.sorted() {
                if let problem = FenceAddress.problem(with: address) { throw refuse("host_map of \(host): \(problem)") }
            }
            return FenceTarget(host: host, addresses: mapped, source: "host_map")
        }
        let beats = withReadableShares { readable in
            FenceSetup.heartbeatAddresses(
                hostID: host, readable: readable, now: SystemClock().wallClockSeconds(), freshSeconds: configuration.effectiveHeartbeatFreshSeconds)
        }
        if !beats.addresses.isEmpty {
            return FenceTarget(host: host, addresses: beats.addresses, source: "heartbeat records", beatingOn: beats.beatingOn)
        }
        if var fromRecord {
            fromRecord.beatingOn = beats.beatingOn
            return fromRecord
        }
        return FenceTarget(host: host, addresses: [], source: "nothing")
    }

    /// The configured shares behind the fenced ones (matched by SMB share name, of this cluster).
    public var fencedCatalogShares: [Share] {
        let names = Set(fence.shares.map { $0.name.lowercased() })
        return catalog.shares.filter { share in
            share.export.map { names.contains($0.share.lowercased()) } == true
                && FenceSetup.isServed(share, byCluster: fence.clusterName, configuredClusters: configuration.clusters.count)
        }
    }

    /// Runs `body` with the fenced shares' roots readable. A `local_path` share is; a share this
    /// host has mounted is, once probed (a hung mount is skipped with a warning, never read); a
    /// share it has not mounted is mounted for the read through the attachment service — under
    /// the share's flock, as a start mounts, audited — and given back afterwards unless an
    /// attachment lock refers to it by then (a domain started on it meanwhile keeps it). All
    /// bounded by the command deadline (`deadline_seconds`).
    public func withReadableShares<T>(_ body: ([Share]) -> T) -> T {
        let wiring = attachments.attachments(for: catalog, connectionInfoShares: [], logger: logger)
        let deadline = wiring.deadline
        var readable: [Share] = []
        var borrowed: [Share] = []
        for share in fencedCatalogShares {
            if share.isLocal {
                readable.append(share)
                continue
            }
            do {
                if try wiring.service.mountForRead(share, deadline: deadline) {
                    borrowed.append(share)
                    say("share \(share.name): mounted at \(share.mountPoint) to read its heartbeat records")
                }
                readable.append(share)
            } catch {
                let message = SecretRedactor.shared.redact("\(error)")
                say("share \(share.name): heartbeat records not read: \(message)")
                logger.warning("fence: share not readable; its heartbeat records are not read", metadata: ["share": "\(share.name)", "error": "\(message)"])
            }
        }
        let result = body(readable)
        // Given back even when the deadline has passed: a mount of ours must not stay behind.
        let cleanup = Deadline.after(.seconds(max(10, configuration.mountTimeoutSeconds * 2)), clock: SystemClock())
        for share in borrowed {
            let report = wiring.service.releaseReadMount(share, deadline: cleanup)
            if report.unmountedShares.contains(share.name) {
                say("share \(share.name): unmounted again")
            } else if report.unmountFailures.isEmpty {
                say("share \(share.name): left mounted (an attachment lock uses it now)")
            } else {
                say("share \(share.name): left mounted: \(report.unmountFailures.joined(separator: "; "))")
            }
        }
        return result
    }

    /// `fence --list`: the cluster's fence entries; a host fenced from elsewhere (no fence record
    /// here) named by the host_map, else by the heartbeat records listing its addresses (the
    /// shares mounted for that read only when some entry needs naming).
    public func listFenced() throws -> [StorageFence.Listed] {
        var listed = try fence.list()
        var unnamed: [Int] = []
        for index in listed.indices where !listed[index].recordedHere {
            let addresses = Set(listed[index].addresses)
            if let mapped = hostMap.filter({ $0.value == addresses }).keys.sorted().first {
                listed[index].host = mapped
                listed[index].hostSource = "host_map"
            } else {
                unnamed.append(index)
            }
        }
        guard !unnamed.isEmpty else { return listed }
        withReadableShares { readable in
            for index in unnamed {
                let named = FenceSetup.hostsListing(Set(listed[index].addresses), readable: readable)
                guard !named.isEmpty else { continue }
                listed[index].host = named.joined(separator: ",")
                listed[index].hostSource = "heartbeat records"
            }
        }
        return listed
    }

    /// Hosts with a heartbeat record on a fenced share, and those of the host_map (the agent's
    /// `list`).
    public func knownHosts() -> [(hostID: String, hostname: String)] {
        var seen: [String: String] = [:]
        withReadableShares { readable in
            for share in readable {
                for case .record(let record, _, _) in HeartbeatReader().allRecords(shareRoot: share.usablePath) where seen[record.hostID] == nil {
                    seen[record.hostID] = record.hostname
                }
            }
        }
        for host in hostMap.keys where seen[host] == nil { seen[host] = "" }
        return seen.keys.sorted().map { ($0, seen[$0] ?? "") }
    }
}
