import FoundationEssentials

/// One handle as `handles list` shows it: the handle, its owner's name, its file's path and
/// the client addresses holding the file (nil: unknown, the grant listing was unavailable).
public struct ListedHandle: Sendable, Equatable {
    public var location: String
    public var fileNumber: String
    public var owner: String
    public var ownerName: String
    public var path: String
    public var numByteRangeLocks: Int64
    public var clientAddresses: [String]?

    public init(
        location: String, fileNumber: String, owner: String, ownerName: String, path: String, numByteRangeLocks: Int64,
        clientAddresses: [String]?
    ) {
        self.location = location
        self.fileNumber = fileNumber
        self.owner = owner
        self.ownerName = ownerName
        self.path = path
        self.numByteRangeLocks = numByteRangeLocks
        self.clientAddresses = clientAddresses
    }
}

/// What a cluster-wide listing asks for and how much it may hold.
public struct HandleListingOptions: Sendable {
    /// Ask the cluster for paths (needed for `pathPrefix` and for the path column).
    public var resolvePaths: Bool
    /// Only handles on files below this directory are handed out.
    public var pathPrefix: String?
    /// Attribute client addresses from the cluster-wide share-mode grant listing.
    public var clientAddresses: Bool
    /// Page size asked for; the server may choose a smaller one (and says so in `next`).
    public var pageLimit: Int
    /// Handle pages read ahead while the grants are still being read; past it the handle
    /// listing waits (memory stays bounded by this and by the grant index). 10 000 keeps a
    /// 100 000-handle listing under 40 MB peak RSS; 50 000 took it to 45 MB for ~10% less time.
    public var maximumBufferedHandles: Int
    /// Name owners from the SMB sessions listing (`user.name`, the same identity object
    /// `/v1/identity/find` answers) once more than `identityLookupsBeforeSessions` owners need a
    /// name: a page names up to a thousand owners where a lookup names one. Owners the sessions
    /// do not name, and every owner when the sessions listing is refused (the lock manager's role
    /// lacks PRIVILEGE_SMB_SESSION_READ), are looked up one by one as before.
    public var ownerNamesFromSessions: Bool
    public var identityLookupsBeforeSessions: Int

    public init(
        resolvePaths: Bool = true, pathPrefix: String? = nil, clientAddresses: Bool = true, pageLimit: Int = 1000,
        maximumBufferedHandles: Int = 10_000, ownerNamesFromSessions: Bool = true, identityLookupsBeforeSessions: Int = 16
    ) {
        self.resolvePaths = resolvePaths
        self.pathPrefix = pathPrefix
        self.clientAddresses = clientAddresses
        self.pageLimit = max(1, pageLimit)
        self.maximumBufferedHandles = max(1, maximumBufferedHandles)
        self.ownerNamesFromSessions = ownerNamesFromSessions
        self.identityLookupsBeforeSessions = max(0, identityLookupsBeforeSessions)
    }
}

/// How a listing went.
public struct HandleListingSummary: Sendable {
    /// Handles read from the cluster / handed out (after the path filter).
    public var seen = 0
    public var listed = 0
    public var completeness: ListingCompleteness = .complete
    public var addressCompleteness: ListingCompleteness = .complete
    /// Enrichments the cluster refused (at most one entry per kind).
    public var missing: [MissingEvidence] = []

    public init() {}
}

/// The handle fields a listing shows (ListingPageScanner reads them and skips the rest).
struct ListingHandle {
    var fileNumber: String
    var location: String
    var owner: String
    var numByteRangeLocks: Int64
    var path: String?
}

struct ListingHandlePage {
    var fileHandles: [ListingHandle]
    var paging: Paging?
}

/// The grant fields an address index needs.
struct ListingGrant {
    var fileId: String
    var ownerAddress: String
}

struct ListingGrantPage {
    var grants: [ListingGrant]
    var paging: Paging?
}

/// The user of one SMB session, as the sessions listing names it (`user.auth_id`, `user.name`).
struct ListingSessionUser {
    var authId: String
    var name: String?
}

struct ListingSessionPage {
    var users: [ListingSessionUser]
    var paging: Paging?
}
