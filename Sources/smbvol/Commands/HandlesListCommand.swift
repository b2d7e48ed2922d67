import ArgumentParser
import SmbvolConfig
import SmbvolLogging
import SmbvolPresentation
import SmbvolSystem
import SmbvolUseCases
import SmbvolWiring

#if canImport(Glibc)
import Glibc
#endif

struct HandlesListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List SMB handles on one file, one share, or the whole cluster.",
        discussion: """
            Without --path or --share the whole cluster is listed, page by page, in the cluster's order; \
            the handle pages, the cluster-wide share-mode grant listing (client addresses) and the \
            owner-name lookups run side by side on a few kept-alive connections. With --path, the \
            file's own grant listings give its client addresses. \
            When the account lacks PRIVILEGE_FS_LOCK_READ (or the cluster does not serve grant \
            listings), every handle is still listed, the client column says "unknown", and one \
            warning line on stderr says what is missing and which privilege adds it. \
            --json prints {"handles": [{"location", "file_number", "owner", "owner_name", "path", \
            "num_byte_range_locks", "client_addresses"}], "missing_evidence": [{"evidence", \
            "privilege", "status", "message"}]}; client_addresses is null when unknown. \
            The output reaches stdout only once the listing is complete (it is spooled to an unnamed \
            file in $TMPDIR): a listing that fails prints nothing there, one line on stderr, exit 1.
            """)

    @OptionGroup var options: ClusterCommandOptions

    @Option(name: .long, help: ArgumentHelp("Absolute cluster path of one file.", valueName: "path"))
    var path: String?

    @Option(name: .long, help: ArgumentHelp("A configured share: list handles below its cluster path.", valueName: "share"))
    var share: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws {
        if path != nil && share != nil { throw ValidationError("give --path or --share, not both") }
        if let path, !path.hasPrefix("/") { throw ValidationError("--path must be an absolute cluster path (start with /)") }
    }

    func run() throws {
        try options.run(whenMissing: .useDefaults) { configuration, logger in
            let (scope, selection) = try ListHandles.scope(share: share, path: path, selection: options.clusterOptions.selection, configuration: configuration)
            let connection = try ClusterConnection.resolve(options: selection, configuration: configuration, environment: ProcessEnvironment.current())
            let listing = ListHandles(client: try connection.makeClient(logger: logger), stateDirectory: configuration.stateDirectory)
            // Held back until the listing is complete: a listing that fails part-way (the cluster
            // goes away, the token cannot be renewed) prints only the error, never half a document.
            let output = try OutputWriter.heldBack()
            let printer = HandlePrinter(json: json, output: output)
            let showProgress = Terminal.isTerminal(STDERR_FILENO)
            printer.begin()
            let outcome = try listing(
                scope, progress: { seen in if showProgress { writeToStandardError("\rsmbvol: listed \(seen) handles…") } }, printer.print)
            if let seen = outcome.seen, showProgress { writeToStandardError("\rsmbvol: listed \(seen) handles.   \n") }
            printer.end(missing: outcome.missing)
            for warning in HandleText.listingWarnings(outcome) { writeToStandardError(warning + "\n") }
            try output.publish()
        }
    }
}
