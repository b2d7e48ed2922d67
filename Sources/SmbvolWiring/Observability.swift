import SmbvolUseCases
import AttachmentLocks
import Logging
import SmbvolConfig
import SmbvolLogging
import SmbvolMetrics
import SmbvolSystem
import Synchronization

/// Where the system log goes (journal or syslog) and whether metrics are kept, from the
/// configuration; and the end-of-run merge of this process's metrics into the shared state.
///
/// A journal or metrics write that fails never fails a command or a hook: it is counted
/// (smbvol_observability_write_failures_total{sink}) and logged once per process.
public enum Observability {
    private struct State {
        var configuration: SmbvolConfiguration?
        var store: MetricsStore?
        /// A mount, unmount or lock change happened: the share gauges are recomputed at the end.
        var shareGaugesChanged = false
        var refusedStart = false
        var observing = false
    }

    private static let state = Mutex(State())

    /// Called once the configuration is loaded (by every command and the hook).
    public static func configure(_ configuration: SmbvolConfiguration) {
        SyslogDestination.shared.use(socketPath: configuration.syslogSocket)
        JournalDestination.shared.use(socketPath: configuration.journalSocket)
        let startObserving = state.withLock { state -> Bool in
            state.configuration = configuration
            state.store = configuration.metricsFile.map {
                MetricsStore(stateDirectory: configuration.stateDirectory, metricsFile: $0)
            }
            defer { state.observing = state.observing || state.store != nil }
            return state.store != nil && !state.observing
        }
        if startObserving { AuditEventObservers.shared.add { event in countAuditEvent(event) } }
    }

    /// Metrics derived from the audit events, so every sink counts the same events.
    private static func countAuditEvent(_ event: AuditEvent) {
        let recorder = MetricsRecorder.shared
        recorder.increment(.auditEvents, labels: ["event": event.kind.rawValue])
        switch event.kind {
        case .close: recorder.increment(.handlesClosed)
        case .forcedClose:
            recorder.increment(.handlesClosed)
            recorder.increment(.forcedCloses)
        case .closeFailed: recorder.increment(.handleCloseFailures)
        case .mountFailed: recorder.increment(.mountFailures, labels: ["share": event[.share] ?? ""])
        case .mount, .unmount, .unmountLazy, .unmountForced, .lockAdd, .lockDelete, .lockKept, .deadMount:
            state.withLock { $0.shareGaugesChanged = true }
        case .refuse, .unmountFailed, .releaseFailed, .heartbeatFailed, .heartbeatEntryDropped, .hostIDCollision: break
        case .fence, .fenceSessionClose, .fenceVerified, .fenceFailed, .fenceRefused, .unfence: break
        // smbvol_takeover_stops_total is counted where the domain is stopped (TakeoverWatch).
        case .takeoverRecorded, .takeoverRecordFailed, .takeoverStop, .takeoverIgnored, .beatsInterrupted: break
        }
    }

    /// A start (hook prepare, hot-attach) was refused because a live client holds an image.
    public static func noteRefusedStart() {
        MetricsRecorder.shared.increment(.startsRefused)
        state.withLock { $0.refusedStart = true }
    }

    public static var refusedStart: Bool { state.withLock { $0.refusedStart } }

    /// Merges what this process recorded into the metrics state and rewrites the .prom file.
    /// Runs at the end of every command (Smbvol.main) and after each heartbeat round: call it
    /// after `MetricsRecorder.shared.recordHeartbeatSuccess(share:atSecondsSinceEpoch:)`.
    public static func flush(deadline: Deadline = .none) {
        let (store, configuration, gauges) = state.withLock { state in
            defer { state.shareGaugesChanged = false }
            return (state.store, state.configuration, state.shareGaugesChanged)
        }
        guard let store, let configuration else { return }
        let logger = Logger(label: "smbvol.metrics")
        if gauges { ShareGauges(configuration: configuration, logger: logger).record() }
        do {
            try store.merge(
                MetricsRecorder.shared, failures: Dictionary(uniqueKeysWithValues: SinkFailures.shared.take().map { ($0.key.rawValue, $0.value) }),
                deadline: deadline)
        } catch {
            if SinkFailures.shared.record(.metrics) {
                logger.warning(
                    "metrics not written (the command itself is not affected)",
                    metadata: ["event": "metrics-write-failed", "metrics_file": "\(store.metricsFile)", "error": "\(error)"])
            }
        }
    }
}
