import ArgumentParser
import Logging
import SmbvolConfig

/// The option groups commands share, in the order `--help` lists them.
protocol ConfiguredCommandOptions: ParsableArguments {
    var configOption: ConfigOption { get }
    var loggingOptions: LoggingOptions { get }
}

extension ConfiguredCommandOptions {
    /// Logging first, then `body` with the loaded configuration; an error becomes one line on
    /// stderr and exit 1 (`reportingErrors`).
    func run<T>(whenMissing: ConfigOption.WhenMissing = .fail, _ body: (SmbvolConfiguration, Logger) throws -> T) throws -> T {
        let logger = loggingOptions.bootstrap()
        return try reportingErrors { try body(try configOption.load(whenMissing: whenMissing), logger) }
    }
}

/// `--config`, `-v`/`--debug`: commands that work on this host's configured shares.
struct OperatorOptions: ConfiguredCommandOptions {
    @OptionGroup var configOption: ConfigOption
    @OptionGroup var loggingOptions: LoggingOptions
}

/// `--config`, the cluster flags, `-v`/`--debug`: commands that talk to a cluster.
struct ClusterCommandOptions: ConfiguredCommandOptions {
    @OptionGroup var configOption: ConfigOption
    @OptionGroup var clusterOptions: ClusterOptions
    @OptionGroup var loggingOptions: LoggingOptions
}

/// `--config`, `--domain`/`--connect`, `-v`/`--debug`, `--disk`: `attach` and `detach`.
struct DomainDiskOptions: ConfiguredCommandOptions {
    @OptionGroup var configOption: ConfigOption
    @OptionGroup var domainOptions: DomainSelection
    @OptionGroup var loggingOptions: LoggingOptions

    @Option(name: .long, help: ArgumentHelp("The disk's target dev (vdb).", valueName: "target"))
    var disk: String
}
