import Logging
import SmbvolSystem

extension LineLogHandler {
    /// `smbvol: <level>: <message> key=value…` lines on stderr — never stdout, which the hook
    /// must keep empty and operator commands keep for data.
    /// Audit records (those with an `event`) are for the system log only: the command reports
    /// its own outcome on stderr in one line, and the audit record would repeat it.
    public static func standardError(logLevel: Logger.Level = .warning) -> LineLogHandler {
        standardError(logLevel: logLevel, writer: writeToStandardError)
    }

    /// `writer` gets each finished line; tests pass one that records them.
    static func standardError(logLevel: Logger.Level, writer: @escaping @Sendable (String) -> Void) -> LineLogHandler {
        LineLogHandler(logLevel: logLevel, accepts: { $0["event"] == nil }) { level, line in writer("smbvol: \(level): \(line)\n") }
    }
}

/// One `write(2)` per line so concurrent writers do not interleave within a line. Whatever the
/// text carries from outside is escaped (LineEscaping); only a leading `\r` (progress lines)
/// and the trailing `\n` the caller wrote are kept as they are. A failed write (stderr closed,
/// EPIPE) is dropped: there is nowhere left to report it.
public func writeToStandardError(_ text: String) {
    try? FileDescriptorIO.writeAll(StandardStreams.error, Array(LineEscaping.keepingFrame(text).utf8))
}
