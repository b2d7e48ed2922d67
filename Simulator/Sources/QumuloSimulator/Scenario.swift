import Foundation

/// A simulated cluster: who may log in, which files exist, who holds handles on them.
/// The JSON keys are a contract with the client's tests; see the README of the simulator.
public struct Scenario: Codable, Sendable {
    public var users: [User]
    public var accessTokens: [AccessToken]
    public var identities: [Identity]
    public var shares: [Share]
    public var files: [File]
    public var sessions: [Session]
    public var handles: [Handle]
    public var pageSize: Int?
    public var faults: [Fault]
    public var generate: GenerateSpec?
    /// The cluster node address reported in sessions and grants.
    public var serverAddress: String?
    /// API prefix, missing listings: see ClusterVariant.
    public var cluster: ClusterVariant?

    enum CodingKeys: String, CodingKey {
        case users, identities, shares, files, sessions, handles, faults, generate
        case accessTokens = "access_tokens"
        case pageSize = "page_size"
        case serverAddress = "server_address"
        case cluster
    }

    public init(
        users: [User] = [], accessTokens: [AccessToken] = [], identities: [Identity] = [],
        shares: [Share] = [], files: [File] = [], sessions: [Session] = [], handles: [Handle] = [],
        pageSize: Int? = nil, faults: [Fault] = [], generate: GenerateSpec? = nil,
        serverAddress: String? = nil
    ) {
        self.users = users
        self.accessTokens = accessTokens
        self.identities = identities
        self.shares = shares
        self.files = files
        self.sessions = sessions
        self.handles = handles
        self.pageSize = pageSize
        self.faults = faults
        self.generate = generate
        self.serverAddress = serverAddress
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        users = try c.decodeIfPresent([User].self, forKey: .users) ?? []
        accessTokens = try c.decodeIfPresent([AccessToken].self, forKey: .accessTokens) ?? []
        identities = try c.decodeIfPresent([Identity].self, forKey: .identities) ?? []
        shares = try c.decodeIfPresent([Share].self, forKey: .shares) ?? []
        files = try c.decodeIfPresent([File].self, forKey: .files) ?? []
        sessions = try c.decodeIfPresent([Session].self, forKey: .sessions) ?? []
        handles = try c.decodeIfPresent([Handle].self, forKey: .handles) ?? []
        pageSize = try c.decodeIfPresent(Int.self, forKey: .pageSize)
        faults = try c.decodeIfPresent([Fault].self, forKey: .faults) ?? []
        generate = try c.decodeIfPresent(GenerateSpec.self, forKey: .generate)
        serverAddress = try c.decodeIfPresent(String.self, forKey: .serverAddress)
        cluster = try c.decodeIfPresent(ClusterVariant.self, forKey: .cluster)
    }

    public struct User: Codable, Sendable {
        public var name: String
        public var password: String
        public var authID: String
        /// nil means every privilege.
        public var privileges: [String]?
        /// A named role instead of a privilege list: "lock_manager", "fencer" (ScenarioRole) or "admin".
        public var role: String?

        enum CodingKeys: String, CodingKey {
            case name, password, privileges, role
            case authID = "auth_id"
        }

        public init(name: String, password: String, authID: String, privileges: [String]? = nil) {
            self.name = name
            self.password = password
            self.authID = authID
            self.privileges = privileges
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            password = try c.decode(String.self, forKey: .password)
            authID = try c.decodeFlexibleStringIfPresent(forKey: .authID) ?? "500"
            privileges = try c.decodeIfPresent([String].self, forKey: .privileges)
            role = try c.decodeIfPresent(String.self, forKey: .role)
            if let role {
                guard let named = ScenarioRole.privileges(named: role) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .role, in: c, debugDescription: "unknown role \"\(role)\" (known: lock_manager, fencer, admin)")
                }
                guard privileges == nil else {
                    throw DecodingError.dataCorruptedError(forKey: .role, in: c, debugDescription: "give role or privileges, not both")
                }
                privileges = named
            }
        }
    }

    public struct AccessToken: Codable, Sendable {
        public var token: String
        public var user: String

        public init(token: String, user: String) {
            self.token = token
            self.user = user
        }
    }

    public struct Identity: Codable, Sendable {
        public var authID: String
        public var name: String?
        public var domain: String?
        public var uid: Int?
        public var gid: Int?
        public var sid: String?

        enum CodingKeys: String, CodingKey {
            case name, domain, uid, gid, sid
            case authID = "auth_id"
        }

        public init(
            authID: String, name: String? = nil, domain: String? = nil, uid: Int? = nil,
            gid: Int? = nil, sid: String? = nil
        ) {
            self.authID = authID
            self.name = name
            self.domain = domain
            self.uid = uid
            self.gid = gid
            self.sid = sid
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            authID = try c.decodeFlexibleString(forKey: .authID)
            name = try c.decodeIfPresent(String.self, forKey: .name)
            domain = try c.decodeIfPresent(String.self, forKey: .domain)
            uid = try c.decodeIfPresent(Int.self, forKey: .uid)
            gid = try c.decodeIfPresent(Int.self, forKey: .gid)
            sid = try c.decodeIfPresent(String.self, forKey: .sid)
        }
    }

    public struct Share: Codable, Sendable {
        public var id: String
        public var name: String
        public var fsPath: String
        public var description: String?
        /// The tenant the share belongs to (default 1): names are unique per tenant only, so
        /// two tenants' shares can share a name (and names differ in case only, too).
        public var tenantID: Int
        /// Host restrictions; nil is the cluster's default (every address, every right).
        public var networkPermissions: [NetworkPermission]?

        enum CodingKeys: String, CodingKey {
            case id, name, description
            case fsPath = "fs_path"
            case tenantID = "tenant_id"
            case networkPermissions = "network_permissions"
        }

        public init(
            id: String, name: String, fsPath: String, description: String? = nil, tenantID: Int = 1,
            networkPermissions: [NetworkPermission]? = nil
        ) {
            self.id = id
            self.name = name
            self.fsPath = fsPath
            self.description = description
            self.tenantID = tenantID
            self.networkPermissions = networkPermissions
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decodeFlexibleString(forKey: .id)
            name = try c.decode(String.self, forKey: .name)
            fsPath = try c.decode(String.self, forKey: .fsPath)
            description = try c.decodeIfPresent(String.self, forKey: .description)
            tenantID = try c.decodeIfPresent(Int.self, forKey: .tenantID) ?? 1
            networkPermissions = try c.decodeIfPresent([NetworkPermission].self, forKey: .networkPermissions)
        }
    }

    public struct File: Codable, Sendable {
        public var path: String
        public var id: String
        public var size: String
        public var owner: String?
        /// Other paths of the same file (hard links): they resolve to this file, its id and
        /// file number.
        public var links: [String]

        public init(path: String, id: String, size: String = "0", owner: String? = nil, links: [String] = []) {
            self.path = path
            self.id = id
            self.size = size
            self.owner = owner
            self.links = links
        }

        enum CodingKeys: String, CodingKey { case path, id, size, owner, links }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            path = try c.decode(String.self, forKey: .path)
            id = try c.decodeFlexibleString(forKey: .id)
            size = try c.decodeFlexibleStringIfPresent(forKey: .size) ?? "0"
            owner = try c.decodeFlexibleStringIfPresent(forKey: .owner)
            links = try c.decodeIfPresent([String].self, forKey: .links) ?? []
        }
    }

    public struct Session: Codable, Sendable {
        public var originator: String
        public var authID: String
        public var idleSeconds: Double
        public var openSeconds: Double?
        public var shareNames: [String]
        public var location: String?
        public var isGuest: Bool?
        public var isEncrypted: Bool?

        enum CodingKeys: String, CodingKey {
            case originator, location
            case authID = "auth_id"
            case idleSeconds = "idle_seconds"
            case openSeconds = "open_seconds"
            case shareNames = "share_names"
            case isGuest = "is_guest"
            case isEncrypted = "is_encrypted"
        }

        public init(
            originator: String, authID: String, idleSeconds: Double = 0, openSeconds: Double? = nil,
            shareNames: [String] = [], location: String? = nil
        ) {
            self.originator = originator
            self.authID = authID
            self.idleSeconds = idleSeconds
            self.openSeconds = openSeconds
            self.shareNames = shareNames
            self.location = location
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            originator = try c.decode(String.self, forKey: .originator)
            authID = try c.decodeFlexibleString(forKey: .authID)
            idleSeconds = try c.decodeIfPresent(Double.self, forKey: .idleSeconds) ?? 0
            openSeconds = try c.decodeIfPresent(Double.self, forKey: .openSeconds)
            shareNames = try c.decodeIfPresent([String].self, forKey: .shareNames) ?? []
            location = try c.decodeFlexibleStringIfPresent(forKey: .location)
            isGuest = try c.decodeIfPresent(Bool.self, forKey: .isGuest)
            isEncrypted = try c.decodeIfPresent(Bool.self, forKey: .isEncrypted)
        }
    }

    public struct Handle: Codable, Sendable {
        public var path: String
        public var location: String
        public var owner: String
        public var clientAddress: String
        public var numByteRangeLocks: Int
        /// false models a handle whose lock grants cannot be attributed to any client.
        public var grants: Bool
        public var accessMask: [String]?
        public var shareModes: [String]?
        public var ownerName: String?
        public var version: Int?

        enum CodingKeys: String, CodingKey {
            case path, location, owner, grants, version
            case clientAddress = "client_address"
            case numByteRangeLocks = "num_byte_range_locks"
            case accessMask = "access_mask"
            case shareModes = "share_modes"
            case ownerName = "owner_name"
        }

        public init(
            path: String, location: String, owner: String, clientAddress: String,
            numByteRangeLocks: Int = 0, grants: Bool = true
        ) {
            self.path = path
            self.location = location
            self.owner = owner
            self.clientAddress = clientAddress
            self.numByteRangeLocks = numByteRangeLocks
            self.grants = grants
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            path = try c.decode(String.self, forKey: .path)
            location = try c.decodeFlexibleString(forKey: .location)
            owner = try c.decodeFlexibleString(forKey: .owner)
            clientAddress = try c.decode(String.self, forKey: .clientAddress)
            numByteRangeLocks = try c.decodeIfPresent(Int.self, forKey: .numByteRangeLocks) ?? 0
            grants = try c.decodeIfPresent(Bool.self, forKey: .grants) ?? true
            accessMask = try c.decodeIfPresent([String].self, forKey: .accessMask)
            shareModes = try c.decodeIfPresent([String].self, forKey: .shareModes)
            ownerName = try c.decodeIfPresent(String.self, forKey: .ownerName)
            version = try c.decodeIfPresent(Int.self, forKey: .version)
        }
    }

    /// Expanded at load time into generated files, identities, handles and sessions.
    public struct GenerateSpec: Codable, Sendable {
        public var handles: Int
        public var files: Int
        public var sessions: Int
        public var seed: UInt64

        public init(handles: Int, files: Int, sessions: Int, seed: UInt64 = 1) {
            self.handles = handles
            self.files = files
            self.sessions = sessions
            self.seed = seed
        }

        enum CodingKeys: String, CodingKey { case handles, files, sessions, seed }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            handles = try c.decodeIfPresent(Int.self, forKey: .handles) ?? 0
            files = try c.decodeIfPresent(Int.self, forKey: .files) ?? 1
            sessions = try c.decodeIfPresent(Int.self, forKey: .sessions) ?? 1
            seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 1
        }
    }
}

extension KeyedDecodingContainer {
    /// Ids are strings in the API, but scenario authors often type them as numbers.
    func decodeFlexibleString(forKey key: Key) throws -> String {
        if let value = try? decode(String.self, forKey: key) { return value }
        if let value = try? decode(Int.self, forKey: key) { return String(value) }
        throw DecodingError.typeMismatch(
            String.self,
            .init(codingPath: codingPath + [key], debugDescription: "expected a string or an integer"))
    }

    func decodeFlexibleStringIfPresent(forKey key: Key) throws -> String? {
        guard contains(key), (try? decodeNil(forKey: key)) == false else { return nil }
        return try decodeFlexibleString(forKey: key)
    }
}
