import Logging
import QumuloClient
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem
import SmbvolUseCases

#if canImport(Glibc)
import Glibc
#endif

/// Everything needed to talk to one cluster, resolved from flags, configuration and environment
/// in the order of the Qumulo SMB lock manager script: the token store first, then explicit host/user/password, then
/// API_HOSTNAME / API_USER / API_PASSWORD.
public struct ClusterConnection: Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case noHost
        case unknownCluster(String, known: [String])
        case ambiguousCluster([String])
        case unreadableSecret(String, String)

        public var description: String {
            switch self {
            case .noHost:
                return "no cluster given: use --cluster NAME, --host HOST, a [cluster.NAME] table in the configuration, or API_HOSTNAME"
            case .unknownCluster(let name, let known):
                return "cluster \"\(name)\" is not configured (configured: \(known.isEmpty ? "none" : known.joined(separator: ", ")))"
            case .ambiguousCluster(let names):
                return "several clusters are configured (\(names.joined(separator: ", "))): choose one with --cluster NAME"
            case .unreadableSecret(let path, let reason):
                return "cannot use secrets file \(path): \(reason)"
            }
        }
    }

    public var endpoint: ClusterEndpoint
    public var login: ClusterLogin
    public var requestTimeout: Duration
    /// Where a password could come from interactively (`login` prompts when nothing else gave one).
    public var username: String?
    /// The `[cluster.NAME]` name, else the host: the `cluster` label of the request-error metric.
    public var clusterName = ""

    /// Resolves the connection from what the operator selected, the configuration and the
    /// environment (the hook's is scrubbed by libvirt: nothing there is required).
    public static func resolve(
        options: ClusterSelection, configuration: SmbvolConfiguration, environment: [String: String]
    ) throws -> ClusterConnection {
        let cluster = try selectCluster(options: options, configuration: configuration, environment: environment)
        guard let host = options.host ?? cluster?.host ?? environment["API_HOSTNAME"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw Failure.noHost
        }
        let port = options.port ?? cluster?.port ?? 8000
        let verification: TLSVerification
        if options.insecure || (options.caFile == nil && cluster?.insecure == true) {
            verification = .insecure
        } else if let caFile = options.caFile ?? cluster?.caFile {
            verification = .caFile(caFile)
        } else {
            verification = .systemCAs
        }
        let store: CredentialStore
        if let path = options.credentialsStore ?? cluster?.credentialsStore {
            store = CredentialStore(path: path)
        } else {
            store = try CredentialStore.defaultStore(host: host, port: port, environment: environment)
        }
        let username = options.user ?? cluster?.username ?? environment["API_USER"].flatMap { $0.isEmpty ? nil : $0 }
        var password: Secret?
        if let file = options.passwordFile ?? (options.password == nil ? cluster?.passwordFile : nil) {
            password = try readSecretFile(file)
        } else if let flag = options.password {
            password = Secret(flag)
        } else if let fromEnvironment = environment["API_PASSWORD"], !fromEnvironment.isEmpty {
            password = Secret(fromEnvironment)
        }
        let accessToken = try cluster?.accessTokenFile.map(readSecretFile)
        for secret in [password, accessToken].compactMap({ $0 }) { SecretRedactor.shared.register(secret.reveal()) }
        let timeout = options.requestTimeoutSeconds ?? cluster?.requestTimeoutSeconds ?? 10
        // Validated by ClusterOptions and the configuration loader; "" when neither sets one.
        let apiPrefix = (try? ClusterEndpoint.normalizedAPIPrefix(options.apiPrefix ?? cluster?.apiPrefix ?? "").get()) ?? ""
        var connection = ClusterConnection(
            endpoint: ClusterEndpoint(host: host, port: port, verification: verification, apiPrefix: apiPrefix),
            login: ClusterLogin(accessToken: accessToken, store: store, username: username, password: password),
            requestTimeout: .milliseconds(Int64(timeout * 1000)),
            username: username)
        connection.clusterName = cluster?.name ?? host
        return connection
    }

    private static func selectCluster(
        options: ClusterSelection, configuration: SmbvolConfiguration, environment: [String: String]
    ) throws -> ClusterConfiguration? {
        if let name = options.cluster {
            guard let cluster = configuration.clusters[name] else {
                throw Failure.unknownCluster(name, known: configuration.clusters.keys.sorted())
            }
            return cluster
        }
        // Explicit --host means "this host", not a configured cluster (unless it is the same one).
        if let host = options.host {
            return configuration.clusters.values.first { $0.host == host && (options.port == nil || options.port == $0.port) }
        }
        if configuration.clusters.count == 1 { return configuration.clusters.values.first }
        if configuration.clusters.count > 1 && environment["API_HOSTNAME"] == nil {
            throw Failure.ambiguousCluster(configuration.clusters.keys.sorted())
        }
        return nil
    }

    /// A secrets file: must be 0600-ish (not readable by others); first line, trimmed.
    public static func readSecretFile(_ path: String) throws -> Secret {
        do {
            try SecureFiles.verifySecretFile(path)
            let bytes = try readWholeFile(path)
            let text = String(decoding: bytes, as: UTF8.self)
            let firstLine = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let trimmed = firstLine.hasSuffix("\r") ? String(firstLine.dropLast()) : firstLine
            guard !trimmed.isEmpty else { throw Failure.unreadableSecret(path, "the first line is empty") }
            return Secret(trimmed)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure.unreadableSecret(path, "\(error)")
        }
    }

    /// Requests in flight at once for cluster-wide listings (and connections to the cluster).
    public static let concurrentRequests = 4

    /// Opens the transport and builds the client; warns about `insecure` on every run.
    public func makeClient(deadline: Deadline = .none, logger: Logger) throws -> QumuloClient {
        if endpoint.verification == .insecure {
            logger.warning(
                "TLS certificate verification is OFF for this cluster (insecure); anyone on the path can impersonate it",
                metadata: ["host": "\(endpoint.host)", "port": "\(endpoint.port)"])
        }
        let transport = RequestErrorCountingTransport(try CurlTransport(endpoint: endpoint), cluster: clusterName)
        let endpoint = endpoint
        return QumuloClient(
            transport: transport, login: login, deadline: deadline, requestTimeout: requestTimeout, logger: logger,
            concurrentTransport: { () throws(TransportFailure) -> any ConcurrentHTTPTransport in
                try CurlMultiTransport(endpoint: endpoint, maximumInFlight: Self.concurrentRequests)
            })
    }
}

/// Clients from the configuration (and what an operator selected on the command line): the
/// share's `cluster` unless the operator named a cluster or host.
public struct ConfiguredClusterClients: ClusterClientMaking {
    public let configuration: SmbvolConfiguration
    public let selection: ClusterSelection
    /// Read when a client is made, not before: most hook runs never ask a cluster, and copying
    /// the environment costs more than the rest of a no-op run's own work.
    public let environment: @Sendable () -> [String: String]

    public init(
        configuration: SmbvolConfiguration, selection: ClusterSelection = ClusterSelection(),
        environment: @escaping @Sendable () -> [String: String] = ProcessEnvironment.current
    ) {
        self.configuration = configuration
        self.selection = selection
        self.environment = environment
    }

    public func client(forCluster name: String?, deadline: Deadline, logger: Logger) throws -> QumuloClient {
        let connection = try ClusterConnection.resolve(
            options: selection.defaulting(toCluster: name), configuration: configuration, environment: environment())
        return try connection.makeClient(deadline: deadline, logger: logger)
    }
}
