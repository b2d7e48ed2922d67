import AttachmentLocks
import LockHygiene
import QumuloClient

/// The evidence for one image as the cluster and this host report it.
public struct GatheredEvidence: Sendable {
    public var clusterPath: String
    /// Nil when the cluster has no file at that path (nothing can be open on it).
    public var fileNumber: String?
    public var evidence: ImageEvidence
}

/// Gathers lock-hygiene.md's evidence for one image with as few requests as the data allows:
/// attributes → handles filtered by `file_number` → (only if any) share-mode and byte-range
/// grants on the file id → sessions by identity, once per distinct owner (plus one identity
/// lookup per owner for its name, cached per run). Nothing here lists cluster-wide, so the cost
/// per image does not grow with handles elsewhere on the cluster.
public struct ImageEvidenceGatherer {
    public var client: QumuloClient
    public var localAddresses: Set<String>
    public var protectedClients: Set<String>
    /// Attachment records on this host (which local domains use which image).
    public var attachmentRecords: [AttachmentLock]

    public init(client: QumuloClient, localAddresses: Set<String>, protectedClients: Set<String>, attachmentRecords: [AttachmentLock]) {
        self.client = client
        self.localAddresses = ClientAddress.canonical(localAddresses)
        self.protectedClients = ClientAddress.canonical(protectedClients)
        self.attachmentRecords = attachmentRecords
    }

    /// - Parameters:
    ///   - image: the local path qemu opens (matched against attachment records).
    ///   - domainUUID: the domain being started; its own records do not count as "another".
    public func gather(clusterPath: String, image: String, domainUUID: String) throws -> GatheredEvidence {
        let attributes: FileAttributes
        do {
            attributes = try client.fileAttributes(path: clusterPath)
        } catch let error as QumuloError where error.status == 404 {
            return GatheredEvidence(clusterPath: clusterPath, fileNumber: nil, evidence: ImageEvidence(handles: []))
        }
        var incomplete: [String] = []
        let (handles, handleCompleteness) = try client.handles(onFileNumber: attributes.fileNumber)
        if !handleCompleteness.isComplete { incomplete.append("handles") }
        guard !handles.isEmpty || !incomplete.isEmpty else {
            return GatheredEvidence(clusterPath: clusterPath, fileNumber: attributes.fileNumber, evidence: ImageEvidence(handles: []))
        }
        var grantAddresses: Set<String> = []
        for kind in LockGrantKind.allCases {
            let (grants, completeness) = try client.lockGrants(kind, onFile: attributes.id)
            grantAddresses.formUnion(grants.map { ClientAddress.canonical($0.ownerAddress) })
            if !completeness.isComplete { incomplete.append("\(kind.rawValue) grants") }
        }
        var sessions: [SessionFacts] = []
        let owners = Set(handles.map(\.owner)).sorted()
        for owner in owners {
            let (found, completeness) = try client.sessions(identity: "auth_id:\(owner)")
            if !completeness.isComplete { incomplete.append("sessions") }
            sessions += found.map {
                SessionFacts(originator: ClientAddress.canonical($0.originator), ownerAuthId: $0.user.authId ?? owner, idleSeconds: $0.timeIdle.seconds)
            }
        }
        let names = Dictionary(uniqueKeysWithValues: owners.map { ($0, client.ownerName(authId: $0)) })
        let others = attachmentRecords.filter { $0.image == image && $0.domainUUID.lowercased() != domainUUID.lowercased() && !$0.domainUUID.isEmpty }
        let evidence = ImageEvidence(
            handles: handles.map {
                HandleFacts(location: $0.location, ownerAuthId: $0.owner, ownerName: names[$0.owner], byteRangeLocks: $0.numByteRangeLocks)
            },
            grantAddresses: grantAddresses, sessions: sessions, localAddresses: localAddresses,
            otherLocalDomains: Array(Set(others.map { $0.domainName.isEmpty ? $0.domainUUID : $0.domainName })).sorted(),
            protectedClients: protectedClients, incompleteListings: incomplete)
        return GatheredEvidence(clusterPath: clusterPath, fileNumber: attributes.fileNumber, evidence: evidence)
    }
}
