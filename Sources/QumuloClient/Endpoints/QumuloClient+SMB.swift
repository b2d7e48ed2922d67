extension QumuloClient {
    /// SMB sessions, all of them or those of one identity (`auth_id:513`, `uid:1001`, …).
    public func sessions(identity: String? = nil, limit: Int = 1000) throws -> (sessions: [SMBSession], completeness: ListingCompleteness) {
        var query = ["limit=\(limit)"]
        if let identity { query.insert("identity=\(try PathEncoding.encodeComponent(identity))", at: 0) }
        var sessions: [SMBSession] = []
        let completeness = try followPages(
            from: "/v1/smb/sessions/?" + query.joined(separator: "&"), as: SessionPage.self,
            split: { ($0.sessionInfos.count, $0.paging?.next) }, body: { sessions += $0.sessionInfos })
        return (sessions, completeness)
    }

    /// `GET /v3/smb/shares/`: share name → `fs_path`.
    public func smbShares() throws(QumuloError) -> [SMBShare] {
        try get("/v3/smb/shares/?populate-trustee-names=false", as: SMBShareList.self).entries
    }

    /// The identity with this auth_id, looked up once per run (one request per distinct owner,
    /// never per handle).
    public func identity(authId: String) throws(QumuloError) -> Identity {
        if let cached = identityCache[authId] { return cached }
        struct Query: Encodable { var auth_id: String }
        let identity = try post("/v1/identity/find", body: Query(auth_id: authId), as: Identity.self)
        identityCache[authId] = identity
        return identity
    }

    /// A display name for an owner: the identity's name, else `auth_id:N`. Lookup failures
    /// degrade to the id rather than failing a listing.
    public func ownerName(authId: String) -> String {
        if let identity = try? identity(authId: authId), let name = identity.name, !name.isEmpty {
            return name
        }
        // Remember the failure too, so a broken lookup costs one request per owner, not per handle.
        identityCache[authId] = identityCache[authId] ?? Identity(authId: authId)
        return "auth_id:\(authId)"
    }
}

/// The privileges smbvol's operations need (see README, "Least-privileged role").
public enum QumuloPrivilege {
    public static let handleRead = "PRIVILEGE_SMB_FILE_HANDLE_READ"
    public static let handleWrite = "PRIVILEGE_SMB_FILE_HANDLE_WRITE"
    public static let identityRead = "PRIVILEGE_IDENTITY_READ"
    public static let sessionRead = "PRIVILEGE_SMB_SESSION_READ"
    public static let lockRead = "PRIVILEGE_FS_LOCK_READ"
    public static let shareRead = "PRIVILEGE_SMB_SHARE_READ"
    public static let fileReadAccess = "PRIVILEGE_FILE_READ_ACCESS"

    /// Everything the hook and the operator commands use.
    public static let all: [String] = [handleRead, handleWrite, identityRead, sessionRead, lockRead, shareRead, fileReadAccess]
}

extension QumuloClient {
    /// `GET /v1/session/who-am-i`.
    public func whoAmI() throws(QumuloError) -> WhoAmI {
        try get("/v1/session/who-am-i", as: WhoAmI.self)
    }

    /// Fails, naming every missing privilege, unless the logged-in user holds all of `required`.
    @discardableResult
    public func requirePrivileges(_ required: [String]) throws(QumuloError) -> WhoAmI {
        let me = try whoAmI()
        let held = Set(me.privileges)
        let missing = required.filter { !held.contains($0) }
        guard missing.isEmpty else {
            throw QumuloError(.missingPrivileges(missing, user: me.name), method: "GET", path: "/v1/session/who-am-i")
        }
        return me
    }
}
