import ArgumentParser
import QumuloClient
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem
import SmbvolUseCases

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

    @OptionGroup var configOption: ConfigOption
    @OptionGroup var clusterOptions: ClusterOptions
    @OptionGroup var loggingOptions: LoggingOptions

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
        let logger = loggingOptions.bootstrap()
        try reportingErrors {
            let configuration = try configOption.load(whenMissing: .useDefaults)
            let (scope, selection) = try ListHandles.scope(share: share, path: path, selection: clusterOptions.selection, configuration: configuration)
            let connection = try ClusterConnection.resolve(options: selection, configuration: configuration, environment: ProcessEnvironment.current())
            let listing = ListHandles(client: try connection.makeClient(logger: logger), stateDirectory: configuration.stateDirectory)
            // Held back until the listing is complete: a listing that fails part-way (the cluster
            // goes away, the token cannot be renewed) prints only the error, never half a document.
            let output = try OutputWriter.heldBack()
            let printer = HandlePrinter(json: json, output: output)
            let showProgress = isTerminal(STDERR_FILENO)
            printer.begin()
            let outcome = try listing(
                scope, progress: { seen in if showProgress { writeToStandardError("\rsmbvol: listed \(seen) handles…") } }, printer.print)
            if let seen = outcome.seen, showProgress { writeToStandardError("\rsmbvol: listed \(seen) handles.   \n") }
            printer.end(missing: outcome.missing)
            if outcome.foreignHandles > 0, let fileNumber = outcome.fileNumber {
                writeToStandardError("smbvol: warning: the cluster listed \(outcome.foreignHandles) handle(s) of other files for file_number \(fileNumber); not shown\n")
            }
            for case .stoppedOnRepeatedNext(let next) in outcome.incomplete {
                writeToStandardError("smbvol: warning: the cluster repeated a paging link (\(next)); the listing may be incomplete\n")
            }
            // One line, however many enrichments are missing.
            if !outcome.missing.isEmpty { writeToStandardError("smbvol: warning: " + outcome.missing.map(\.summary).joined(separator: "; ") + "\n") }
            try output.publish()
        }
    }
}

/// Table or JSON lines for handles, streamed.
struct HandlePrinter {
    let json: Bool
    let output: OutputWriter
    private final class State {
        var first = true
        var line = JSONWriter()
    }
    private let state = State()

    init(json: Bool, output: OutputWriter) {
        self.json = json
        self.output = output
    }

    func begin() {
        if json {
            output.write("{\"handles\": [")
        } else {
            output.line(Self.row("LOCATION", "OWNER", "CLIENT", "BRL", "PATH"))
        }
    }

    func print(_ handle: ListedHandle) {
        if json {
            // Byte by byte: a cluster-wide listing writes 100 000 of these lines.
            var line = state.line
            state.line = JSONWriter()  // keep `line` uniquely referenced while it is written
            line.reset()
            line.raw(state.first ? "\n  {\"location\": " : ",\n  {\"location\": ")
            state.first = false
            line.string(handle.location)
            line.raw(", \"file_number\": ")
            line.string(handle.fileNumber)
            line.raw(", \"owner\": ")
            line.string(handle.owner)
            line.raw(", \"owner_name\": ")
            line.string(handle.ownerName)
            line.raw(", \"path\": ")
            line.string(handle.path)
            line.raw(", \"num_byte_range_locks\": ")
            line.integer(handle.numByteRangeLocks)
            line.raw(", \"client_addresses\": ")
            if let addresses = handle.clientAddresses {
                line.raw("[")
                for (index, address) in addresses.enumerated() {
                    if index > 0 { line.raw(", ") }
                    line.string(address)
                }
                line.raw("]}")
            } else {
                line.raw("null}")
            }
            output.write(bytes: line.bytes)
            state.line = line
        } else {
            let client = handle.clientAddresses.map { $0.isEmpty ? "-" : $0.joined(separator: ",") } ?? "unknown"
            output.line(Self.row(handle.location, handle.ownerName, client, String(handle.numByteRangeLocks), handle.path))
        }
    }

    /// Closes the JSON document with what evidence was missing (the table has the stderr line).
    func end(missing: [MissingEvidence]) {
        guard json else { return }
        var line = JSONWriter()
        line.raw(state.first ? "], \"missing_evidence\": " : "\n], \"missing_evidence\": ")
        line.value(
            .array(
                missing.map { item in
                    .object([
                        ("evidence", .string(item.what.rawValue)), ("privilege", .string(item.privilege)),
                        ("status", item.status.map { .integer(Int64($0)) } ?? .null), ("message", .string(item.summary)),
                    ])
                }))
        line.raw("}\n")
        output.write(bytes: line.bytes)
    }

    private static func row(_ location: String, _ owner: String, _ client: String, _ locks: String, _ path: String) -> String {
        pad(location, 20) + " " + pad(owner, 20) + " " + pad(client, 24) + " " + pad(locks, 4) + " " + path
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
