import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Writes `smbvol: <level>: <message> key=value…` lines to stderr — never stdout, which the
/// hook must keep empty and operator commands keep for data.
public struct StandardErrorLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level

    public init(label: String, logLevel: Logger.Level = .warning) {
        self.logLevel = logLevel
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let line = "smbvol: \(event.level): " + LogLineFormatter.format(message: event.message, metadata: merged) + "\n"
        writeToStandardError(line)
    }
}

/// One `write(2)` per line so concurrent writers do not interleave within a line.
public func writeToStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { buffer -> Int in
            guard let base = buffer.baseAddress else { return 0 }
            return write(STDERR_FILENO, base + offset, buffer.count - offset)
        }
        if written <= 0 {
            if written < 0 && errno == EINTR { continue }
            return
        }
        offset += written
    }
}
