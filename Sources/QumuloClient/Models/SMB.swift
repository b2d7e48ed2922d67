import FoundationEssentials

/// One entry of `GET /v1/smb/sessions/`.
public struct SMBSession: Decodable, Sendable, Equatable {
    public var location: String
    /// The client's IP address.
    public var originator: String
    public var user: Identity
    public var numOpens: Int64
    public var timeIdle: QumuloDuration
    public var shareNames: [String]
    /// The cluster node address the client is connected to (never to be fenced).
    public var serverAddress: String?
    /// The whole object as the listing gave it (nil for a session built here): what a session
    /// close sends back.
    public var listed: ListedJSON?

    public init(
        location: String, originator: String, user: Identity, numOpens: Int64 = 0, timeIdle: QumuloDuration, shareNames: [String] = [],
        serverAddress: String? = nil
    ) {
        self.location = location
        self.originator = originator
        self.user = user
        self.numOpens = numOpens
        self.timeIdle = timeIdle
        self.shareNames = shareNames
        self.serverAddress = serverAddress
    }

    enum CodingKeys: String, CodingKey {
        case location, originator, user
        case numOpens = "num_opens"
        case timeIdle = "time_idle"
        case shareNames = "share_names"
        case serverAddress = "server_address"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        location = try container.lenientStringIfPresent(.location) ?? ""
        originator = try container.decode(String.self, forKey: .originator)
        user = try container.decode(Identity.self, forKey: .user)
        numOpens = try container.lenientIntIfPresent(.numOpens) ?? 0
        timeIdle = try container.decode(QumuloDuration.self, forKey: .timeIdle)
        shareNames = try container.decodeIfPresent([String].self, forKey: .shareNames) ?? []
        serverAddress = try? container.decodeIfPresent(String.self, forKey: .serverAddress)
        listed = try? ListedJSON(from: decoder)
    }
}

struct SessionPage: Decodable {
    var sessionInfos: [SMBSession]
    var paging: Paging?

    enum CodingKeys: String, CodingKey {
        case sessionInfos = "session_infos"
        case paging
    }
}

/// An entry of `GET /v3/smb/shares/`.
public struct SMBShare: Decodable, Sendable, Equatable {
    public var id: String
    public var shareName: String
    public var fsPath: String
    /// Share names are unique per tenant only.
    public var tenantId: String?
    /// The share's host restrictions, when the listing carries them (nil: not reported, or in
    /// a shape this client does not read — never taken as "no restrictions" by fencing).
    public var networkPermissions: [NetworkPermission]?

    public init(id: String, shareName: String, fsPath: String, tenantId: String? = nil, networkPermissions: [NetworkPermission]? = nil) {
        self.id = id
        self.shareName = shareName
        self.fsPath = fsPath
        self.tenantId = tenantId
        self.networkPermissions = networkPermissions
    }

    enum CodingKeys: String, CodingKey {
        case id
        case shareName = "share_name"
        case fsPath = "fs_path"
        case tenantId = "tenant_id"
        case networkPermissions = "network_permissions"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.lenientString(.id)
        shareName = try container.decode(String.self, forKey: .shareName)
        fsPath = try container.decode(String.self, forKey: .fsPath)
        tenantId = try? container.lenientStringIfPresent(.tenantId)
        networkPermissions = try? container.decodeIfPresent([NetworkPermission].self, forKey: .networkPermissions)
    }
}

struct SMBShareList: Decodable {
    var entries: [SMBShare]
}

/// An identity as sessions and `/v1/identity/find` report it (any field may be null).
public struct Identity: Codable, Sendable, Equatable {
    public var domain: String?
    public var authId: String?
    public var uid: Int64?
    public var gid: Int64?
    public var sid: String?
    public var name: String?

    public init(domain: String? = nil, authId: String? = nil, uid: Int64? = nil, gid: Int64? = nil, sid: String? = nil, name: String? = nil) {
        self.domain = domain
        self.authId = authId
        self.uid = uid
        self.gid = gid
        self.sid = sid
        self.name = name
    }

    enum CodingKeys: String, CodingKey {
        case domain, uid, gid, sid, name
        case authId = "auth_id"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        domain = try container.decodeIfPresent(String.self, forKey: .domain)
        authId = try container.lenientStringIfPresent(.authId)
        uid = try? container.lenientIntIfPresent(.uid)
        gid = try? container.lenientIntIfPresent(.gid)
        sid = try container.decodeIfPresent(String.self, forKey: .sid)
        name = try container.decodeIfPresent(String.self, forKey: .name)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(domain, forKey: .domain)
        try container.encodeIfPresent(authId, forKey: .authId)
        try container.encodeIfPresent(uid, forKey: .uid)
        try container.encodeIfPresent(gid, forKey: .gid)
        try container.encodeIfPresent(sid, forKey: .sid)
        try container.encodeIfPresent(name, forKey: .name)
    }
}

/// `GET /v1/session/who-am-i` (the fields smbvol uses).
public struct WhoAmI: Decodable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var privileges: [String]

    enum CodingKeys: String, CodingKey { case id, name, privileges }

    public init(id: String, name: String, privileges: [String]) {
        self.id = id
        self.name = name
        self.privileges = privileges
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.lenientStringIfPresent(.id) ?? ""
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        privileges = try container.decodeIfPresent([String].self, forKey: .privileges) ?? []
    }
}

/// `GET /v1/version`.
public struct ClusterVersion: Decodable, Sendable, Equatable {
    public var revisionId: String
    public var buildId: String?
    public var flavor: String?
    public var buildDate: String?

    enum CodingKeys: String, CodingKey {
        case revisionId = "revision_id"
        case buildId = "build_id"
        case flavor
        case buildDate = "build_date"
    }
}

struct LoginAnswer: Decodable {
    var bearerToken: String

    enum CodingKeys: String, CodingKey { case bearerToken = "bearer_token" }
}

/// Qumulo's error body: `{module, error_class, description, stack, user_visible}`.
struct ErrorBody: Decodable {
    var errorClass: String?
    var description: String?

    enum CodingKeys: String, CodingKey {
        case errorClass = "error_class"
        case description
    }
}
