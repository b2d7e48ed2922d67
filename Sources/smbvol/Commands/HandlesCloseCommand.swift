import ArgumentParser
import Logging
import QumuloClient
import SmbvolLogging

#if canImport(Glibc)
import Glibc
#endif

struct HandlesCloseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close",
        abstract: "Force-close SMB handles by location, or every handle on one file.",
        discussion: """
            A force-closed handle loses its holder's unflushed writes and byte-range locks. Asks for \
            confirmation unless --yes. Closes in batches of at most 100, then lists again: a handle the \
            cluster reports as failed, or that is still listed, counts as not closed and makes the exit \
            status 1. Every close is written to syslog (ident smbvol).
            """)

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var clusterOptions: ClusterOptions
    @OptionGroup var loggingOptions: LoggingOptions

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Handle location(s) to close.", valueName: "location"))
    var location: [String] = []

    @Option(name: .long, help: ArgumentHelp("Close every handle on this file (absolute cluster path).", valueName: "path"))
    var path: String?

    @Flag(name: .customLong("dry-run"), help: "Show what would be closed; close nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Do not ask for confirmation.")
    var yes = false

    func validate() throws {
        if location.isEmpty == (path == nil) { throw ValidationError("give --location L… or --path P (one of them)") }
        if let path, !path.hasPrefix("/") { throw ValidationError("--path must be an absolute cluster path (start with /)") }
    }

    func run() throws {
        let logger = loggingOptions.bootstrap()
        try reportingErrors {
            let configuration = try configOption.load()
            let connection = try ClusterConnection.resolve(
                options: clusterOptions, configuration: configuration, environment: ProcessEnvironment.current())
            let client = try connection.makeClient(logger: logger)
            let output = OutputWriter()
            var targets: [(location: String, detail: String)] = location.map { ($0, "") }
            var fileNumbers: Set<String>?
            if let path {
                let attributes = try client.fileAttributes(path: path)
                let handles = try client.handles(onFileNumber: attributes.fileNumber).handles
                targets = handles.map { ($0.location, "owner \(client.ownerName(authId: $0.owner)) on \(attributes.path)") }
                fileNumbers = [attributes.fileNumber]
                if targets.isEmpty {
                    output.line("no handles open on \(path)")
                    return
                }
            }
            for target in targets {
                output.line("\(dryRun ? "would close" : "will close") \(target.location)\(target.detail.isEmpty ? "" : " (\(target.detail))")")
            }
            output.flush()
            if dryRun { return }
            if !yes { try confirm(count: targets.count) }
            let report = try client.closeHandles(locations: targets.map(\.location), fileNumbers: fileNumbers)
            for closed in report.closed {
                logger.notice("closed SMB handle", metadata: auditMetadata(closed, decision: "closed"))
                output.line("closed \(closed)")
            }
            for failure in report.failed {
                var metadata = auditMetadata(failure.location, decision: "not-closed")
                metadata["error"] = "\(failure.reason)"
                logger.error("SMB handle not closed", metadata: metadata)
                output.line("not closed \(failure.location): \(failure.reason)")
            }
            output.flush()
            if !report.allClosed { throw ExitCode.failure }
        }
    }

    private func auditMetadata(_ location: String, decision: String) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["event": "close", "location": "\(location)", "decision": "\(decision)", "reason": "operator request"]
        if let path { metadata["cluster_path"] = "\(path)" }
        if let user = getenv("SUDO_USER") ?? getenv("USER") { metadata["operator"] = "\(String(cString: user))" }
        return metadata
    }

    private func confirm(count: Int) throws {
        guard isTerminal(STDIN_FILENO) else {
            throw ValidationError("refusing to close \(count) handle(s) without confirmation: stdin is not a terminal; pass --yes")
        }
        writeToStandardError("Force-close \(count) handle(s)? Their holders lose unflushed writes and locks. [y/N] ")
        guard let answer = readLine()?.lowercased(), answer == "y" || answer == "yes" else {
            writeToStandardError("smbvol: nothing closed\n")
            throw ExitCode.failure
        }
    }
}
