import FoundationEssentials

/// One entry of a share's host restrictions (`network_permissions`): entries apply top to
/// bottom; `address_ranges: []` means every address.
public struct NetworkPermission: Codable, Sendable, Equatable, Hashable {
    public enum Kind: String, Codable, Sendable {
        case allowed = "ALLOWED"
        case denied = "DENIED"
    }

    /// What `ALL` stands for; the cluster answers with these three.
    public static let allRights = ["READ", "WRITE", "CHANGE_PERMISSIONS"]

    public var type: Kind
    public var addressRanges: [String]
    public var rights: [String]

    public init(type: Kind, addressRanges: [String], rights: [String]) {
        self.type = type
        self.addressRanges = addressRanges
        self.rights = rights
    }

    enum CodingKeys: String, CodingKey {
        case type, rights
        case addressRanges = "address_ranges"
    }

    /// Denies every right (`ALL` spelled out, as the cluster normalises it).
    public var deniesEveryRight: Bool {
        let upper = Set(rights.map { $0.uppercased() })
        return type == .denied && (upper.contains("ALL") || upper.isSuperset(of: Self.allRights))
    }
}

/// One share as `GET /v3/smb/shares/{id}` answers it, with the ETag an edit must name.
public struct SMBShareRestrictions: Sendable, Equatable {
    public var id: String
    public var shareName: String
    public var networkPermissions: [NetworkPermission]
    /// The `ETag` header; nil when the cluster sent none (then edits go without `If-Match`).
    public var etag: String?

    public init(id: String, shareName: String, networkPermissions: [NetworkPermission], etag: String?) {
        self.id = id
        self.shareName = shareName
        self.networkPermissions = networkPermissions
        self.etag = etag
    }
}

struct SMBShareRestrictionsBody: Decodable {
    var id: String
    var shareName: String
    var networkPermissions: [NetworkPermission]

    enum CodingKeys: String, CodingKey {
        case id
        case shareName = "share_name"
        case networkPermissions = "network_permissions"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.lenientString(.id)
        shareName = try container.decode(String.self, forKey: .shareName)
        networkPermissions = try container.decode([NetworkPermission].self, forKey: .networkPermissions)
    }
}
