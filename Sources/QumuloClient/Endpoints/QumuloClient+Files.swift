extension QumuloClient {
    /// `GET /v1/version` (no authentication needed).
    public func version() throws(QumuloError) -> ClusterVersion {
        try get("/v1/version", as: ClusterVersion.self, authenticated: false)
    }

    /// Attributes of the file at an absolute cluster path (one-segment percent-encoding).
    public func fileAttributes(path: String) throws -> FileAttributes {
        try get("/v1/files/\(try PathEncoding.encodeSegment(path))/info/attributes", as: FileAttributes.self)
    }

    /// Lock grants on one file (by absolute path or file id), every page. Grant listings never
    /// answer a null `next`: stop on a page shorter than the limit asked for, and on a repeated
    /// `next`.
    public func lockGrants(
        _ kind: LockGrantKind, onFile reference: String, limit: Int = 1000
    ) throws -> (grants: [LockGrant], completeness: ListingCompleteness) {
        let encoded = reference.hasPrefix("/") ? try PathEncoding.encodeSegment(reference) : try PathEncoding.encodeComponent(reference)
        var grants: [LockGrant] = []
        let completeness = try followPages(
            from: "/v1/files/\(encoded)/locks/smb/\(kind.rawValue)/?limit=\(limit)", as: LockGrantPage.self,
            shortPageLimit: limit, split: { ($0.grants.count, $0.paging?.next) }, body: { grants += $0.grants })
        return (grants, completeness)
    }

    /// Lock grants a single client holds anywhere on the cluster.
    public func lockGrants(
        _ kind: LockGrantKind, ownerAddress: String, limit: Int = 1000
    ) throws -> (grants: [LockGrant], completeness: ListingCompleteness) {
        var grants: [LockGrant] = []
        let completeness = try followPages(
            from: "/v1/files/locks/smb/\(kind.rawValue)/?owner_address=\(try PathEncoding.encodeComponent(ownerAddress))&limit=\(limit)",
            as: LockGrantPage.self, shortPageLimit: limit, split: { ($0.grants.count, $0.paging?.next) },
            body: { grants += $0.grants })
        return (grants, completeness)
    }
}
