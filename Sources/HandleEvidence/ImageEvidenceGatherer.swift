import AttachmentLocks
import LockHygiene
import Logging
import QumuloClient
import SmbvolShares
import SmbvolSystem

/// The evidence for one image as the cluster and this host report it.
public struct GatheredEvidence: Sendable {
    public var clusterPath: String
    /// Nil when the cluster has no file at that path (nothing can be open on it).
    public var fileNumber: String?
    public var evidence: ImageEvidence
}

/// Gathers docs/stale-handle-policy.md's evidence for one image with as few requests as the data allows:
/// attributes → handles filtered by `file_number` → (only if any) share-mode and byte-range
/// grants on the file id → sessions by identity, once per distinct owner (plus one identity
/// lookup per owner for its name, cached per run). Nothing here lists cluster-wide, so the cost
/// per image does not grow with handles elsewhere on the cluster.
///
/// The server's filters are never trusted: a handle not on F, a grant not on F's id, a session
/// not of the identity asked for is dropped with a warning, and the listing counts as
/// incomplete — missing evidence, so nothing that looks stale is closed on it. A cluster (an
/// older version, a proxy) that ignores `file_number` must not make smbvol close other files'
/// handles.
public struct ImageEvidenceGatherer {
    public var client: QumuloClient
    public var localAddresses: Set<String>
    public var protectedClients: Set<String>
    /// Local domains other than the one being started recorded on the file (by identity).
    public var otherLocalDomains: (ImageIdentity) throws -> [String]
    /// The local processes holding the file open (the kernel's view); asked only when one of
    /// this host's addresses holds grants on it.
    public var localOpeners: () -> Result<[LocalFileOpener], LocalImageOpeners.Unknown>
    public var logger: Logger?

    public init(
        client: QumuloClient, localAddresses: Set<String>, protectedClients: Set<String>, logger: Logger? = nil,
        localOpeners: @escaping () -> Result<[LocalFileOpener], LocalImageOpeners.Unknown>,
        otherLocalDomains: @escaping (ImageIdentity) throws -> [String]
    ) {
        self.client = client
        self.localAddresses = ClientAddress.canonical(localAddresses)
        self.protectedClients = ClientAddress.canonical(protectedClients)
        self.logger = logger
        self.localOpeners = localOpeners
        self.otherLocalDomains = otherLocalDomains
    }

    public func gather(clusterPath: String) throws -> GatheredEvidence {
        let attributes: FileAttributes
        do {
            attributes = try client.fileAttributes(path: clusterPath)
        } catch let error as QumuloError where error.status == 404 {
            return GatheredEvidence(clusterPath: clusterPath, fileNumber: nil, evidence: ImageEvidence(handles: []))
        }
        var incomplete: [String] = []
        let onFile = try HandlesOnFile(fileNumber: attributes.fileNumber, client: client)
        if !onFile.completeness.isComplete { incomplete.append("handles") }
        let handles = onFile.handles
        if onFile.foreignCount > 0 {
            dropped(onFile.foreignCount, "handle(s) of other files", asked: "file_number=\(attributes.fileNumber)", path: clusterPath)
            incomplete.append("handles")
        }
        guard !handles.isEmpty || !incomplete.isEmpty else {
            return GatheredEvidence(clusterPath: clusterPath, fileNumber: attributes.fileNumber, evidence: ImageEvidence(handles: []))
        }
        var grantAddresses: Set<String> = []
        for kind in LockGrantKind.allCases {
            let (grants, completeness) = try client.lockGrants(kind, onFile: attributes.id)
            let onFile = grants.filter { ImageIdentity.sameNumber($0.fileId, attributes.id) || ImageIdentity.sameNumber($0.fileId, attributes.fileNumber) }
            grantAddresses.formUnion(onFile.map { ClientAddress.canonical($0.ownerAddress) })
            if !completeness.isComplete { incomplete.append("\(kind.rawValue) grants") }
            if onFile.count != grants.count {
                dropped(grants.count - onFile.count, "\(kind.rawValue) grant(s) of other files", asked: "file id \(attributes.id)", path: clusterPath)
                incomplete.append("\(kind.rawValue) grants")
            }
        }
        var openers: [LocalFileOpener] = []
        if !grantAddresses.isDisjoint(with: localAddresses) {
            switch localOpeners() {
            case .success(let found): openers = found
            case .failure(let unknown): incomplete.append("local open files (\(unknown.reason))")
            }
        }
        var sessions: [SessionFacts] = []
        let owners = Set(handles.map(\.owner)).sorted()
        for owner in owners {
            let (found, completeness) = try client.sessions(identity: "auth_id:\(owner)")
            if !completeness.isComplete { incomplete.append("sessions") }
            let ours = found.filter { $0.user.authId.map { ImageIdentity.sameNumber($0, owner) } ?? false }
            if ours.count != found.count {
                dropped(found.count - ours.count, "session(s) of other identities", asked: "identity=auth_id:\(owner)", path: clusterPath)
                incomplete.append("sessions")
            }
            sessions += ours.map {
                SessionFacts(originator: ClientAddress.canonical($0.originator), ownerAuthId: owner, idleSeconds: $0.timeIdle.seconds)
            }
        }
        let names = Dictionary(uniqueKeysWithValues: owners.map { ($0, client.ownerName(authId: $0)) })
        let identity = ImageIdentity(fileNumber: attributes.fileNumber, clusterPath: clusterPath)
        var uniqueIncomplete: [String] = []
        for name in incomplete where !uniqueIncomplete.contains(name) { uniqueIncomplete.append(name) }
        var evidence = ImageEvidence(
            handles: handles.map {
                HandleFacts(location: $0.location, ownerAuthId: $0.owner, ownerName: names[$0.owner], byteRangeLocks: $0.numByteRangeLocks)
            },
            grantAddresses: grantAddresses, sessions: sessions, localAddresses: localAddresses,
            otherLocalDomains: try otherLocalDomains(identity),
            protectedClients: protectedClients, incompleteListings: uniqueIncomplete)
        evidence.localOpeners = openers
        return GatheredEvidence(clusterPath: clusterPath, fileNumber: attributes.fileNumber, evidence: evidence)
    }

    private func dropped(_ count: Int, _ what: String, asked: String, path: String) {
        logger?.warning(
            "the cluster's answer does not match its filter; entries dropped, evidence counted as missing",
            metadata: ["cluster_path": "\(path)", "dropped": "\(count) \(what)", "filter": "\(asked)"])
    }
}
