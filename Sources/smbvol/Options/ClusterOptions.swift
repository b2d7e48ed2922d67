import ArgumentParser
import QumuloClient
import SmbvolUseCases

/// How to reach a cluster: a `[cluster.NAME]` table, or host/port/TLS/user given directly.
/// Flags win over the configuration, which wins over API_HOSTNAME / API_USER / API_PASSWORD.
struct ClusterOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A [cluster.NAME] table of the configuration.", valueName: "name"))
    var cluster: String?

    @Option(name: .long, help: ArgumentHelp("Any node of the cluster (else the configuration, else $API_HOSTNAME).", valueName: "host"))
    var host: String?

    @Option(name: .long, help: ArgumentHelp("REST API port (default 8000).", valueName: "port"))
    var port: Int?

    @Option(name: .customLong("api-prefix"), help: ArgumentHelp("Path prefix the cluster serves its API under, e.g. /api on port 443 (default: the cluster's api_prefix, else none).", valueName: "prefix"))
    var apiPrefix: String?

    @Option(name: .customLong("ca-file"), help: ArgumentHelp("PEM bundle to verify the cluster's certificate with.", valueName: "file"))
    var caFile: String?

    @Flag(name: .long, help: "Do not verify the cluster's TLS certificate (not recommended; warned about on every run).")
    var insecure = false

    @Option(name: .long, help: ArgumentHelp("User to log in as (else the configuration, else $API_USER).", valueName: "user"))
    var user: String?

    @Option(name: .customLong("password-file"), help: ArgumentHelp("File holding the password (mode 0600).", valueName: "file"))
    var passwordFile: String?

    @Option(name: .long, help: ArgumentHelp("The password. Visible to every user in `ps`: prefer --password-file or the prompt.", valueName: "password"))
    var password: String?

    @Option(name: .customLong("credentials-store"), help: ArgumentHelp("Token store (default: the qq CLI's, ~/.config/qumulo/credentials/HOST_PORT).", valueName: "file"))
    var credentialsStore: String?

    @Option(name: .customLong("timeout"), help: ArgumentHelp("Per-request timeout in seconds (default: the cluster's request_timeout_seconds, else 10).", valueName: "seconds"))
    var requestTimeoutSeconds: Double?

    func validate() throws {
        if insecure && caFile != nil { throw ValidationError("--insecure and --ca-file exclude each other") }
        if password != nil && passwordFile != nil { throw ValidationError("give --password or --password-file, not both") }
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be between 1 and 65535") }
        if let requestTimeoutSeconds, requestTimeoutSeconds <= 0 { throw ValidationError("--timeout must be positive") }
        if let apiPrefix, case .failure(let error) = ClusterEndpoint.normalizedAPIPrefix(apiPrefix) {
            throw ValidationError("--api-prefix: \(error)")
        }
    }

    /// What the flags select, for the use cases (which never parse a command line).
    var selection: ClusterSelection {
        var selection = ClusterSelection(cluster: cluster)
        selection.host = host
        selection.port = port
        selection.apiPrefix = apiPrefix
        selection.caFile = caFile
        selection.insecure = insecure
        selection.user = user
        selection.passwordFile = passwordFile
        selection.password = password
        selection.credentialsStore = credentialsStore
        selection.requestTimeoutSeconds = requestTimeoutSeconds
        return selection
    }
}
