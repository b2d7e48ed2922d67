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

    /// Client addresses on one file, or — when the cluster refuses the grant listings (an
    /// account without PRIVILEGE_FS_LOCK_READ: 403; a cluster without them: 404; any other
    /// error status) — nil and what is missing. Connection failures still throw.
    public func clientAddressesIfAvailable(onFile reference: String) throws -> (index: ClientAddressIndex?, missing: MissingEvidence?) {
        do {
            return (try clientAddresses(onFile: reference), nil)
        } catch let error as QumuloError where error.status != nil && error.status != 401 {
            return (nil, MissingEvidence(.clientAddresses, error: error))
        }
    }
}
