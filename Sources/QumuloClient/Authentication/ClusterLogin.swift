import SmbvolSystem

/// Where a token comes from, and how to get a new one — resolved once per run from flags,
/// configuration and environment, in the order of the Qumulo SMB lock manager script.
public struct ClusterLogin: Sendable {
    /// A long-lived access token (`access-v1:…`) read from a file; used as is, never stored.
    public var accessToken: Secret?
    /// The token store to read first and to write after a login (qq's, or a configured file).
    public var store: CredentialStore?
    /// Username and password for logging in (again), when any were given.
    public var username: String?
    public var password: Secret?

    public init(accessToken: Secret? = nil, store: CredentialStore? = nil, username: String? = nil, password: Secret? = nil) {
        self.accessToken = accessToken
        self.store = store
        self.username = username
        self.password = password
    }

    public var canLogIn: Bool { username != nil && password != nil }
}

/// Holds the run's current token: starts from the access token or the store, logs in when it
/// has none (or when the cluster refuses it, once), and keeps the store up to date.
final class TokenKeeper {
    let login: ClusterLogin
    private(set) var token: Secret?
    /// The last token the cluster refused (never reused from the store).
    private(set) var refused: String?
    private var loadedFromStore = false

    init(login: ClusterLogin) {
        self.login = login
        token = login.accessToken
    }

    /// The token to send, from the access token or the store; `nil` means "log in first".
    func currentToken() throws(CredentialStore.Failure) -> Secret? {
        if token == nil && !loadedFromStore {
            loadedFromStore = true
            token = try login.store?.loadToken()
        }
        return token
    }

    /// Logins this process made (a token another process stored does not count).
    private(set) var logins = 0

    func replace(with newToken: Secret, fromLogin: Bool = false) {
        token = newToken
        if fromLogin { logins += 1 }
        loadedFromStore = true
    }

    func forget(refused refusedToken: String? = nil) {
        if let refusedToken { refused = refusedToken }
        token = nil
        loadedFromStore = true
    }
}
