import Logging

/// A log handler that renders each record as one line (LogLineFormatter) and hands it, with its
/// level, to a destination: stderr or syslog (see the factory methods).
public struct LineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let destination: @Sendable (Logger.Level, String) -> Void

    public init(logLevel: Logger.Level, destination: @escaping @Sendable (Logger.Level, String) -> Void) {
        self.logLevel = logLevel
        self.destination = destination
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        destination(event.level, LogLineFormatter.format(message: event.message, metadata: merged))
    }
}
