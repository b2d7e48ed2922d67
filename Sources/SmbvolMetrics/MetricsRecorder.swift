import Synchronization

/// What this process adds to the metrics: counter increments, histogram observations and gauge
/// values, kept in memory and merged into the shared state once, at the end of the run
/// (`MetricsStore.merge`). Cheap enough for the hook: recording is a dictionary update.
public final class MetricsRecorder: Sendable {
    public static let shared = MetricsRecorder()

    struct Pending: Sendable {
        var counters: [MetricSeries: Double] = [:]
        var observations: [(MetricFamily, [String: String], Double)] = []
        var gauges: [MetricSeries: Double] = [:]
        /// Gauge families replaced as a whole (a share without locks disappears from them).
        var replacedFamilies: [MetricFamily: [MetricSeries: Double]] = [:]
    }

    private let pending = Mutex(Pending())

    public init() {}

    public func increment(_ family: MetricFamily, labels: [String: String] = [:], by amount: Double = 1) {
        let series = MetricSeries(family.name, labels: labels)
        pending.withLock { $0.counters[series, default: 0] += amount }
    }

    public func observe(_ family: MetricFamily, labels: [String: String] = [:], value: Double) {
        pending.withLock { $0.observations.append((family, labels, value)) }
    }

    public func set(_ family: MetricFamily, labels: [String: String] = [:], value: Double) {
        let series = MetricSeries(family.name, labels: labels)
        pending.withLock { $0.gauges[series] = value }
    }

    /// Sets a gauge family to exactly these series (label set → value).
    public func replace(_ family: MetricFamily, with samples: [[String: String]: Double]) {
        var series: [MetricSeries: Double] = [:]
        for (labels, value) in samples { series[MetricSeries(family.name, labels: labels)] = value }
        pending.withLock { $0.replacedFamilies[family] = series }
    }

    /// For `smbvol heartbeat`: this host's record on `share` was written at `secondsSinceEpoch`
    /// (exported as smbvol_heartbeat_last_success_timestamp_seconds{share=…}; alert on
    /// `time() - … > 3 * interval`). Then call `MetricsStore.merge` after each round.
    public func recordHeartbeatSuccess(share: String, atSecondsSinceEpoch secondsSinceEpoch: Double) {
        set(.heartbeatLastSuccess, labels: ["share": share], value: secondsSinceEpoch)
    }

    /// Applies what was recorded to `snapshot` and forgets it.
    func drain(into snapshot: inout MetricsSnapshot) {
        let taken = pending.withLock { pending -> Pending in
            defer { pending = Pending() }
            return pending
        }
        for (series, amount) in taken.counters { snapshot.add(series, amount) }
        for (family, labels, value) in taken.observations { snapshot.observe(family, labels: labels, value: value) }
        for (family, series) in taken.replacedFamilies {
            snapshot.removeAll(of: family)
            for (one, value) in series { snapshot.set(one, value) }
        }
        for (series, value) in taken.gauges { snapshot.set(series, value) }
    }
}
