import QumuloClient
import SmbvolSystem

/// Table or JSON lines for handles, streamed.
public struct HandlePrinter {
    public let json: Bool
    public let output: OutputWriter
    private final class State {
        var first = true
        var line = JSONWriter()
    }
    private let state = State()

    public init(json: Bool, output: OutputWriter) {
        self.json = json
        self.output = output
    }

    public func begin() {
        if json {
            output.write("{\"handles\": [")
        } else {
            output.line(Self.row("LOCATION", "OWNER", "CLIENT", "BRL", "PATH"))
        }
    }

    public func print(_ handle: ListedHandle) {
        if json {
            // Byte by byte: a cluster-wide listing writes 100 000 of these lines.
            var line = state.line
            state.line = JSONWriter()  // keep `line` uniquely referenced while it is written
            line.reset()
            func member(_ prefix: StaticString, _ value: String) {
                line.raw(prefix)
                line.string(value)
            }
            member(state.first ? "\n  {\"location\": " : ",\n  {\"location\": ", handle.location)
            state.first = false
            member(", \"file_number\": ", handle.fileNumber)
            member(", \"owner\": ", handle.owner)
            member(", \"owner_name\": ", handle.ownerName)
            member(", \"path\": ", handle.path)
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
    public func end(missing: [MissingEvidence]) {
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
