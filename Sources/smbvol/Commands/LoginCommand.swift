import ArgumentParser
import SmbvolLogging
import SmbvolSystem
import SmbvolUseCases
import SmbvolWiring

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

    @OptionGroup var options: ClusterCommandOptions

    func run() throws {
        try options.run(whenMissing: .useDefaults) { configuration, logger in
            let connection = try ClusterConnection.resolve(
                options: options.clusterOptions.selection, configuration: configuration, environment: ProcessEnvironment.current())
            let login = try LoginToCluster(connection: connection, logger: logger)()
            writeToStandardError("smbvol: logged in to \(login.host):\(login.port) as \(login.username); token stored in \(login.storePath)\n")
            switch login.privileges {
            case .complete: break
            case .missing(let error): writeToStandardError("smbvol: warning: \(error)\n")
            case .failed(let error): throw error
            }
        }
    }
}
