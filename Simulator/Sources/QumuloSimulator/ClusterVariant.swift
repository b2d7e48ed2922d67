/// How this simulated cluster differs from the default one, as real clusters do:
/// `"cluster": {"api_prefix": "/api", "lock_grant_listings": false}` in a scenario.
public struct ClusterVariant: Codable, Sendable, Equatable {
    /// The API is served under this prefix only (clusters on port 443 serve `/api/v1/…`);
    /// `paging.next` links still come back without it, as real clusters send them. `/_sim/`
    /// stays at the root.
    public var apiPrefix: String?
    /// false: every lock-grant listing (per file and cluster-wide) answers 404
    /// `http_not_found_error`, as on older Qumulo Core versions.
    public var lockGrantListings: Bool?

    enum CodingKeys: String, CodingKey {
        case apiPrefix = "api_prefix"
        case lockGrantListings = "lock_grant_listings"
    }

    public init(apiPrefix: String? = nil, lockGrantListings: Bool? = nil) {
        self.apiPrefix = apiPrefix
        self.lockGrantListings = lockGrantListings
    }

    /// "" or "/segment…" without a trailing slash.
    public var normalizedPrefix: String {
        var prefix = apiPrefix ?? ""
        while prefix.hasSuffix("/") { prefix.removeLast() }
        if !prefix.isEmpty && !prefix.hasPrefix("/") { prefix = "/" + prefix }
        return prefix
    }

    public var servesLockGrantListings: Bool { lockGrantListings ?? true }

    /// The request with the prefix taken off its target, or nil when the target lies outside
    /// the prefix (a real front end answers 404 there).
    func strippingPrefix(_ request: SimulatorRequest) -> SimulatorRequest? {
        let prefix = normalizedPrefix
        guard !prefix.isEmpty else { return request }
        let target = request.target
        guard target.hasPrefix(prefix + "/") else { return nil }
        var stripped = request
        stripped.target = String(target.dropFirst(prefix.count))
        return stripped
    }
}

/// The roles a scenario user can be given by name instead of a privilege list.
public enum ScenarioRole {
    /// What the Qumulo SMB lock manager script's README prescribes: list and close handles,
    /// look up identities — no sessions, no lock grants, no shares.
    public static let lockManager = [Privilege.smbFileHandleRead, Privilege.smbFileHandleWrite, Privilege.identityRead]

    /// The fencing role smbvol's docs/configuration.md prescribes: read and change share host restrictions,
    /// list and close sessions — nothing else.
    public static let fencer = [Privilege.smbShareRead, Privilege.smbShareWrite, Privilege.smbSessionRead, Privilege.smbSessionWrite]

    static func privileges(named name: String) -> [String]? {
        switch name {
        case "lock_manager": return lockManager
        case "fencer": return fencer
        case "admin": return Privilege.all
        default: return nil
        }
    }
}
