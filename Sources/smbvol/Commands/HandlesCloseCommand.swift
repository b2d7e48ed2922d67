import ArgumentParser
import HandleEvidence
import QumuloClient
import SMBMounts
import SmbvolConfig
import SmbvolLogging
import SmbvolPresentation
import SmbvolSystem
import SmbvolUseCases
import SmbvolWiring
import SmbvolShares

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

    @OptionGroup var options: ClusterCommandOptions

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Handle location(s) to close.", valueName: "location"))
    var location: [String] = []

    @Option(name: .long, help: ArgumentHelp("Close every handle on this file (absolute cluster path).", valueName: "path"))
    var path: String?

    @Flag(name: .customLong("dry-run"), help: "Show what would be closed; close nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Do not ask for confirmation.")
    var yes = false

    @Flag(name: .customLong("stale-only"), help: "With --path: close only the handles lock hygiene finds stale (as a VM start would); refuse (exit 3) when a live holder is on the file.")
    var staleOnly = false

    @Option(name: .customLong("keep-client"), help: ArgumentHelp("With --stale-only: a client address whose handles are never closed (repeatable).", valueName: "addr"))
    var keepClient: [String] = []

    func validate() throws {
        if location.isEmpty == (path == nil) { throw ValidationError("give --location L… or --path P (one of them)") }
        if let path, !path.hasPrefix("/") { throw ValidationError("--path must be an absolute cluster path (start with /)") }
        if staleOnly && path == nil { throw ValidationError("--stale-only needs --path P") }
    }

    func run() throws {
        try options.run(whenMissing: .useDefaults) { configuration, logger in
            let environment = ProcessEnvironment.current()
            let connection = try ClusterConnection.resolve(options: options.clusterOptions.selection, configuration: configuration, environment: environment)
            let closing = CloseHandlesByHand(
                client: try connection.makeClient(logger: logger), clusterName: connection.clusterName, configuration: configuration,
                shares: staleOnly ? try ShareCatalog(configuration: configuration) : try ShareCatalog(shares: []),
                logger: logger, environment: environment,
                localAddresses: { LocalAddresses.current(extra: configuration.localAddresses) })
            let request: CloseHandlesByHand.Request
            if let path {
                request = staleOnly ? .staleOnly(path: path, keepClients: keepClient) : .everyHandle(path: path)
            } else {
                request = .locations(location)
            }
            let output = OutputWriter()
            let plan = try closing.plan(request, cluster: options.clusterOptions.cluster)
            if plan.foreignHandlesIgnored > 0, let fileNumber = plan.fileNumbers?.first {
                writeToStandardError(
                    "smbvol: warning: the cluster listed \(plan.foreignHandlesIgnored) handle(s) of other files for file_number \(fileNumber); they are left alone\n")
            }
            output.lines(HandleText.keptLines(plan))
            if let refusal = plan.refusal {
                output.line(refusal)  // "refused: …" already
                output.flush()
                throw ExitCode(3)
            }
            if let path, plan.targets.isEmpty {
                output.line(staleOnly ? "no stale handles to close on \(path)" : "no handles open on \(path)")
                return
            }
            output.lines(HandleText.targetLines(plan, dryRun: dryRun))
            output.flush()
            if dryRun { return }
            if !yes { try confirm(count: plan.targets.count) }
            let report = try closing.close(plan, request: request)
            output.lines(HandleText.closedLines(report))
            output.flush()
            if !report.allClosed { throw ExitCode.failure }
        }
    }

    private func confirm(count: Int) throws {
        guard Terminal.isTerminal(StandardStreams.input) else {
            throw ValidationError("refusing to close \(count) handle(s) without confirmation: stdin is not a terminal; pass --yes")
        }
        writeToStandardError("Force-close \(count) handle(s)? Their holders lose unflushed writes and locks. [y/N] ")
        guard let answer = readLine()?.lowercased(), answer == "y" || answer == "yes" else {
            writeToStandardError("smbvol: nothing closed\n")
            throw ExitCode.failure
        }
    }
}
