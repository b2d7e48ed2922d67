/// The API endpoints the simulator serves, matched from the raw (encoded) path.
enum Route: Sendable {
    enum LockType: String, Sendable {
        case shareMode = "share-mode"
        case byteRange = "byte-range"
    }

    case version
    case login
    case whoAmI
    case fileAttributes(ref: String)
    case smbFiles
    case smbFilesClose
    case smbSessions
    case smbSessionsClose
    case fileLocks(ref: String, type: LockType)
    case clientLocks(type: LockType)
    case shares
    case share(id: String)
    case shareModify(id: String)
    case identityFind

    enum Match {
        case route(Route)
        case notFound
        case methodNotAllowed
    }

    static func match(method: String, rawPath: String) -> Match {
        // Split the still-encoded path, so "%2F" inside a file reference stays in one segment.
        let segments = rawPath.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        // One resource, two methods: a share is read with GET and changed with PATCH.
        if segments.count == 4, segments[0] == "v3", segments[1] == "smb", segments[2] == "shares" {
            switch method {
            case "GET": return .route(.share(id: segments[3]))
            case "PATCH": return .route(.shareModify(id: segments[3]))
            default: return .methodNotAllowed
            }
        }
        guard let (route, expected) = routeAndMethod(segments) else { return .notFound }
        return method == expected ? .route(route) : .methodNotAllowed
    }

    private static func routeAndMethod(_ s: [String]) -> (Route, String)? {
        switch s.count {
        case 2:
            if s == ["v1", "version"] { return (.version, "GET") }
            if s == ["v3", "shares"] { return nil }
        case 3:
            switch (s[0], s[1], s[2]) {
            case ("v1", "session", "login"): return (.login, "POST")
            case ("v1", "session", "who-am-i"): return (.whoAmI, "GET")
            case ("v1", "smb", "files"): return (.smbFiles, "GET")
            case ("v1", "smb", "sessions"): return (.smbSessions, "GET")
            case ("v3", "smb", "shares"): return (.shares, "GET")
            case ("v1", "identity", "find"): return (.identityFind, "POST")
            default: return nil
            }
        case 4:
            switch (s[0], s[1], s[2], s[3]) {
            case ("v1", "smb", "files", "close"): return (.smbFilesClose, "POST")
            case ("v1", "smb", "sessions", "close"): return (.smbSessionsClose, "POST")
            default: break
            }
            if s[0] == "v1", s[1] == "files", s[3] == "info" { return nil }
        case 5:
            if s[0] == "v1", s[1] == "files", s[3] == "info", s[4] == "attributes" {
                return (.fileAttributes(ref: s[2]), "GET")
            }
            if s[0] == "v1", s[1] == "files", s[2] == "locks", s[3] == "smb",
                let type = LockType(rawValue: s[4])
            {
                return (.clientLocks(type: type), "GET")
            }
        case 6:
            if s[0] == "v1", s[1] == "files", s[3] == "locks", s[4] == "smb",
                let type = LockType(rawValue: s[5])
            {
                return (.fileLocks(ref: s[2], type: type), "GET")
            }
        default:
            break
        }
        return nil
    }

    var needsAuthentication: Bool {
        switch self {
        case .version, .login: false
        default: true
        }
    }

    /// The privilege the endpoint needs, per the reference.
    var privilege: String? {
        switch self {
        case .version, .login, .whoAmI, .fileAttributes: nil
        case .smbFiles: Privilege.smbFileHandleRead
        case .smbFilesClose: Privilege.smbFileHandleWrite
        case .smbSessions: Privilege.smbSessionRead
        case .smbSessionsClose: Privilege.smbSessionWrite
        case .fileLocks, .clientLocks: Privilege.fsLockRead
        case .shares, .share: Privilege.smbShareRead
        case .shareModify: Privilege.smbShareWrite
        case .identityFind: Privilege.identityRead
        }
    }
}
