import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Sends log records to syslog under the ident `smbvol` (facility daemon), one line each with
/// its metadata: the audit trail of every mount, unmount, close and refusal.
public struct SyslogLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String

    /// openlog keeps a pointer to the ident: it must outlive the process, hence a static.
    // Written once (here) and only read by libc afterwards.
    nonisolated(unsafe) private static let ident: UnsafeMutablePointer<CChar>? = strdup("smbvol")
    private static let opened: Bool = {
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON)
        return true
    }()

    public init(label: String, logLevel: Logger.Level = .info) {
        self.label = label
        self.logLevel = logLevel
        _ = Self.opened
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let line = LogLineFormatter.format(message: event.message, metadata: merged)
        line.withCString { text in
            withVaList([text]) { arguments in
                vsyslog(Self.priority(event.level), "%s", arguments)
            }
        }
    }

    static func priority(_ level: Logger.Level) -> Int32 {
        switch level {
        case .trace, .debug: return LOG_DEBUG
        case .info: return LOG_INFO
        case .notice: return LOG_NOTICE
        case .warning: return LOG_WARNING
        case .error: return LOG_ERR
        case .critical: return LOG_CRIT
        }
    }
}
