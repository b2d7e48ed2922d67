/// Which client addresses hold opens or locks on which file, from lock grants.
public struct ClientAddressIndex: Sendable {
    public private(set) var addressesByFileId: [String: Set<String>] = [:]
    public private(set) var completeness: ListingCompleteness = .complete

    public init() {}

    mutating func add(_ grants: [LockGrant]) {
        for grant in grants { addressesByFileId[grant.fileId, default: []].insert(grant.ownerAddress) }
    }

    mutating func note(_ other: ListingCompleteness) {
        if !other.isComplete { completeness = other }
    }

    public func addresses(ofFile fileNumber: String) -> [String] {
        (addressesByFileId[fileNumber] ?? []).sorted()
    }
}

extension QumuloClient {
    /// Client addresses holding share-mode or byte-range grants on one file.
    public func clientAddresses(onFile reference: String) throws -> ClientAddressIndex {
        var index = ClientAddressIndex()
        for kind in LockGrantKind.allCases {
            let (grants, completeness) = try lockGrants(kind, onFile: reference)
            index.add(grants)
            index.note(completeness)
        }
        return index
    }

    /// Client addresses for a cluster-wide listing, without one request per file: every client
    /// with an SMB session, then each such client's share-mode grants cluster-wide. Handles of
    /// clients without a session (dead hosts) cannot be attributed this way; `--path` can.
    public func clientAddressesOfConnectedClients() throws -> ClientAddressIndex {
        var index = ClientAddressIndex()
        let (sessions, sessionCompleteness) = try sessions()
        index.note(sessionCompleteness)
        for address in Set(sessions.map(\.originator)).sorted() {
            let (grants, completeness) = try lockGrants(.shareMode, ownerAddress: address)
            index.add(grants)
            index.note(completeness)
        }
        return index
    }
}
