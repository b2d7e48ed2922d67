import FoundationEssentials

/// `GET /v1/files/{ref}/info/attributes` (the fields smbvol uses).
public struct FileAttributes: Decodable, Sendable, Equatable {
    public var path: String
    public var name: String
    public var type: String
    public var id: String
    public var fileNumber: String
    public var size: String?

    public init(path: String, name: String, type: String, id: String, fileNumber: String, size: String? = nil) {
        self.path = path
        self.name = name
        self.type = type
        self.id = id
        self.fileNumber = fileNumber
        self.size = size
    }

    enum CodingKeys: String, CodingKey {
        case path, name, type, id, size
        case fileNumber = "file_number"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        path = try container.decode(String.self, forKey: .path)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        type = try container.decodeIfPresent(String.self, forKey: .type) ?? ""
        id = try container.lenientString(.id)
        fileNumber = try container.lenientString(.fileNumber)
        size = try container.lenientStringIfPresent(.size)
    }
}

/// One entry of `GET /v1/smb/files/`.
public struct FileHandle: Decodable, Sendable, Equatable {
    public var fileNumber: String
    public var location: String
    /// The auth_id of the identity holding the handle.
    public var owner: String
    public var accessMask: [String]
    public var numByteRangeLocks: Int64
    /// Only present when listed with `resolve_paths=true`.
    public var path: String?

    public init(
        fileNumber: String, location: String, owner: String, accessMask: [String] = [], numByteRangeLocks: Int64 = 0,
        path: String? = nil
    ) {
        self.fileNumber = fileNumber
        self.location = location
        self.owner = owner
        self.accessMask = accessMask
        self.numByteRangeLocks = numByteRangeLocks
        self.path = path
    }

    enum CodingKeys: String, CodingKey {
        case fileNumber = "file_number"
        case handleInfo = "handle_info"
    }

    enum HandleInfoKeys: String, CodingKey {
        case location, owner, path
        case accessMask = "access_mask"
        case numByteRangeLocks = "num_byte_range_locks"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        fileNumber = try container.lenientString(.fileNumber)
        let info = try container.nestedContainer(keyedBy: HandleInfoKeys.self, forKey: .handleInfo)
        location = try info.decode(String.self, forKey: .location)
        owner = try info.lenientString(.owner)
        accessMask = try info.decodeIfPresent([String].self, forKey: .accessMask) ?? []
        numByteRangeLocks = try info.lenientIntIfPresent(.numByteRangeLocks) ?? 0
        path = try info.decodeIfPresent(String.self, forKey: .path)
    }
}

struct FileHandlePage: Decodable {
    var fileHandles: [FileHandle]
    var paging: Paging?

    enum CodingKeys: String, CodingKey {
        case fileHandles = "file_handles"
        case paging
    }
}

/// The answer of `POST /v1/smb/files/close` for one handle.
struct CloseResult: Decodable {
    var errorMessage: String?

    enum CodingKeys: String, CodingKey { case errorMessage = "error_message" }
}

/// A share-mode or byte-range lock grant on a file.
public struct LockGrant: Decodable, Sendable, Equatable {
    public var fileId: String
    public var ownerAddress: String
    public var mode: [String]
    public var ownerId: String?
    public var offset: String?
    public var size: String?

    public init(fileId: String, ownerAddress: String, mode: [String] = [], ownerId: String? = nil, offset: String? = nil, size: String? = nil) {
        self.fileId = fileId
        self.ownerAddress = ownerAddress
        self.mode = mode
        self.ownerId = ownerId
        self.offset = offset
        self.size = size
    }

    enum CodingKeys: String, CodingKey {
        case mode, offset, size
        case fileId = "file_id"
        case ownerAddress = "owner_address"
        case ownerId = "owner_id"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        fileId = try container.lenientString(.fileId)
        ownerAddress = try container.decode(String.self, forKey: .ownerAddress)
        mode = try container.decodeIfPresent([String].self, forKey: .mode) ?? []
        ownerId = try container.lenientStringIfPresent(.ownerId)
        offset = try container.lenientStringIfPresent(.offset)
        size = try container.lenientStringIfPresent(.size)
    }
}

struct LockGrantPage: Decodable {
    var grants: [LockGrant]
    var paging: Paging?
}

/// Which lock listing to read.
public enum LockGrantKind: String, Sendable, CaseIterable {
    case shareMode = "share-mode"
    case byteRange = "byte-range"
}
