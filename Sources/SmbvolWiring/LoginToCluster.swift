import SmbvolUseCases
import Logging
import QumuloClient
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem

#if canImport(Glibc)
import Glibc
#endif

/// `smbvol login`: log in to a cluster (never with the token already stored), store the token
/// where the qq CLI keeps it, and check the account's privileges against what smbvol needs.
public struct LoginToCluster {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The privilege check after a successful login.
    public enum PrivilegeCheck {
        case complete
        /// The account lacks privileges smbvol needs: a warning, not a failure.
        case missing(QumuloError)
        /// The check itself failed (after the login succeeded).
        case failed(any Error)
    }

    public struct LoggedIn {
        public var host: String
        public var port: Int
        public var username: String
        public var storePath: String
        public var privileges: PrivilegeCheck
    }

    public var connection: ClusterConnection
    public var logger: Logger
    /// Asked for the user's password when none is given: the terminal by default.
    public var promptForPassword: (String) throws -> Secret

    public init(connection: ClusterConnection, logger: Logger, promptForPassword: @escaping (String) throws -> Secret = Self.promptOnTerminal) {
        self.connection = connection
        self.logger = logger
        self.promptForPassword = promptForPassword
    }

    public func callAsFunction() throws -> LoggedIn {
        var connection = connection
        guard let username = connection.login.username else {
            throw Failure(description: "no user given: use --user, username in the [cluster] table, or API_USER")
        }
        if connection.login.password == nil { connection.login.password = try promptForPassword(username) }
        // A login must not be satisfied by the token already stored.
        connection.login.accessToken = nil
        let client = try connection.makeClient(logger: logger)
        try client.logIn()
        var loggedIn = LoggedIn(
            host: connection.endpoint.host, port: connection.endpoint.port, username: username,
            storePath: connection.login.store?.path ?? "(no store)", privileges: .complete)
        do {
            try client.requirePrivileges(QumuloPrivilege.all)
        } catch {
            if case .missingPrivileges = error.kind { loggedIn.privileges = .missing(error) } else { loggedIn.privileges = .failed(error) }
        }
        return loggedIn
    }

    /// The password typed at the terminal (not echoed); refused when stdin is not a terminal.
    public static func promptOnTerminal(user: String) throws -> Secret {
        guard Terminal.isTerminal(STDIN_FILENO) else {
            throw Failure(description: "no password given and stdin is not a terminal: use --password-file (mode 0600) or API_PASSWORD")
        }
        guard let password = Terminal.readPassword(prompt: "Password for \(user): ") else {
            throw Failure(description: "could not read a password from the terminal")
        }
        guard !password.isEmpty else { throw Failure(description: "empty password") }
        SecretRedactor.shared.register(password)
        return Secret(password)
    }
}
