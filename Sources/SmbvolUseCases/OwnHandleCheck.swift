import HandleEvidence
import HostHeartbeat
import Logging
import QumuloClient
import SmbvolShares
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem

/// Asks the cluster whether this host still holds a handle on a file.
public protocol OwnHandleChecking {
    func status(fileNumber: String, cluster: String?, localAddresses: Set<String>) -> OwnHandleStatus
}

/// The handles on the file number, then — when any is left — which client addresses hold grants
/// on it: only a grant from one of this host's addresses makes a handle this host's. Anything
/// the cluster cannot say (an error, a refused grant listing, an incomplete listing, handles no
/// grant accounts for) is `unknown`: a takeover record never stops a domain on a guess.
public struct ClusterOwnHandleCheck: OwnHandleChecking {
    public var clients: any ClusterClientMaking
    public var configuration: SmbvolConfiguration
    public var timeoutSeconds: Double
    public var logger: Logger

    public init(clients: any ClusterClientMaking, configuration: SmbvolConfiguration, timeoutSeconds: Double, logger: Logger) {
        self.clients = clients
        self.configuration = configuration
        self.timeoutSeconds = timeoutSeconds
        self.logger = logger
    }

    public func status(fileNumber: String, cluster: String?, localAddresses: Set<String>) -> OwnHandleStatus {
        guard !configuration.clusters.isEmpty else { return .unknown("no [cluster] is configured") }
        do {
            let clock = SystemClock()
            let client = try clients.client(
                forCluster: cluster, deadline: .after(.milliseconds(Int64(timeoutSeconds * 1000)), clock: clock), logger: logger)
            let onFile = try HandlesOnFile(fileNumber: fileNumber, client: client)
            guard onFile.completeness.isComplete else { return .unknown("the cluster's handle listing of file \(fileNumber) was incomplete") }
            let handles = onFile.handles
            if handles.isEmpty { return .gone }
            var holders: Set<String> = []
            for kind in LockGrantKind.allCases {
                let (grants, grantCompleteness) = try client.lockGrants(kind, onFile: fileNumber)
                guard grantCompleteness.isComplete else { return .unknown("the cluster's \(kind.rawValue) grant listing was incomplete") }
                holders.formUnion(grants.filter { ImageIdentity.sameNumber($0.fileId, fileNumber) }.map { ClientAddress.canonical($0.ownerAddress) })
            }
            let ours = holders.intersection(localAddresses)
            if !ours.isEmpty { return .stillHeld(addresses: ours.sorted(), otherHolders: holders.subtracting(localAddresses).sorted()) }
            if holders.isEmpty {
                return .unknown("\(handles.count) handle(s) on file \(fileNumber) but no grant says from which address")
            }
            return .gone
        } catch {
            return .unknown(LineEscaping.oneLine("\(error)"))
        }
    }
}
