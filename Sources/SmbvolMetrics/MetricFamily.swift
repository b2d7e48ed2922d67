/// One metric family smbvol exports: name, type, help text, and for histograms the bucket
/// bounds. Names follow Prometheus' conventions: `_total` for counters, base units (seconds).
/// docs/operations.md, "Observability", lists them all.
public struct MetricFamily: Sendable, Hashable {
    public enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    public let name: String
    public let kind: Kind
    public let help: String
    public let buckets: [Double]
    /// The labels its series carry (none: one series, exported as 0 until it counts).
    public let labelNames: [String]

    init(_ name: String, _ kind: Kind, _ help: String, labels: [String] = [], buckets: [Double] = []) {
        self.name = name
        self.kind = kind
        self.help = help
        self.labelNames = labels
        self.buckets = buckets
    }

    public static let hookRuns = MetricFamily(
        "smbvol_hook_runs_total", .counter, "libvirt hook runs by operation (prepare, migrate, release, reconnect, started) and result (ok, refused, failed).", labels: ["operation", "result"])
    public static let hookDuration = MetricFamily(
        "smbvol_hook_duration_seconds", .histogram, "Wall time of libvirt hook runs by operation.", labels: ["operation"],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60])
    public static let handlesClosed = MetricFamily(
        "smbvol_handles_closed_total", .counter, "SMB handles force-closed (stale, operator request, or forced).")
    public static let handleCloseFailures = MetricFamily(
        "smbvol_handle_close_failures_total", .counter, "SMB handle closes that failed or left the handle listed.")
    public static let startsRefused = MetricFamily(
        "smbvol_starts_refused_total", .counter, "VM starts and hot-attaches refused because a live client holds an image.")
    public static let forcedCloses = MetricFamily(
        "smbvol_forced_closes_total", .counter, "Live or unattributable SMB handles closed because the operator forced it.")
    public static let clusterRequestErrors = MetricFamily(
        "smbvol_cluster_request_errors_total", .counter,
        "Failed Qumulo REST requests by cluster and class (connection, tls, timeout, http_401, http_403, http_4xx, http_5xx, other).", labels: ["cluster", "class"])
    public static let mountFailures = MetricFamily(
        "smbvol_mount_failures_total", .counter, "Failed mounts by share.", labels: ["share"])
    public static let auditEvents = MetricFamily(
        "smbvol_audit_events_total", .counter, "Audit events by kind (the SMBVOL_EVENT of the journal entry).", labels: ["event"])
    public static let mounts = MetricFamily(
        "smbvol_mounts", .gauge, "Shares smbvol has mounted, as of its last run that mounted, unmounted or changed a lock.")
    public static let attachmentLocks = MetricFamily(
        "smbvol_attachment_locks", .gauge, "Attachment locks per share (hook and operator), as of the last run that changed them.", labels: ["share"])
    public static let heartbeatLastSuccess = MetricFamily(
        "smbvol_heartbeat_last_success_timestamp_seconds", .gauge, "When smbvol heartbeat last wrote this host's record on the share (Unix time).", labels: ["share"])
    public static let takeoverStops = MetricFamily(
        "smbvol_takeover_stops_total", .counter,
        "Domains whose image another host took over (own handle confirmed gone), by action (pause, destroy, log, failed).", labels: ["action"])
    public static let sinkWriteFailures = MetricFamily(
        "smbvol_observability_write_failures_total", .counter,
        "Journal or metrics writes that failed (never failing the command; the first of a run is logged).", labels: ["sink"])

    /// `# HELP` and `# TYPE` lines, rendered once.
    var headerLines: String { "# HELP \(name) \(help)\n# TYPE \(name) \(kind.rawValue)\n" }

    /// Export order.
    public static let all: [MetricFamily] = [
        .hookRuns, .hookDuration, .handlesClosed, .handleCloseFailures, .startsRefused, .forcedCloses,
        .clusterRequestErrors, .mountFailures, .auditEvents, .mounts, .attachmentLocks, .heartbeatLastSuccess,
        .takeoverStops, .sinkWriteFailures,
    ]
}
