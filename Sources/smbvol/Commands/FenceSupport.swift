import HandleEvidence
import HostHeartbeat
import Logging
import QumuloClient
import SMBMounts
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem
import SmbvolUseCases

/// Builds a `StorageFence` and resolves a host to its addresses, for `fence`, `unfence` and
/// `fence-agent` alike.
struct FenceSession {
    let configuration: SmbvolConfiguration
    let fence: StorageFence
    let catalog: ShareCatalog

    init(
        configuration: SmbvolConfiguration, selection: ClusterSelection, onlyShares: [String], logger: Logger,
        say: @escaping (String) -> Void
    ) throws {
        self.configuration = configuration
        let environment = ProcessEnvironment.current()
        let connection = try FenceSetup.connection(options: selection, configuration: configuration, environment: environment)
        let client = try connection.makeClient(logger: logger)
        let shares = try FenceSetup.shares(
            client: client, configuration: configuration, clusterName: connection.clusterName, only: onlyShares)
        // The session listing names the node each client talks to: those are the cluster's.
        let sessions = (try? client.sessions().sessions) ?? []
        fence = StorageFence(
            client: client, clusterName: connection.clusterName, shares: shares,
            localAddresses: Set(LocalAddresses.current(extra: configuration.localAddresses).map(FenceAddress.canonical)),
            clusterAddresses: FenceSetup.clusterAddresses(host: connection.endpoint.host, sessions: sessions),
            store: FenceRecordStore(stateDirectory: configuration.stateDirectory),
            operatorName: AuditEvent.invokingOperator(environment: environment), logger: logger, say: say)
        catalog = try ShareCatalog(configuration: configuration)
    }

    enum Purpose { case fence, unfence }

    /// HOST (a host_id) and/or explicit addresses → the target. Addresses given win; else, to
    /// fence, the host's heartbeat records (then its fence record); to unfence or for a status,
    /// its fence record (then its heartbeat records).
    func target(host: String?, addresses: [String], purpose: Purpose) throws -> FenceTarget {
        for address in addresses {
            if let problem = FenceAddress.problem(with: address) { throw FenceFailure("--address \(problem)") }
        }
        let given = Set(addresses.map(FenceAddress.canonical))
        let name = host ?? given.sorted().joined(separator: ",")
        if let host, let own = try? HostIdentity.hostID(configured: configuration.hostID), own == host {
            throw FenceFailure("refused: \(host) is this host's own host_id; fence it from another host")
        }
        let table = (try? MountTable.read(from: ProcMountTableReader())) ?? MountTable(entries: [])
        let beats = host.map {
            FenceSetup.heartbeatAddresses(
                hostID: $0, shares: catalog, mountTable: table, now: SystemClock().wallClockSeconds(),
                freshSeconds: configuration.effectiveHeartbeatFreshSeconds)
        }
        let record = try host.flatMap { host in try fence.store.records().first { $0.host == host && $0.cluster == fence.clusterName } }
        let beatingOn = beats?.beatingOn ?? []
        if !given.isEmpty { return FenceTarget(host: name, addresses: given, source: "--address", beatingOn: beatingOn) }
        let fromRecord = record.map { FenceTarget(host: name, addresses: Set($0.addresses), source: "fence record of \($0.fencedAt)", beatingOn: beatingOn) }
        let fromBeats = beats.flatMap { $0.addresses.isEmpty ? nil : FenceTarget(host: name, addresses: $0.addresses, source: "heartbeat records", beatingOn: beatingOn) }
        let chosen = purpose == .fence ? (fromBeats ?? fromRecord) : (fromRecord ?? fromBeats)
        return chosen ?? FenceTarget(host: name, addresses: [], source: "nothing", beatingOn: beatingOn)
    }

    /// Hosts with a heartbeat record on a mounted share (the agent's `list`).
    func knownHosts() -> [(hostID: String, hostname: String)] {
        let table = (try? MountTable.read(from: ProcMountTableReader())) ?? MountTable(entries: [])
        var seen: [String: String] = [:]
        for share in catalog.shares {
            let mounted = share.isLocal || table.entry(at: share.mountPoint).map { share.export.matches(mountSource: $0.source) } == true
            guard mounted else { continue }
            for case .record(let record, _, _) in HeartbeatReader().allRecords(shareRoot: share.usablePath) where seen[record.hostID] == nil {
                seen[record.hostID] = record.hostname
            }
        }
        return seen.keys.sorted().map { ($0, seen[$0] ?? "") }
    }
}
