import SmbvolSystem

#if canImport(Glibc)
import Glibc
#endif

/// The metrics of every smbvol run on this host: the counters live in
/// `<state_dir>/metrics.state`, read and rewritten only under an exclusive flock on
/// `<state_dir>/metrics.lock` (many hooks run at once), and each merge rewrites the `.prom` file
/// node_exporter's textfile collector reads, by temporary file and rename in its directory (the
/// collector sees the old or the new file, never a partial one).
///
/// Neither file is fsynced: that cost 1.6 ms median (p95 69 ms) per file on the benchmark
/// machine, more than the hook's whole budget for metrics, and metrics are no audit trail — a
/// power cut can at worst lose the last increments or reset the counters, which Prometheus'
/// `rate()`/`increase()` read as a counter reset. (The audit trail is the journal/syslog.)
public struct MetricsStore: Sendable {
    public let stateDirectory: String
    public let metricsFile: String
    /// How long to wait for another run holding the metrics lock; a hook never waits longer.
    public var lockTimeout: Duration

    public var statePath: String { stateDirectory + "/metrics.state" }
    public var lockPath: String { stateDirectory + "/metrics.lock" }

    public init(stateDirectory: String, metricsFile: String, lockTimeout: Duration = .milliseconds(500)) {
        self.stateDirectory = stateDirectory
        self.metricsFile = metricsFile
        self.lockTimeout = lockTimeout
    }

    /// Adds what `recorder` holds to the shared state and rewrites the `.prom` file. Throws on a
    /// failed write (the caller counts it and logs it once; a hook never fails on it). A failed
    /// `.prom` write is itself counted in the state, so the next export shows it.
    public func merge(_ recorder: MetricsRecorder, failures: [String: Int] = [:], deadline: Deadline = .none) throws {
        try SecureFiles.ensureDirectory(stateDirectory)
        let lock = try FileLock.acquire(path: lockPath, timeout: lockTimeout, deadline: deadline)
        defer { lock.release() }
        let state = try retryingSystemCall("open", path: statePath) {
            open(statePath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        }
        defer { close(state) }
        var snapshot = Self.snapshot(from: try FileDescriptorIO.readAll(state, limit: Int.max, path: statePath), badCopy: statePath + ".bad")
        recorder.drain(into: &snapshot)
        for (sink, count) in failures {
            snapshot.add(MetricSeries(MetricFamily.sinkWriteFailures.name, labels: ["sink": sink]), Double(count))
        }
        // The state is the exposition behind a header: rendered once for both files.
        let exposition = snapshot.expositionBytes()
        do {
            try Self.replace(metricsFile, with: exposition, mode: 0o644)
        } catch {
            snapshot.add(MetricSeries(MetricFamily.sinkWriteFailures.name, labels: ["sink": "metrics"]), 1)
            try Self.overwrite(state, with: snapshot.stateBytes, path: statePath)
            throw error
        }
        try Self.overwrite(state, with: Array((MetricsSnapshot.stateHeader + "\n").utf8) + exposition, path: statePath)
    }

    /// The state as stored (empty when there is none yet).
    public func load() throws -> MetricsSnapshot {
        let bytes: [UInt8]
        do {
            bytes = try readWholeFile(statePath)
        } catch let error as SystemCallError where error.code == ENOENT {
            return MetricsSnapshot()
        }
        return Self.snapshot(from: bytes, badCopy: statePath + ".bad")
    }

    /// An unreadable or foreign state is kept aside (`metrics.state.bad`) and counting starts over.
    static func snapshot(from bytes: [UInt8], badCopy: String) -> MetricsSnapshot {
        if bytes.isEmpty { return MetricsSnapshot() }
        if let snapshot = MetricsSnapshot.parse(state: bytes) { return snapshot }
        try? replace(badCopy, with: bytes, mode: 0o600)
        return MetricsSnapshot()
    }

    /// The state is rewritten in place, under the flock (only smbvol reads it, under the same
    /// flock): a rename-over costs 0.3–0.7 ms on ext4 (auto_da_alloc), the hook's whole budget.
    /// Never truncated to zero first (that triggers the same flush); a torn write after a power
    /// cut reads as a corrupt state: kept aside, counting restarts.
    static func overwrite(_ descriptor: Int32, with bytes: [UInt8], path: String) throws {
        try FileDescriptorIO.writeAll(descriptor, bytes, atOffset: 0, path: path)
        _ = try retryingSystemCall("ftruncate", path: path) { ftruncate(descriptor, off_t(bytes.count)) }
    }

    /// Temporary file (O_EXCL, the final mode) in the target's directory, then rename, without
    /// the flushes (a later run rewrites the file anyway). The temporary name
    /// (`AtomicFileWriter.temporaryPrefix`) does not end in `.prom`, so the collector never reads it.
    static func replace(_ path: String, with bytes: [UInt8], mode: mode_t) throws {
        try AtomicFileWriter(durable: false).write(bytes, to: path, mode: mode)
    }
}
