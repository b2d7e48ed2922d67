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
            "privilege", "status", "message"}]}; client_addresses is null when unknown.
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
            let connection = try ClusterConnection.resolve(options: options.selection, configuration: configuration, environment: ProcessEnvironment.current())
            let client = try connection.makeClient(logger: logger)
            let output = OutputWriter()
            // The header is printed once the cluster has answered: a failure prints only the error.
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

/// One JSON line built as bytes, escaped as `JSONString.quoted` does (RFC 8259).
struct JSONLine {
    private(set) var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(256) }

    /// Starts the next line in the same storage (one allocation for the whole listing).
    mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func integer(_ value: Int64) {
        if (0...9).contains(value) {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
        } else {
            bytes.append(contentsOf: String(value).utf8)
        }
    }

    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            // Runs that need no escape (nearly every byte of a listing) are copied whole.
            var runStart = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                runStart = index + 1
                escape(byte)
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func escape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"):
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(byte)
        case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        default:
            let digits: StaticString = "0123456789abcdef"
            raw("\\u00")
            digits.withUTF8Buffer { hex in
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            }
        }
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
        var line = JSONLine()
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
            state.line = JSONLine()  // keep `line` uniquely referenced while it is written
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
        output.write(state.first ? "]" : "\n]")
        let entries = missing.map { item in
            "{\"evidence\": \(JSONString.quoted(item.what.rawValue)), \"privilege\": \(JSONString.quoted(item.privilege)), "
                + "\"status\": \(item.status.map(String.init) ?? "null"), \"message\": \(JSONString.quoted(item.summary))}"
        }
        output.write(", \"missing_evidence\": [" + entries.joined(separator: ", ") + "]}\n")
    }

    private static func row(_ location: String, _ owner: String, _ client: String, _ locks: String, _ path: String) -> String {
        pad(location, 20) + " " + pad(owner, 20) + " " + pad(client, 24) + " " + pad(locks, 4) + " " + path
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
