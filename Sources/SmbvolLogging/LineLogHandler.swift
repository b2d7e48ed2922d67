import Logging

/// A log handler that renders each record as one line (LogLineFormatter) and hands it, with its
/// level, to a destination: stderr or syslog (see the factory methods).
public struct LineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let destination: @Sendable (Logger.Level, String) -> Void
    /// Whether a record (by its merged metadata) goes to this destination at all.
    private let accepts: @Sendable (Logger.Metadata) -> Bool

    public init(
        logLevel: Logger.Level, accepts: @escaping @Sendable (Logger.Metadata) -> Bool = { _ in true },
        destination: @escaping @Sendable (Logger.Level, String) -> Void
    ) {
        self.logLevel = logLevel
        self.accepts = accepts
        self.destination = destination
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        guard accepts(merged) else { return }
        destination(event.level, LogLineFormatter.format(message: event.message, metadata: merged))
    }
}
