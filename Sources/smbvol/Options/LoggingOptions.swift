import ArgumentParser
import Logging
import SmbvolLogging
import SmbvolSystem
import SmbvolUseCases

/// `--verbose` / `--debug`: what reaches stderr. Audit events (notice and up) always go to syslog.
struct LoggingOptions: ParsableArguments {
    @Flag(name: [.customShort("v"), .long], help: "Also show informational messages on stderr.")
    var verbose = false

    @Flag(name: .long, help: "Show debug messages on stderr (never secrets).")
    var debug = false

    func bootstrap() -> Logger {
        let level: Logger.Level = debug ? .debug : (verbose ? .info : .warning)
        LoggingSetup.bootstrap(
            standardErrorLevel: level, syslogLevel: .notice,
            operator: AuditEvent.invokingOperator(environment: ProcessEnvironment.current()))
        // Each handler filters at its own level; setting the Logger's level would override them all.
        return Logger(label: "smbvol")
    }
}
