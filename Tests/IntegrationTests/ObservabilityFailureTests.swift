import Foundation
import Testing

/// When things fail: sinks that cannot be written never fail a hook (counted, logged
/// once), and failures of the cluster and of mounts reach the metrics and the journal.
@Suite("journal and metrics when things fail", .serialized)
struct ObservabilityFailureTests {
    @Test("a metrics file that cannot be written, a journal that is gone: the hook still succeeds; counted, logged once")
    func failingSinks() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        // A socket file nobody listens on any more: sends fail with ECONNREFUSED.
        let dead = fixture.mounts.directory + "/dead.sock"
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (index, byte) in dead.utf8.enumerated() { raw[index] = byte } }
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        close(descriptor)
        let metricsDirectory = fixture.mounts.directory + "/textfile"
        try ObservabilityTests.enable(fixture, journal: dead, metricsFile: metricsDirectory + "/smbvol.prom")

        let start = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML())
        #expect(start.status == 0 && start.stderr.isEmpty && start.stdout.isEmpty, "\(start)")
        let lines = fixture.syslog.lines
        #expect(lines.contains { $0.contains("event=close") && $0.contains("location=7.1.1") }, "audit falls back to syslog: \(lines)")
        // Logged once per process (the fixture's own `smbvol mounts` run logs its own once).
        for needle in ["journal write failed", "metrics not written"] {
            let pids = lines.filter { $0.contains(needle) }.compactMap { $0.split(separator: "[").dropFirst().first?.prefix { $0 != "]" } }
            #expect(!pids.isEmpty && Set(pids).count == pids.count, "\(needle): \(lines)")
        }

        try FileManager.default.createDirectory(atPath: metricsDirectory, withIntermediateDirectories: true)
        let release = fixture.hook("web01", "release", "end", xml: fixture.domainXML())
        #expect(release.status == 0 && release.stderr.isEmpty, "\(release)")
        let text = ObservabilityTests.metrics(metricsDirectory + "/smbvol.prom")
        #expect(text.contains("smbvol_observability_write_failures_total{sink=\"metrics\"} "), "\(text)")
        #expect(text.contains("smbvol_observability_write_failures_total{sink=\"journal\"}"), "\(text)")
        #expect(text.contains("smbvol_hook_runs_total{operation=\"prepare\",result=\"ok\"} 1\n"), "the first run's counts were kept: \(text)")
    }

    @Test("cluster request errors by cluster and class, a failed start, and mount failures by share reach the metrics; mount-failed is a journal entry")
    func failureMetrics() throws {
        let journal = try JournalListener()
        let fixture = try HookFixture(scenario: "stale.json", deadlineSeconds: 10, onClusterError: "fail", clusterPort: Reliability.closedPort())
        let metricsFile = fixture.mounts.directory + "/smbvol.prom"
        try ObservabilityTests.enable(fixture, journal: journal.path, metricsFile: metricsFile)
        let refused = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML())
        #expect(refused.status == 1, "\(refused)")
        var text = ObservabilityTests.metrics(metricsFile)
        #expect(text.contains("smbvol_cluster_request_errors_total{class=\"connection\",cluster=\"sim\"} "), "\(text)")
        #expect(text.contains("smbvol_hook_runs_total{operation=\"prepare\",result=\"failed\"} 1\n"), "\(text)")

        try fixture.mounts.writeCredentials(password: "wrong password")  // mount error 13 from smbd
        let failed = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML())
        #expect(failed.status == 1, "\(failed)")
        text = ObservabilityTests.metrics(metricsFile)
        #expect(text.contains("smbvol_mount_failures_total{share=\"vmstore\"} 1\n"), "\(text)")
        #expect(text.contains("smbvol_hook_runs_total{operation=\"prepare\",result=\"failed\"} 2\n"), "\(text)")
        let mountFailed = try #require(journal.events("mount-failed").first, "\(journal.entries)")
        #expect(mountFailed["PRIORITY"] == "3")
        #expect(mountFailed["MESSAGE_ID"] == "1aa4f7a2556a4d56b0119dcf786be1bf")
        #expect(mountFailed["SMBVOL_SHARE"] == "vmstore")
        #expect(mountFailed["SMBVOL_EXPORT"] == "//srv/vmstore")
        #expect(mountFailed["SMBVOL_ERROR"]?.isEmpty == false)
        #expect(mountFailed["SMBVOL_DOMAIN"] == "web01")
        for secret in ObservabilityTests.secrets { #expect(!mountFailed.description.contains(secret)) }
    }
}
