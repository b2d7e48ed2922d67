import ArgumentParser
import SmbvolConfig
import SmbvolLogging
import SmbvolUseCases

#if canImport(Glibc)
import Glibc
#endif

/// `--config FILE`, shared by every command. Default: `SMBVOL_CONFIG`, else /etc/smbvol/smbvol.toml.
struct ConfigOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Configuration file (default: $SMBVOL_CONFIG, else /etc/smbvol/smbvol.toml).",
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

    /// Loads the configuration. A missing default file yields the built-in defaults, so
    /// commands that need nothing from it (e.g. `handles list --host …`) work without one.
    func load() throws -> SmbvolConfiguration {
        let configuration = try ConfigurationLoader().load(
            path: resolvedPath, requireFile: config != nil || getenv("SMBVOL_CONFIG") != nil)
        Observability.configure(configuration)
        CommandBounds.armCommandDeadline(configuration)
        try StateDirectoryTrust.verify(configuration)
        return configuration
    }
}
