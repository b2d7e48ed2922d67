import HandleEvidence
import QumuloClient
import SmbvolConfig
import SmbvolShares

/// `smbvol handles list`: the SMB handles on one file, below one share, or on the whole cluster,
/// handed out one by one as they are read (a cluster-wide listing can hold 100 000).
public struct ListHandles {
    public enum Scope: Sendable {
        /// One file, by its absolute cluster path: its own grant listings give the addresses.
        case file(path: String)
        /// Below a configured share's cluster path.
        case share(Share)
        /// The whole cluster, in the cluster's order.
        case cluster
    }

    /// How the listing went, beyond the handles themselves.
    public struct Outcome: Sendable {
        /// Handles read from the cluster (cluster-wide and share listings); nil for one file.
        public var seen: Int?
        /// Listings that stopped on a repeated paging link (the result may be incomplete).
        public var incomplete: [ListingCompleteness] = []
        /// Enrichments the cluster refused (the client addresses, at most one per kind).
        public var missing: [MissingEvidence] = []
        /// Handles of other files the cluster listed for one file's number: not handed out.
        public var foreignHandles = 0
        public var fileNumber: String?
    }

    public let client: QumuloClient
    public let stateDirectory: String

    public init(client: QumuloClient, stateDirectory: String) {
        self.client = client
        self.stateDirectory = stateDirectory
    }

    /// The cluster to ask: `--share`'s own cluster unless one was named (`--cluster`/`--host`).
    public static func scope(
        share name: String?, path: String?, selection: ClusterSelection, configuration: SmbvolConfiguration
    ) throws -> (Scope, ClusterSelection) {
        if let path { return (.file(path: path), selection) }
        guard let name else { return (.cluster, selection) }
        guard let share = configuration.shares[name] else {
            throw UnknownShare(name: name, configured: configuration.shares.keys.sorted())
        }
        var selection = selection
        if selection.cluster == nil && selection.host == nil { selection.cluster = share.cluster }
        return (.share(try Share(configuration: share, mountBase: configuration.mountBase)), selection)
    }

    public func callAsFunction(_ scope: Scope, progress: (Int) -> Void = { _ in }, _ each: (ListedHandle) -> Void) throws -> Outcome {
        switch scope {
        case .file(let path): return try listFile(path, each)
        case .share(let share):
            let root: String
            do {
                root = try ShareRootResolver(stateDirectory: stateDirectory).root(of: share, client: client)
            } catch let error as QumuloError where error.status == 403 || error.status == 404 {
                throw ShareRootUnavailable(share: share.name, error: error)
            }
            return try listCluster(prefix: root.hasSuffix("/") ? root : root + "/", progress: progress, each)
        case .cluster: return try listCluster(prefix: nil, progress: progress, each)
        }
    }

    private func listFile(_ path: String, _ each: (ListedHandle) -> Void) throws -> Outcome {
        let attributes = try client.fileAttributes(path: path)
        let onFile = try HandlesOnFile(fileNumber: attributes.fileNumber, client: client)
        var outcome = Outcome(incomplete: [onFile.completeness], foreignHandles: onFile.foreignCount, fileNumber: attributes.fileNumber)
        var addresses: ClientAddressIndex? = ClientAddressIndex()
        if !onFile.handles.isEmpty {
            let (index, refused) = try client.clientAddressesIfAvailable(onFile: attributes.fileNumber)
            addresses = index
            outcome.missing += refused.map { [$0] } ?? []
        }
        for handle in onFile.handles {
            each(
                ListedHandle(
                    location: handle.location, fileNumber: handle.fileNumber, owner: handle.owner,
                    ownerName: client.ownerName(authId: handle.owner), path: attributes.path,
                    numByteRangeLocks: handle.numByteRangeLocks, clientAddresses: addresses?.addresses(ofFile: handle.fileNumber)))
        }
        outcome.incomplete.append(addresses?.completeness ?? .complete)
        outcome.incomplete.removeAll { $0.isComplete }
        return outcome
    }

    private func listCluster(prefix: String?, progress: (Int) -> Void, _ each: (ListedHandle) -> Void) throws -> Outcome {
        let summary = try client.listHandles(HandleListingOptions(pathPrefix: prefix), progress: progress, each)
        var outcome = Outcome(seen: summary.seen, incomplete: [summary.completeness, summary.addressCompleteness], missing: summary.missing)
        outcome.incomplete.removeAll { $0.isComplete }
        return outcome
    }
}

/// The share's cluster path is not configured and the cluster would not list its shares.
public struct ShareRootUnavailable: Error, CustomStringConvertible {
    public var share: String
    public var error: QumuloError

    public var description: String {
        "cannot find the cluster path of share \"\(share)\": \(error.method) \(error.path) answered HTTP \(error.status ?? 0) "
            + "(listing shares needs \(QumuloPrivilege.shareRead)); set fs_path in [share.\(share)] or add the privilege to the role"
    }
}
