/// Evidence a listing or a decision could not get, why, and which privilege adds it. Client
/// addresses and owner names are enrichments of a handle listing: without them every handle
/// is still listed, and this says what is missing in one line.
public struct MissingEvidence: Sendable, Equatable {
    public enum What: String, Sendable {
        /// Lock grants: which client addresses hold which file.
        case clientAddresses = "client_addresses"
        /// Identities: the owners' names.
        case ownerNames = "owner_names"
        /// SMB sessions: which clients are alive.
        case sessions = "sessions"

        /// The privilege that adds this evidence.
        public var privilege: String {
            switch self {
            case .clientAddresses: return QumuloPrivilege.lockRead
            case .ownerNames: return QumuloPrivilege.identityRead
            case .sessions: return QumuloPrivilege.sessionRead
            }
        }

        var noun: String {
            switch self {
            case .clientAddresses: return "client addresses"
            case .ownerNames: return "owner names"
            case .sessions: return "SMB sessions"
            }
        }
    }

    public var what: What
    /// The HTTP status that refused it, when the cluster answered.
    public var status: Int?
    /// `METHOD /path` (without the query) of the refused request.
    public var request: String
    /// One line: what is missing, why, which privilege adds it.
    public var summary: String

    public var privilege: String { what.privilege }

    public init(_ what: What, error: QumuloError) {
        self.what = what
        status = error.status
        let path = error.path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? error.path
        request = "\(error.method) \(path)"
        switch error.status {
        case 403:
            summary = "\(what.noun) unknown: the account lacks \(what.privilege) (\(request) answered HTTP 403); add it to the role to see them"
        case 404:
            summary = "\(what.noun) unknown: the cluster does not serve \(request) (HTTP 404: an older Qumulo Core, or an account without \(what.privilege)); \(what.privilege) on a cluster that serves it adds them"
        default:
            summary = "\(what.noun) unknown: \(error)"
        }
    }

    /// The evidence a refused request would have been, from its path; nil for other endpoints.
    public static func kind(ofPath path: String) -> What? {
        let bare = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        if bare.contains("/locks/smb/") { return .clientAddresses }
        if bare.hasPrefix("/v1/smb/sessions") { return .sessions }
        if bare.hasPrefix("/v1/identity/") { return .ownerNames }
        return nil
    }
}
