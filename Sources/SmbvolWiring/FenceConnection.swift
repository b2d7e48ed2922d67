import Logging
import QumuloClient
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem
import SmbvolUseCases

/// The fencing account's connection, and the fence session logged in with it.
public enum FenceConnection {
    /// The connection of the fencing account: the cluster as `options` and the configuration
    /// select it, logged in with `fence_username` + `fence_password_file` or
    /// `fence_access_token_file` of its `[cluster.NAME]` table — never with the hook's account.
    /// An operator may instead name an account on the command line (`--user` and
    /// `--password-file`). No token is stored: fencing is rare and its token must not end up
    /// where the hook reads its own.
    public static func resolve(
        options: ClusterSelection, configuration: SmbvolConfiguration, environment: [String: String]
    ) throws -> ClusterConnection {
        // The hook's credentials are never read here: on a node that only fences, its password
        // file may not exist, and a fence must not log in as the hook even by accident.
        var withoutHookAccount = configuration
        for name in withoutHookAccount.clusters.keys {
            withoutHookAccount.clusters[name]?.username = nil
            withoutHookAccount.clusters[name]?.passwordFile = nil
            withoutHookAccount.clusters[name]?.accessTokenFile = nil
        }
        var environment = environment
        for key in ["API_USER", "API_PASSWORD"] { environment[key] = nil }
        var connection = try ClusterConnection.resolve(options: options, configuration: withoutHookAccount, environment: environment)
        connection.login.store = nil
        let cluster = configuration.clusters.values.first { $0.name == connection.clusterName }
        if options.user != nil, options.passwordFile != nil || options.password != nil {
            return connection
        }
        if let tokenFile = cluster?.fenceAccessTokenFile {
            let token = try ClusterConnection.readSecretFile(tokenFile)
            SecretRedactor.shared.register(token.reveal())
            connection.login = ClusterLogin(accessToken: token, store: nil, username: nil, password: nil)
            return connection
        }
        if let user = cluster?.fenceUsername, let passwordFile = cluster?.fencePasswordFile {
            let password = try ClusterConnection.readSecretFile(passwordFile)
            SecretRedactor.shared.register(password.reveal())
            connection.login = ClusterLogin(accessToken: nil, store: nil, username: user, password: password)
            connection.username = user
            return connection
        }
        let name = cluster?.name ?? connection.clusterName
        throw FenceFailure(
            "no fencing account for cluster \(name): set fence_username and fence_password_file (or fence_access_token_file) in [cluster.\(name)], or pass --user and --password-file; see README, \"Fencing\"")
    }

}

extension FenceSession {
    /// The session of the fencing account on the cluster `selection` chooses, mounting borrowed
    /// shares with mount.cifs (`fence`, `unfence` and the agent).
    public static func connecting(
        configuration: SmbvolConfiguration, selection: ClusterSelection, onlyShares: [String], logger: Logger,
        say: @escaping (String) -> Void
    ) throws -> FenceSession {
        let connection = try FenceConnection.resolve(options: selection, configuration: configuration, environment: ProcessEnvironment.current())
        return try FenceSession(
            configuration: configuration, client: try connection.makeClient(logger: logger), clusterName: connection.clusterName,
            clusterHost: connection.endpoint.host, onlyShares: onlyShares, attachments: CIFSShareAttachments(configuration: configuration),
            logger: logger, say: say)
    }
}
