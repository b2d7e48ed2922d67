/// What the simulator stores, one type per listed resource.
struct FileRecord: Sendable {
    enum Kind: String, Sendable {
        case file = "FS_FILE_TYPE_FILE"
        case directory = "FS_FILE_TYPE_DIRECTORY"
    }

    var path: String
    var id: String
    var size: String
    var kind: Kind
    var owner: String

    var name: String {
        guard path != "/" else { return "" }
        return String(path.split(separator: "/").last ?? "")
    }
}

struct HandleRecord: Sendable {
    var seq: Int
    var location: String
    var path: String
    var fileNumber: String
    var owner: String
    var clientAddress: String
    var numByteRangeLocks: Int
    var grants: Bool
    var accessMask: [String]
    var shareModes: [String]
    var ownerName: String
    var version: Int
}

struct SessionRecord: Sendable {
    var seq: Int
    var location: String
    var originator: String
    var authID: String
    var idleNanoseconds: Int64
    var openNanoseconds: Int64
    var shareNames: [String]
    var isGuest: Bool
    var isEncrypted: Bool
    /// The server address the client is connected to (the real one in the Samba backend);
    /// nil: the scenario's server address.
    var serverAddress: String? = nil
}

struct UserRecord: Sendable {
    var name: String
    var password: String
    var authID: String
    var privileges: [String]
}

struct TokenRecord: Sendable {
    var user: String
}

/// One line of the request log behind `GET /_sim/state`. Never holds a token.
public struct RequestLogEntry: Sendable {
    public var method: String
    public var path: String
    public var status: Int
    public var authenticated: Bool
}

/// Every privilege the simulator knows; a user without a `privileges` list has them all.
public enum Privilege {
    public static let smbFileHandleRead = "PRIVILEGE_SMB_FILE_HANDLE_READ"
    public static let smbFileHandleWrite = "PRIVILEGE_SMB_FILE_HANDLE_WRITE"
    public static let smbSessionRead = "PRIVILEGE_SMB_SESSION_READ"
    public static let smbSessionWrite = "PRIVILEGE_SMB_SESSION_WRITE"
    public static let smbShareRead = "PRIVILEGE_SMB_SHARE_READ"
    public static let smbShareWrite = "PRIVILEGE_SMB_SHARE_WRITE"
    public static let identityRead = "PRIVILEGE_IDENTITY_READ"
    public static let fsLockRead = "PRIVILEGE_FS_LOCK_READ"
    public static let fileReadAccess = "PRIVILEGE_FILE_READ_ACCESS"

    public static let all = [
        smbFileHandleRead, smbFileHandleWrite, smbSessionRead, smbSessionWrite, smbShareRead, smbShareWrite,
        identityRead, fsLockRead, fileReadAccess,
    ]
}
