import Logging
import Synchronization

/// The system log: structured journal entries when journald's socket is configured and there
/// (JournalDestination), else syslog lines (SyslogDestination) as before. Both carry the same
/// line: the journal's MESSAGE is exactly the syslog line's text.
public struct SystemLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let journal: JournalDestination
    private let syslog: SyslogDestination

    public init(logLevel: Logger.Level, journal: JournalDestination = .shared, syslog: SyslogDestination = .shared) {
        self.logLevel = logLevel
        self.journal = journal
        self.syslog = syslog
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let line = LogLineFormatter.format(message: event.message, metadata: merged)
        let priority = LineLogHandler.syslogPriority(event.level)
        if journal.isEnabled {
            if journal.send(JournalEntry.record(level: event.level, line: line, metadata: merged)) { return }
            // Never lose the record: it goes to syslog, and the failure is counted and said once.
            if SinkFailures.shared.record(.journal) {
                syslog.send(
                    priority: LineLogHandler.syslogPriority(.warning),
                    line: "journal write failed; log records go to syslog for this run event=journal-write-failed")
            }
        }
        syslog.send(priority: priority, line: line)
    }
}

/// Failed writes to the journal and the metrics file. Such a failure never fails a command:
/// it is counted here (the metrics export the count) and logged once per process.
public final class SinkFailures: Sendable {
    public enum Sink: String, Sendable, CaseIterable {
        case journal, metrics
    }

    public static let shared = SinkFailures()

    private struct State {
        var counts: [Sink: Int] = [:]
        /// Never reset: "logged once" holds for the whole process, across metrics merges.
        var logged: Set<Sink> = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Counts one failure; true for the first one of this sink in this process (log it then).
    @discardableResult
    public func record(_ sink: Sink) -> Bool {
        state.withLock { state in
            state.counts[sink, default: 0] += 1
            return state.logged.insert(sink).inserted
        }
    }

    /// The failures counted since the last call (they are now the metrics' to keep).
    public func take() -> [Sink: Int] {
        state.withLock { state in
            defer { state.counts = [:] }
            return state.counts
        }
    }
}
