import ArgumentParser
import HandleEvidence
import Logging
import QumuloClient
import SmbvolConfig
import SmbvolLogging
import SmbvolSystem

#if canImport(Glibc)
import Glibc
#endif

struct HandlesListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List SMB handles on one file, one share, or the whole cluster.",
        discussion: """
            Without --path or --share the whole cluster is listed, page by page (memory stays bounded). \
            Client addresses come from lock grants: exact per file with --path; for wider listings, \
            from the grants of every client that has an SMB session (a dead client's handles show "-"). \
            --json prints {"handles": [{"location", "file_number", "owner", "owner_name", "path", \
            "num_byte_range_locks", "client_addresses"}]}.
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
            let configuration = try configOption.load()
            var options = clusterOptions
            var shareConfiguration: ShareConfiguration?
            if let share {
                guard let found = configuration.shares[share] else {
                    throw ValidationError("share \"\(share)\" is not configured (configured: \(configuration.shares.keys.sorted().joined(separator: ", ")))")
                }
                shareConfiguration = found
                if options.cluster == nil && options.host == nil { options.cluster = found.cluster }
            }
            let connection = try ClusterConnection.resolve(options: options, configuration: configuration, environment: ProcessEnvironment.current())
            let client = try connection.makeClient(logger: logger)
            let output = OutputWriter()
            // The header is printed once the cluster has answered: a failure prints only the error.
            let printer = HandlePrinter(json: json, output: output)
            if let path {
                try listFile(path, client: client, printer: printer)
            } else {
                let resolver = ShareRootResolver(stateDirectory: configuration.stateDirectory)
                let prefix = try shareConfiguration.map { try resolver.root(of: $0, client: client) }
                try listCluster(prefix: prefix, client: client, printer: printer, logger: logger)
            }
            printer.end()
            output.flush()
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
        let addresses = handles.isEmpty ? ClientAddressIndex() : try client.clientAddresses(onFile: attributes.fileNumber)
        printer.begin()
        for handle in handles {
            printer.print(
                handle, path: attributes.path, ownerName: client.ownerName(authId: handle.owner),
                addresses: addresses.addresses(ofFile: handle.fileNumber))
        }
        warnIfIncomplete(completeness)
        warnIfIncomplete(addresses.completeness)
    }

    private func listCluster(prefix: String?, client: QumuloClient, printer: HandlePrinter, logger: Logger) throws {
        let addresses = try client.clientAddressesOfConnectedClients()
        printer.begin()
        let showProgress = isTerminal(STDERR_FILENO)
        var seen = 0
        let directoryPrefix = prefix.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
        let completeness = try client.forEachHandlePage(resolvePaths: true) { page in
            for handle in page {
                if let directoryPrefix {
                    guard let path = handle.path, path.hasPrefix(directoryPrefix) else { continue }
                }
                printer.print(
                    handle, path: handle.path ?? "", ownerName: client.ownerName(authId: handle.owner),
                    addresses: addresses.addresses(ofFile: handle.fileNumber))
            }
            seen += page.count
            if showProgress { writeToStandardError("\rsmbvol: listed \(seen) handles…") }
        }
        if showProgress { writeToStandardError("\rsmbvol: listed \(seen) handles.   \n") }
        warnIfIncomplete(completeness)
    }

    private func warnIfIncomplete(_ completeness: ListingCompleteness) {
        if case .stoppedOnRepeatedNext(let next) = completeness {
            writeToStandardError("smbvol: warning: the cluster repeated a paging link (\(next)); the listing may be incomplete\n")
        }
    }
}

/// Table or JSON lines for handles, streamed.
struct HandlePrinter {
    let json: Bool
    let output: OutputWriter
    private final class State { var first = true }
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

    func print(_ handle: FileHandle, path: String, ownerName: String, addresses: [String]) {
        if json {
            output.write(state.first ? "\n  " : ",\n  ")
            state.first = false
            output.write(
                "{\"location\": \(JSONString.quoted(handle.location)), \"file_number\": \(JSONString.quoted(handle.fileNumber)), "
                    + "\"owner\": \(JSONString.quoted(handle.owner)), \"owner_name\": \(JSONString.quoted(ownerName)), "
                    + "\"path\": \(JSONString.quoted(path)), \"num_byte_range_locks\": \(handle.numByteRangeLocks), "
                    + "\"client_addresses\": \(JSONString.array(addresses))}")
        } else {
            output.line(
                Self.row(
                    handle.location, ownerName, addresses.isEmpty ? "-" : addresses.joined(separator: ","),
                    String(handle.numByteRangeLocks), path))
        }
    }

    func end() {
        if json { output.write(state.first ? "]}\n" : "\n]}\n") }
    }

    private static func row(_ location: String, _ owner: String, _ client: String, _ locks: String, _ path: String) -> String {
        pad(location, 20) + " " + pad(owner, 20) + " " + pad(client, 24) + " " + pad(locks, 4) + " " + path
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
