import Foundation
import Testing

@testable import SmbvolMetrics

@Suite("metrics: text format and the state kept across runs")
struct MetricsTests {
    @Test("a histogram observation fills every bucket at or above it, +Inf, _sum and _count")
    func histogram() {
        var snapshot = MetricsSnapshot()
        snapshot.observe(.hookDuration, labels: ["operation": "prepare"], value: 0.02)
        let text = snapshot.exposition
        #expect(text.contains("# TYPE smbvol_hook_duration_seconds histogram\n"))
        #expect(text.contains("smbvol_hook_duration_seconds_bucket{le=\"0.01\",operation=\"prepare\"} 0\n"))
        #expect(text.contains("smbvol_hook_duration_seconds_bucket{le=\"0.025\",operation=\"prepare\"} 1\n"))
        #expect(text.contains("smbvol_hook_duration_seconds_bucket{le=\"+Inf\",operation=\"prepare\"} 1\n"))
        #expect(text.contains("smbvol_hook_duration_seconds_sum{operation=\"prepare\"} 0.02\n"))
        #expect(text.contains("smbvol_hook_duration_seconds_count{operation=\"prepare\"} 1\n"))
        // Buckets in numeric order of le, +Inf last.
        let bounds = text.split(separator: "\n").filter { $0.hasPrefix("smbvol_hook_duration_seconds_bucket") }
            .compactMap { $0.split(separator: "\"")[1] == "+Inf" ? Double.infinity : Double($0.split(separator: "\"")[1]) }
        #expect(bounds == bounds.sorted() && bounds.count == MetricFamily.hookDuration.buckets.count + 1)
    }

    @Test("HELP and TYPE for every family; counters without labels start at 0; label values escaped")
    func exposition() {
        var snapshot = MetricsSnapshot()
        snapshot.add(MetricSeries(MetricFamily.mountFailures.name, labels: ["share": "a\"b\\c\nd"]), 2)
        let text = snapshot.exposition
        for family in MetricFamily.all {
            #expect(text.contains("# HELP \(family.name) "))
            #expect(text.contains("# TYPE \(family.name) \(family.kind.rawValue)\n"))
        }
        #expect(text.contains("smbvol_handles_closed_total 0\n"))
        #expect(text.contains("smbvol_mount_failures_total{share=\"a\\\"b\\\\c\\nd\"} 2\n"))
    }

    @Test("the state file reads back exactly, escapes included; anything else is not a state")
    func stateRoundTrip() {
        var snapshot = MetricsSnapshot()
        snapshot.add(MetricSeries(MetricFamily.hookRuns.name, labels: ["operation": "prepare", "result": "ok"]), 3)
        snapshot.add(MetricSeries(MetricFamily.mountFailures.name, labels: ["share": "odd \"name\", with\nnewline"]), 1)
        snapshot.observe(.hookDuration, labels: ["operation": "release"], value: 1.5)
        let back = MetricsSnapshot.parse(state: snapshot.stateText)
        #expect(back?.exposition == snapshot.exposition)
        #expect(back?[MetricSeries(MetricFamily.mountFailures.name, labels: ["share": "odd \"name\", with\nnewline"])] == 1)
        #expect(MetricsSnapshot.parse(state: "garbage\n") == nil)
        // A state without TYPE lines (or from another version) loses nothing it knows.
        let bare = MetricsSnapshot.parse(state: MetricsSnapshot.stateHeader + "\nsmbvol_handles_closed_total 4\nsmbvol_mounts 2\n")
        #expect(bare?.exposition.contains("smbvol_handles_closed_total 4\n") == true)
        #expect(bare?.exposition.contains("smbvol_mounts 2\n") == true)
        #expect(MetricsSnapshot.parse(state: MetricsSnapshot.stateHeader + "\nx{a=\"b}\n") == nil)
    }

    @Test("runs accumulate in the state; the .prom file is replaced each time; gauges are set, families replaced")
    func mergeAcrossRuns() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = MetricsStore(stateDirectory: directory + "/state", metricsFile: directory + "/smbvol.prom")
        for _ in 0..<3 {
            let run = MetricsRecorder()
            run.increment(.hookRuns, labels: ["operation": "prepare", "result": "ok"])
            run.observe(.hookDuration, labels: ["operation": "prepare"], value: 0.03)
            run.replace(.attachmentLocks, with: [["share": "a"]: 2, ["share": "b"]: 1])
            try store.merge(run)
        }
        let last = MetricsRecorder()
        last.replace(.attachmentLocks, with: [["share": "a"]: 1])
        last.recordHeartbeatSuccess(share: "a", atSecondsSinceEpoch: 1_700_000_000)
        try store.merge(last, failures: ["journal": 2])
        let text = try String(contentsOfFile: directory + "/smbvol.prom", encoding: .utf8)
        #expect(text.contains("smbvol_hook_runs_total{operation=\"prepare\",result=\"ok\"} 3\n"), "\(text)")
        #expect(text.contains("smbvol_hook_duration_seconds_count{operation=\"prepare\"} 3\n"))
        #expect(text.contains("smbvol_attachment_locks{share=\"a\"} 1\n"))
        #expect(!text.contains("smbvol_attachment_locks{share=\"b\"}"))
        #expect(text.contains("smbvol_heartbeat_last_success_timestamp_seconds{share=\"a\"} 1700000000\n"))
        #expect(text.contains("smbvol_observability_write_failures_total{sink=\"journal\"} 2\n"))
        let mode = try FileManager.default.attributesOfItem(atPath: directory + "/smbvol.prom")[.posixPermissions] as? Int
        #expect(mode == 0o644)
        // No temporary files left for the collector to trip over.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["smbvol.prom", "state"])
    }

    @Test("a .prom that cannot be written throws and is counted in the state; a corrupt state is moved aside")
    func failures() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broken = MetricsStore(stateDirectory: directory + "/state", metricsFile: directory + "/missing/smbvol.prom")
        let run = MetricsRecorder()
        run.increment(.handlesClosed)
        #expect(throws: (any Error).self) { try broken.merge(run) }
        let state = try broken.load()
        #expect(state[MetricSeries(MetricFamily.sinkWriteFailures.name, labels: ["sink": "metrics"])] == 1)
        #expect(state[MetricSeries(MetricFamily.handlesClosed.name)] == 1)

        try "not a state\n".write(toFile: broken.statePath, atomically: true, encoding: .utf8)
        #expect(try broken.load() == MetricsSnapshot())
        #expect(FileManager.default.fileExists(atPath: broken.statePath + ".bad"))
    }

    @Test("concurrent runs (separate processes in production) never lose an increment")
    func concurrentMerges() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = MetricsStore(stateDirectory: directory + "/state", metricsFile: directory + "/smbvol.prom", lockTimeout: .seconds(20))
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let run = MetricsRecorder()
            run.increment(.startsRefused)
            try? store.merge(run)
        }
        #expect(try store.load()[MetricSeries(MetricFamily.startsRefused.name)] == 8)
    }

    static func scratch() throws -> String {
        let directory = NSTemporaryDirectory() + "smbvol-metrics-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }
}
