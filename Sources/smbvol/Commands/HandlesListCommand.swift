import ArgumentParser
import HandleEvidence
import Logging
import QumuloClient
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem

#if canImport(Glibc)
import Glibc
import SmbvolUseCases
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
            var options = clusterOptions
            var shareConfiguration: ShareConfiguration?
            if let share {
                guard let found = configuration.shares[share] else {
                    throw ValidationError("share \"\(share)\" is not configured (configured: \(configuration.shares.keys.sorted().joined(separator: ", ")))")
                }
                shareConfiguration = found
                if options.cluster == nil && options.host == nil { options.cluster = found.cluster }
            }
            let connection = try ClusterConnection.resolve(options: options.selection, configuration: configuration, environment: ProcessEnvironment.current())
            let client = try connection.makeClient(logger: logger)
            // Held back until the listing is complete: a listing that fails part-way (the cluster
            // goes away, the token cannot be renewed) prints only the error, never half a document.
            let output = try OutputWriter.heldBack()
            let printer = HandlePrinter(json: json, output: output)
            if let path {
                try listFile(path, client: client, printer: printer)
            } else {
                let resolver = ShareRootResolver(stateDirectory: configuration.stateDirectory)
                let prefix = try shareConfiguration.map { share in
                    do {
                        return try resolver.root(of: share, client: client)
                    } catch let error as QumuloError where error.status == 403 || error.status == 404 {
                        throw ShareRootUnavailable(share: share.name, error: error)
                    }
                }
                try listCluster(prefix: prefix, client: client, printer: printer, logger: logger)
            }
            try output.publish()
        }
    }

    private func listFile(_ path: String, client: QumuloClient, printer: HandlePrinter) throws {
        let attributes = try client.fileAttributes(path: path)
        let (listed, completeness) = try client.handles(onFileNumber: attributes.fileNumber)
        // Only the file's own handles: a cluster that ignores file_number must not make other
        // files' handles appear under this path.
        let handles = listed.filter { ImageIdentity.sameNumber($0.fileNumber, attributes.fileNumber) }
        if handles.count != listed.count {
            writeToStandardError(
                "smbvol: warning: the cluster listed \(listed.count - handles.count) handle(s) of other files for file_number \(attributes.fileNumber); not shown\n")
        }
        var addresses: ClientAddressIndex? = ClientAddressIndex()
        var missing: [MissingEvidence] = []
        if !handles.isEmpty {
            let (index, refused) = try client.clientAddressesIfAvailable(onFile: attributes.fileNumber)
            addresses = index
            missing += refused.map { [$0] } ?? []
        }
        printer.begin()
        for handle in handles {
            printer.print(
                ListedHandle(
                    location: handle.location, fileNumber: handle.fileNumber, owner: handle.owner,
                    ownerName: client.ownerName(authId: handle.owner), path: attributes.path,
                    numByteRangeLocks: handle.numByteRangeLocks, clientAddresses: addresses?.addresses(ofFile: handle.fileNumber)))
        }
        printer.end(missing: missing)
        warnIfIncomplete(completeness)
        warnIfIncomplete(addresses?.completeness ?? .complete)
        warnAboutMissing(missing)
    }

    private func listCluster(prefix: String?, client: QumuloClient, printer: HandlePrinter, logger: Logger) throws {
        let showProgress = isTerminal(STDERR_FILENO)
        let directoryPrefix = prefix.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
        var begun = false
        let summary = try client.listHandles(
            HandleListingOptions(pathPrefix: directoryPrefix),
            progress: { seen in
                if showProgress { writeToStandardError("\rsmbvol: listed \(seen) handles…") }
            },
            { handle in
                if !begun {
                    printer.begin()
                    begun = true
                }
                printer.print(handle)
            })
        if !begun { printer.begin() }
        if showProgress { writeToStandardError("\rsmbvol: listed \(summary.seen) handles.   \n") }
        printer.end(missing: summary.missing)
        warnIfIncomplete(summary.completeness)
        warnIfIncomplete(summary.addressCompleteness)
        warnAboutMissing(summary.missing)
    }

    private func warnIfIncomplete(_ completeness: ListingCompleteness) {
        if case .stoppedOnRepeatedNext(let next) = completeness {
            writeToStandardError("smbvol: warning: the cluster repeated a paging link (\(next)); the listing may be incomplete\n")
        }
    }

    /// One line, however many enrichments are missing.
    private func warnAboutMissing(_ missing: [MissingEvidence]) {
        guard !missing.isEmpty else { return }
        writeToStandardError("smbvol: warning: " + missing.map(\.summary).joined(separator: "; ") + "\n")
    }
}

/// The share's cluster path is not configured and the cluster would not list its shares.
struct ShareRootUnavailable: Error, CustomStringConvertible {
    var share: String
    var error: QumuloError

    var description: String {
        "cannot find the cluster path of share \"\(share)\": \(error.method) \(error.path) answered HTTP \(error.status ?? 0) "
            + "(listing shares needs \(QumuloPrivilege.shareRead)); set fs_path in [share.\(share)] or add the privilege to the role"
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
