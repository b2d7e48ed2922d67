import ArgumentParser
import SmbvolConfig
import SmbvolLogging
import SmbvolUseCases
import SmbvolWiring

#if canImport(Glibc)
import Glibc
#endif

/// `--config FILE`, shared by every command. Default: `SMBVOL_CONFIG`, else /etc/smbvol/smbvol.toml.
struct ConfigOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Configuration file (default: $SMBVOL_CONFIG, else /etc/smbvol/smbvol.toml). When it is missing, "
                + "commands exit 1 naming it; login and handles (given --host) use the defaults; heartbeat and reconcile "
                + "warn and find no share.",
            valueName: "file"))
    var config: String?

    /// The path the configuration is read from.
    var resolvedPath: String {
        if let config { return config }
        if let fromEnvironment = getenv("SMBVOL_CONFIG").map({ String(cString: $0) }), !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return SmbvolConfiguration.defaultPath
    }

    /// What a command does when the default configuration file is missing.
    enum WhenMissing {
        /// Exit 1 naming the file: the command works on the configured shares.
        case fail
        /// The built-in defaults: `login` and `handles list|close` need nothing from the file
        /// when given `--host`.
        case useDefaults
        /// The defaults (no share: nothing to do) and one warning line naming the file:
        /// `heartbeat` and `reconcile`, which the package's units start on install, before
        /// the operator has written a configuration.
        case warnAndUseDefaults
    }

    /// Loads the configuration. A file named by --config or SMBVOL_CONFIG must exist whatever
    /// `whenMissing` says.
    func load(whenMissing: WhenMissing = .fail) throws -> SmbvolConfiguration {
        let required = whenMissing == .fail || isNamed
        let configuration = try ConfigurationLoader().load(path: resolvedPath, requireFile: required)
        if whenMissing == .warnAndUseDefaults && !configuration.sourceFiles.contains(resolvedPath) {
            writeToStandardError("smbvol: warning: \(oneLine(resolvedPath)) does not exist: no share is configured, nothing to do\n")
        }
        Observability.configure(configuration)
        CommandBounds.adopt(configuration)
        try StateDirectoryTrust.verify(configuration)
        return configuration
    }

    /// Whether the operator named the file (--config or SMBVOL_CONFIG), rather than the default.
    private var isNamed: Bool {
        config != nil || getenv("SMBVOL_CONFIG").map { $0.pointee != 0 } == true
    }
}
