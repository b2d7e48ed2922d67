import SmbvolLogging
import SmbvolSystem

/// Buffered writes to a file descriptor (stdout by default): data output of listings that can
/// run to 100 000 lines, flushed in 64 KiB chunks with write(2).
public final class OutputWriter {
    private var buffer: [UInt8] = []
    private let descriptor: Int32
    private let capacity: Int
    /// Where the chunks go when the output is held back (`heldBack()`); nil: to `descriptor`.
    private let spool: OutputSpool?

    public init(descriptor: Int32 = StandardStreams.output, capacity: Int = 64 * 1024) {
        self.descriptor = descriptor
        self.capacity = capacity
        spool = nil
        buffer.reserveCapacity(capacity)
    }

    private init(spool: OutputSpool, capacity: Int = 64 * 1024) {
        descriptor = StandardStreams.output
        self.capacity = capacity
        self.spool = spool
        buffer.reserveCapacity(capacity)
    }

    /// Output that reaches stdout only through `publish()`: a command that fails after writing
    /// part of it prints none of it. Spooled to an unnamed temporary file (OutputSpool).
    public static func heldBack() throws -> OutputWriter {
        OutputWriter(spool: try OutputSpool())
    }

    /// Everything written so far, to stdout (all of a held-back output; else a flush).
    public func publish() throws {
        flush()
        // As for a direct write, a closed stdout (`| head`) ends the copy quietly.
        try spool?.replay { chunk in (try? FileDescriptorIO.writeAll(descriptor, chunk)) != nil }
    }

    deinit { flush() }

    public func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= capacity { flush() }
    }

    /// One line of text output: whatever it carries from the cluster, the XML or a file is
    /// escaped (LineEscaping), so a hostile value cannot start a line of its own.
    public func line(_ text: String) { write(LineEscaping.oneLine(text) + "\n") }

    /// Several lines, each escaped as `line` does.
    public func lines(_ texts: [String]) { texts.forEach(line) }

    /// Bytes already encoded (the listing's JSON lines, built without String round trips).
    public func write(bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= capacity { flush() }
    }

    public func flush() {
        if let spool {
            spool.append(buffer)
        } else {
            // A failed write (EPIPE, e.g. `| head`) drops the rest: nothing more to say.
            try? FileDescriptorIO.writeAll(descriptor, buffer)
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
