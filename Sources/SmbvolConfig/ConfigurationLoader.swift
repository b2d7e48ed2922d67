import SmbvolSystem
import TOMLKit

/// Reads `smbvol.toml` and every `shares.d/*.toml` beside it into one `SmbvolConfiguration`.
///
/// The main file holds the top-level keys, `[policy]`, `[cluster.NAME]` and `[share.NAME]`
/// tables; files in `shares.d/` hold only `[cluster.NAME]` and `[share.NAME]` tables. The order
/// of `shares.d` files does not matter: a name defined twice is an error naming both files.
public struct ConfigurationLoader: Sendable {
    public init() {}

    /// - Parameter requireFile: when false, a missing main file means "all defaults" (operator
    ///   commands given `--host` need no configuration); when true it is an error.
    public func load(path: String, requireFile: Bool = true) throws -> SmbvolConfiguration {
        var configuration = SmbvolConfiguration()
        if let text = try Self.readFile(path, mustExist: requireFile) {
            let reader = try Self.parse(text, file: path)
            try applyMain(reader, to: &configuration)
            configuration.sourceFiles.append(path)
        }
        let directory = Self.directoryName(of: path) + "/shares.d"
        for file in try Self.tomlFiles(in: directory) {
            guard let text = try Self.readFile(file, mustExist: true) else { continue }
            let reader = try Self.parse(text, file: file)
            try reader.rejectUnknownKeys(allowed: ["cluster", "share"])
            try applyNamedTables(reader, to: &configuration)
            configuration.sourceFiles.append(file)
        }
        try validateReferences(configuration)
        return configuration
    }

    /// Parses configuration text (tests, and `load`).
    public func parse(_ text: String, file: String) throws -> SmbvolConfiguration {
        var configuration = SmbvolConfiguration()
        try applyMain(try Self.parse(text, file: file), to: &configuration)
        configuration.sourceFiles = [file]
        try validateReferences(configuration)
        return configuration
    }

    private static let mainKeys: Set<String> = [
        "state_dir", "mount_base", "mount_command", "umount_command", "qemu_user", "qemu_group",
        "mount_timeout_seconds", "deadline_seconds", "local_addresses", "syslog_socket", "policy", "cluster", "share",
        "command_deadline_seconds",
        "journal_socket", "metrics_file",
        "host_id", "heartbeat_interval_seconds", "heartbeat_fresh_seconds",
        "on_takeover", "libvirt_uri",
    ]

    private func applyMain(_ root: TableReader, to configuration: inout SmbvolConfiguration) throws {
        try root.rejectUnknownKeys(allowed: Self.mainKeys)
        if let value = try root.absolutePath("state_dir") { configuration.stateDirectory = value }
        if let value = try root.absolutePath("mount_base") {
            configuration.mountBase = value
        } else if root.table["state_dir"] != nil {
            configuration.mountBase = configuration.stateDirectory + "/mnt"
        }
        if let value = try root.absolutePath("mount_command") { configuration.mountCommand = value }
        if let value = try root.absolutePath("umount_command") { configuration.umountCommand = value }
        configuration.qemuUser = try root.nonEmptyString("qemu_user")
        configuration.qemuGroup = try root.nonEmptyString("qemu_group")
        if let value = try root.seconds("mount_timeout_seconds") { configuration.mountTimeoutSeconds = value }
        if let value = try root.seconds("deadline_seconds") { configuration.deadlineSeconds = value }
        if let value = try root.seconds("command_deadline_seconds") { configuration.commandDeadlineSeconds = value }
        if let value = try root.stringArray("local_addresses") { configuration.localAddresses = value }
        if let value = try root.absolutePath("syslog_socket") { configuration.syslogSocket = value }
        try applyObservability(root, to: &configuration)
        try applyHeartbeat(root, to: &configuration)
        if let policy = try root.subtable("policy") { configuration.policy = try readPolicy(policy) }
        try applyNamedTables(root, to: &configuration)
    }

    /// `journal_socket` ("" turns the journal off) and `metrics_file`.
    private func applyObservability(_ root: TableReader, to configuration: inout SmbvolConfiguration) throws {
        if let value = try root.string("journal_socket"), value.isEmpty {
            configuration.journalSocket = nil
        } else if let value = try root.absolutePath("journal_socket") {
            configuration.journalSocket = value
        } else if configuration.syslogSocket != "/dev/log" {
            configuration.journalSocket = nil
        }
        if let value = try root.absolutePath("metrics_file") {
            guard value.hasSuffix(".prom") else {
                throw root.error("metrics_file", "must end in .prom (node_exporter's textfile collector reads only those), got \"\(value)\"")
            }
            configuration.metricsFile = value
        }
    }

    /// `host_id` names files on shared storage: letters, digits, `.`, `_`, `-`, at most 64.
    private func applyHeartbeat(_ root: TableReader, to configuration: inout SmbvolConfiguration) throws {
        if let value = try root.nonEmptyString("host_id") {
            let allowed = value.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
            guard allowed, value.utf8.count <= 64, !value.hasPrefix(".") else {
                throw root.error("host_id", "must be 1 to 64 letters, digits, '.', '_' or '-' (not starting with '.'), got \"\(value)\"")
            }
            configuration.hostID = value
        }
        if let value = try root.seconds("heartbeat_interval_seconds") { configuration.heartbeatIntervalSeconds = value }
        if let value = try root.seconds("heartbeat_fresh_seconds") { configuration.heartbeatFreshSeconds = value }
        if let value = try root.string("on_takeover") {
            guard let choice = SmbvolConfiguration.OnTakeover(rawValue: value) else {
                throw root.error("on_takeover", "must be \"pause\", \"destroy\" or \"log\", got \"\(value)\"")
            }
            configuration.onTakeover = choice
        }
        if let value = try root.nonEmptyString("libvirt_uri") { configuration.libvirtURI = value }
    }

    private func readPolicy(_ reader: TableReader) throws -> PolicyConfiguration {
        try reader.rejectUnknownKeys(allowed: ["stale_after_seconds", "protected_clients", "on_cluster_error"])
        var policy = PolicyConfiguration()
        if let value = try reader.seconds("stale_after_seconds") { policy.staleAfterSeconds = value }
        if let value = try reader.stringArray("protected_clients") { policy.protectedClients = value }
        if let value = try reader.string("on_cluster_error") {
            guard let choice = PolicyConfiguration.OnClusterError(rawValue: value) else {
                throw reader.error("on_cluster_error", "must be \"continue\" or \"fail\", got \"\(value)\"")
            }
            policy.onClusterError = choice
        }
        return policy
    }

    private func applyNamedTables(_ root: TableReader, to configuration: inout SmbvolConfiguration) throws {
        if let clusters = try root.subtable("cluster") {
            for name in clusters.table.keys.sorted() {
                guard let reader = try clusters.subtable(name) else { continue }
                if let existing = configuration.clusters[name] {
                    throw duplicate("cluster", name, reader: reader, firstFile: existing.sourceFile)
                }
                configuration.clusters[name] = try readCluster(name: name, reader)
            }
        }
        if let shares = try root.subtable("share") {
            for name in shares.table.keys.sorted() {
                guard let reader = try shares.subtable(name) else { continue }
                if let existing = configuration.shares[name] {
                    throw duplicate("share", name, reader: reader, firstFile: existing.sourceFile)
                }
                configuration.shares[name] = try readShare(name: name, reader)
            }
        }
    }

    private func duplicate(_ kind: String, _ name: String, reader: TableReader, firstFile: String) -> ConfigurationError {
        ConfigurationError(
            file: reader.file, line: reader.lines.line(of: reader.path), key: "\(kind).\(name)",
            message: "\(kind) \"\(name)\" is already defined in \(firstFile); rename or remove one of them")
    }

    private func readCluster(name: String, _ reader: TableReader) throws -> ClusterConfiguration {
        try reader.rejectUnknownKeys(allowed: [
            "host", "port", "ca_file", "insecure", "username", "password_file", "access_token_file",
            "credentials_store", "request_timeout_seconds", "api_prefix",
            "fence_username", "fence_password_file", "fence_access_token_file",
        ])
        guard let host = try reader.nonEmptyString("host") else {
            throw reader.error("host", "is required (the address or name of any node of the cluster)")
        }
        var cluster = ClusterConfiguration(name: name, host: host)
        if let port = try reader.integer("port", in: 1...65535) { cluster.port = port }
        cluster.caFile = try reader.absolutePath("ca_file")
        cluster.insecure = try reader.bool("insecure") ?? false
        cluster.username = try reader.nonEmptyString("username")
        cluster.passwordFile = try reader.absolutePath("password_file")
        cluster.accessTokenFile = try reader.absolutePath("access_token_file")
        cluster.credentialsStore = try reader.absolutePath("credentials_store")
        cluster.fenceUsername = try reader.nonEmptyString("fence_username")
        cluster.fencePasswordFile = try reader.absolutePath("fence_password_file")
        cluster.fenceAccessTokenFile = try reader.absolutePath("fence_access_token_file")
        if cluster.fencePasswordFile != nil && cluster.fenceUsername == nil {
            throw reader.error("fence_password_file", "needs fence_username (the fencing account the password belongs to)")
        }
        if let value = try reader.seconds("request_timeout_seconds") { cluster.requestTimeoutSeconds = value }
        if let prefix = try reader.string("api_prefix") { cluster.apiPrefix = try Self.apiPrefix(prefix, reader: reader) }
        if cluster.insecure && cluster.caFile != nil {
            throw reader.error("insecure", "cannot be combined with ca_file: verify with the CA file, or skip verification, not both")
        }
        cluster.sourceFile = reader.file
        return cluster
    }

    /// "" or "/segment[/segment…]" (a trailing slash dropped): clusters on port 443 serve the
    /// API under "/api".
    static func apiPrefix(_ text: String, reader: TableReader) throws -> String {
        var prefix = text
        while prefix.hasSuffix("/") { prefix.removeLast() }
        if prefix.isEmpty { return "" }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/")
        guard prefix.hasPrefix("/"), prefix.allSatisfy({ allowed.contains($0) }), !prefix.contains("//") else {
            throw reader.error("api_prefix", "must be a path such as \"/api\" (letters, digits, - . _ ~ and single slashes), got \"\(text)\"")
        }
        return prefix
    }

    private func readShare(name: String, _ reader: TableReader) throws -> ShareConfiguration {
        try reader.rejectUnknownKeys(allowed: [
            "export", "cluster", "fs_path", "credentials", "options", "mount_point", "local_path", "allow_nobrl",
        ])
        guard let export = try reader.nonEmptyString("export") else {
            throw reader.error("export", "is required (//server/share[/subdir])")
        }
        guard export.hasPrefix("//"), export.split(separator: "/").count >= 2 else {
            throw reader.error("export", "must look like //server/share[/subdir], got \"\(export)\"")
        }
        var share = ShareConfiguration(name: name, export: export, sourceFile: reader.file)
        share.cluster = try reader.nonEmptyString("cluster")
        share.fsPath = try reader.absolutePath("fs_path")
        share.credentials = try reader.absolutePath("credentials")
        share.options = try reader.stringArray("options") ?? []
        share.mountPoint = try reader.absolutePath("mount_point")
        share.localPath = try reader.absolutePath("local_path")
        share.allowNobrl = try reader.bool("allow_nobrl") ?? false
        return share
    }

    private func validateReferences(_ configuration: SmbvolConfiguration) throws {
        for share in configuration.shares.values.sorted(by: { $0.name < $1.name }) {
            if let cluster = share.cluster, configuration.clusters[cluster] == nil {
                let known = configuration.clusters.keys.sorted().joined(separator: ", ")
                throw ConfigurationError(
                    file: share.sourceFile, key: "share.\(share.name).cluster",
                    message: "names cluster \"\(cluster)\", which is not defined (defined: \(known.isEmpty ? "none" : known))")
            }
        }
        // Two shares at one directory would count each other's locks and unmount each other.
        var byDirectory: [String: String] = [:]
        for share in configuration.shares.values.sorted(by: { $0.name < $1.name }) {
            guard let directory = share.localPath ?? share.mountPoint else { continue }
            let key = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
            if let other = byDirectory[key] {
                throw ConfigurationError(
                    file: share.sourceFile, key: "share.\(share.name).\(share.localPath != nil ? "local_path" : "mount_point")",
                    message: "\(key) is already the directory of share \"\(other)\"; give each share its own")
            }
            byDirectory[key] = share.name
        }
    }

    // MARK: - Files

    private static func parse(_ text: String, file: String) throws -> TableReader {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(
                file: file, line: error.source.begin.line,
                message: "not valid TOML: \(error.description) (column \(error.source.begin.column))")
        }
        return TableReader(table: table, path: [], file: file, lines: KeyLineIndex(text: text))
    }

    private static func readFile(_ path: String, mustExist: Bool) throws -> String? {
        let bytes: [UInt8]
        do {
            bytes = try FileDescriptorIO.readRegularFile(path: path, limit: 16 * 1024 * 1024)
        } catch is NotARegularFile {
            throw ConfigurationError(file: path, message: "is not a regular file (a FIFO, device or directory); move it out of the way")
        } catch let error as SystemCallError {
            if error.call == "open" && error.code == Errno.noSuchFileOrDirectory {
                guard mustExist else { return nil }
                throw ConfigurationError(file: path, message: "does not exist: smbvol reads its configuration (the shares) from it; write it, or name another with --config or SMBVOL_CONFIG")
            }
            throw ConfigurationError(file: path, message: "cannot read: \(error.reason)")
        } catch is InputLimitExceeded {
            throw ConfigurationError(file: path, message: "larger than 16 MiB; is this the right file?")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigurationError(file: path, message: "is not valid UTF-8")
        }
        return text
    }

    private static func tomlFiles(in directory: String) throws -> [String] {
        let names: [String]
        do {
            names = try DirectoryListing.names(in: directory)
        } catch let error as SystemCallError {
            if error.call == "opendir" && (error.code == Errno.noSuchFileOrDirectory || error.code == Errno.notADirectory) { return [] }
            throw ConfigurationError(file: directory, message: "cannot list: \(error.reason)")
        }
        return names.filter { $0.hasSuffix(".toml") && !$0.hasPrefix(".") }.map { directory + "/" + $0 }.sorted()
    }

    private static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
