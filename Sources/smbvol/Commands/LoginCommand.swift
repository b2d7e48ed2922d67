import ArgumentParser
import QumuloClient
import SmbvolLogging

#if canImport(Glibc)
import Glibc
import SmbvolSystem
import SmbvolUseCases
#endif

struct LoginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in to a cluster and store the token where the qq CLI keeps it.",
        discussion: """
            The token is written to the qq CLI's credential store for HOST:PORT (or --credentials-store), \
            mode 0600 in a 0700 directory, atomically, so qq and smbvol reuse each other's login. The \
            password comes from --password-file, --password (visible in ps), API_PASSWORD or a prompt. \
            Afterwards the account's privileges are checked against what smbvol needs.
            """)

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var clusterOptions: ClusterOptions
    @OptionGroup var loggingOptions: LoggingOptions

    func run() throws {
        let logger = loggingOptions.bootstrap()
        try reportingErrors {
            let configuration = try configOption.load(whenMissing: .useDefaults)
            var connection = try ClusterConnection.resolve(
                options: clusterOptions.selection, configuration: configuration, environment: ProcessEnvironment.current())
            if connection.login.username == nil {
                throw ValidationError("no user given: use --user, username in the [cluster] table, or API_USER")
            }
            if connection.login.password == nil {
                connection.login.password = try promptForPassword(user: connection.login.username ?? "")
            }
            // A login must not be satisfied by the token already stored.
            connection.login.accessToken = nil
            let client = try connection.makeClient(logger: logger)
            try client.logIn()
            let storePath = connection.login.store?.path ?? "(no store)"
            writeToStandardError("smbvol: logged in to \(connection.endpoint.host):\(connection.endpoint.port) as \(connection.login.username ?? "?"); token stored in \(storePath)\n")
            do {
                try client.requirePrivileges(QumuloPrivilege.all)
            } catch let error as QumuloError {
                if case .missingPrivileges = error.kind {
                    writeToStandardError("smbvol: warning: \(error)\n")
                } else {
                    throw error
                }
            }
        }
    }

    private func promptForPassword(user: String) throws -> Secret {
        guard isTerminal(STDIN_FILENO) else {
            throw ValidationError("no password given and stdin is not a terminal: use --password-file (mode 0600) or API_PASSWORD")
        }
        guard let entered = getpass("Password for \(user): ") else {
            throw ValidationError("could not read a password from the terminal")
        }
        let password = String(cString: entered)
        guard !password.isEmpty else { throw ValidationError("empty password") }
        SecretRedactor.shared.register(password)
        return Secret(password)
    }
}
