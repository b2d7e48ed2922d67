import HostHeartbeat
import LockHygiene
import QumuloClient
import SMBMounts
import SmbvolShares
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem

#if canImport(Glibc)
import Glibc
#endif

/// What a fence needs before it can start: the cluster's shares among those configured, and
/// the host's addresses (the fencing account's connection: SmbvolWiring's `FenceConnection`).
public enum FenceSetup {
    /// The cluster shares behind the configured shares of `clusterName` (or those named in
    /// `only`), each once, matched by SMB share name as the hook does. `configuredClusters`:
    /// how many `[cluster.NAME]` tables there are (a share naming none is the only one's).
    public static func shares(
        client: QumuloClient, catalog: ShareCatalog, clusterName: String, configuredClusters: Int, only: [String]
    ) throws -> [FencedShare] {
        var configured = catalog.shares.filter { isServed($0, byCluster: clusterName, configuredClusters: configuredClusters) }
        if !only.isEmpty {
            for name in only where catalog[name] == nil {
                throw FenceFailure("share \"\(name)\" is not configured (configured: \(catalog.names.sorted().joined(separator: ", ")))")
            }
            configured = only.compactMap { catalog[$0] }
        }
        let onCluster = try client.smbShares()
        var result: [FencedShare] = []
        for share in configured.sorted(by: { $0.name < $1.name }) {
            let export = try share.requiredExport()
            let matches = onCluster.filter { $0.shareName.lowercased() == export.share.lowercased() }
            guard matches.count == 1, let found = matches.first else {
                throw FenceFailure(
                    matches.isEmpty
                        ? "share \"\(share.name)\": the cluster has no SMB share named \"\(export.share)\"; check its export"
                        : "share \"\(share.name)\": \(matches.count) SMB shares on the cluster are named \"\(export.share)\" (ids \(matches.map(\.id).joined(separator: ", "))); fence cannot tell which")
            }
            if !result.contains(where: { $0.id == found.id }) { result.append(FencedShare(id: found.id, name: found.shareName)) }
        }
        return result
    }

    /// Whether `share` is on the cluster `clusterName`: it names that cluster, or names none
    /// and at most one cluster is configured.
    public static func isServed(_ share: Share, byCluster clusterName: String, configuredClusters: Int) -> Bool {
        share.cluster == clusterName || (share.cluster == nil && configuredClusters <= 1)
    }

    /// A host's addresses from its heartbeat records on `readable` shares (local, or mounted
    /// now: see `FenceSession.withReadableShares`), read only, and on which shares the record
    /// is fresh.
    public static func heartbeatAddresses(
        hostID: String, readable: [Share], now: Double, freshSeconds: Double, reader: HeartbeatReader = HeartbeatReader()
    ) -> (addresses: Set<String>, beatingOn: [String], hostname: String?) {
        var addresses: Set<String> = []
        var beating: [String] = []
        var hostname: String?
        for share in readable {
            guard case .record(let record, _, _)? = reader.record(hostID: hostID, shareRoot: share.usablePath) else { continue }
            addresses.formUnion(record.addresses.map(FenceAddress.canonical))
            hostname = hostname ?? record.hostname
            if HeartbeatJudgement(freshSeconds: freshSeconds).isFresh(ageSeconds: now - record.writtenAt) { beating.append(share.name) }
        }
        return (addresses, beating, hostname)
    }

    /// The host_ids whose heartbeat records on `readable` shares list every one of `addresses`
    /// (read from `by-address/<address>/`: the newest records of each address, bounded), sorted.
    /// How `fence --list` names a host fenced elsewhere.
    public static func hostsListing(_ addresses: Set<String>, readable: [Share], reader: HeartbeatReader = HeartbeatReader()) -> [String] {
        var candidates: Set<String>?
        for address in addresses.sorted() {
            var listing: Set<String> = []
            for share in readable {
                for case .record(let record, _, _) in reader.records(forAddress: address, shareRoot: share.usablePath)
                where record.addresses.map(FenceAddress.canonical).contains(address) {
                    listing.insert(record.hostID)
                }
            }
            candidates = candidates.map { $0.intersection(listing) } ?? listing
        }
        return (candidates ?? []).sorted()
    }

    /// The cluster's own addresses as far as they are knowable without more privileges: the
    /// configured host (and what it resolves to) and the server address of every session.
    public static func clusterAddresses(host: String, sessions: [SMBSession]) -> Set<String> {
        var result: Set<String> = [FenceAddress.canonical(host)]
        result.formUnion(resolve(host))
        for session in sessions { if let server = session.serverAddress { result.insert(FenceAddress.canonical(server)) } }
        return result
    }

    static func resolve(_ host: String) -> Set<String> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var result: Set<String> = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                result.insert(FenceAddress.canonical(text))
            }
            cursor = entry.pointee.ai_next
        }
        return result
    }
}
