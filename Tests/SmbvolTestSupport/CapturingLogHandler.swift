import Logging
import Synchronization

/// Collects every log record (audit events included: they are log records with an `event`
/// key), so tests can assert what was logged — and that no secret was.
///
///     let capture = CapturingLogHandler()
///     let logger = Logger(label: "test") { _ in capture }
public final class CapturingLogHandler: LogHandler, @unchecked Sendable {
    // @unchecked: `metadata` and `logLevel` are set before use, from one thread; records are guarded.
    public struct Record: Sendable {
        public var level: Logger.Level
        public var message: String
        /// The record's metadata merged over the handler's.
        public var metadata: [String: String]
        /// `event` (an audit event's kind, e.g. `close`, `refuse`), when there is one.
        public var event: String? { metadata["event"] }
    }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace
    private let records = Mutex<[Record]>([])

    public init() {}

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged: [String: String] = [:]
        for (key, value) in metadata { merged[key] = "\(value)" }
        for (key, value) in event.metadata ?? [:] { merged[key] = "\(value)" }
        records.withLock { $0.append(Record(level: event.level, message: "\(event.message)", metadata: merged)) }
    }

    /// Every record so far.
    public var entries: [Record] { records.withLock { $0 } }

    /// Every record as one line: level, message, metadata (sorted by key).
    public var all: [String] {
        entries.map { record in
            "\(record.level) \(record.message) " + record.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
    }

    /// The audit events of one kind (`close`, `close-failed`, `refuse`, `forced-close`, …).
    public func auditEvents(_ kind: String) -> [Record] { entries.filter { $0.event == kind } }
}
