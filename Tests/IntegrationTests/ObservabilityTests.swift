import Foundation
import Testing

/// Every audit event as a structured journal entry (native protocol, received here
/// on a socket of the test's own), and the Prometheus textfile metrics, driven through the real
/// binary and the hook fixtures.
@Suite("journal entries and metrics", .serialized)
struct ObservabilityTests {
    /// The MESSAGE_IDs docs/operations.md documents; a changed id breaks every saved query, so they are
    /// spelled out here rather than read from the code.
    static let messageIDs = [
        "close": "8e92e60f504c4cb8907a08d372f3c658", "refuse": "1d16e30a39ef431ab02906e9bfea729a",
        "forced-close": "cca86efab79d4d3788b064aa2eac1aa8", "mount": "45cbc8622cfc430fa5836d0e0e8e614b",
        "unmount": "08e4dda4d6a94f10bfee6027ed24dfed", "lock-add": "312182ecf4e741f4bdb36a7bb4d6556f",
        "lock-delete": "9b3268a96d4f43d281f9efa223f26a16",
    ]
    static let uuid = "6f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a2b"
    static let secrets = ["hook-password", "FileSecret"]

    /// Turns on the journal (the test's socket) and the metrics for a hook fixture.
    static func enable(_ fixture: HookFixture, journal: String, metricsFile: String) throws {
        let config = try String(contentsOfFile: fixture.mounts.configPath, encoding: .utf8)
        try "journal_socket = \"\(journal)\"\nmetrics_file = \"\(metricsFile)\"\n\(config)"
            .write(toFile: fixture.mounts.configPath, atomically: true, encoding: .utf8)
    }

    static func metrics(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// What every entry carries, whatever its kind.
    static func expectCommonFields(_ entry: JournalListener.Entry, kind: String, priority: String) {
        #expect(entry["SYSLOG_IDENTIFIER"] == "smbvol", "\(entry)")
        #expect(entry["PRIORITY"] == priority, "\(kind): \(entry)")
        #expect(entry["MESSAGE_ID"] == messageIDs[kind], "\(kind): \(entry)")
        #expect(entry["SMBVOL_EVENT"] == kind)
        #expect(entry["MESSAGE"]?.contains("event=\(kind)") == true, "the MESSAGE is the syslog line: \(entry)")
        #expect(entry["MESSAGE"]?.contains("\n") == false)
        for secret in secrets { #expect(!entry.description.contains(secret), "secret in the journal: \(entry)") }
    }

    @Test("a start and a release: mount, lock-add, close, lock-delete, unmount as journal entries with every field; metrics counted")
    func startAndRelease() throws {
        let journal = try JournalListener()
        let fixture = try HookFixture(scenario: "stale.json")
        let metricsFile = fixture.mounts.directory + "/smbvol.prom"
        try Self.enable(fixture, journal: journal.path, metricsFile: metricsFile)
        let mountPoint = fixture.mountPoint
        let xml = fixture.domainXML()
        let start = fixture.hook("web01", "prepare", "begin", xml: xml)
        #expect(start.status == 0 && start.stderr.isEmpty && start.stdout.isEmpty, "\(start)")
        let startMetrics = Self.metrics(metricsFile)
        #expect(startMetrics.contains("smbvol_mounts 1\n"), "\(startMetrics)")
        #expect(startMetrics.contains("smbvol_attachment_locks{share=\"vmstore\"} 1\n"), "\(startMetrics)")
        let release = fixture.hook("web01", "release", "end", xml: xml)
        #expect(release.status == 0 && release.stderr.isEmpty, "\(release)")

        let image = "\(mountPoint)/web01/disk0.qcow2"
        let mount = try #require(journal.events("mount").first, "\(journal.entries)")
        Self.expectCommonFields(mount, kind: "mount", priority: "5")
        #expect(mount["SMBVOL_SHARE"] == "vmstore")
        #expect(mount["SMBVOL_MOUNT_POINT"] == mountPoint)
        #expect(mount["SMBVOL_EXPORT"] == "//srv/vmstore")
        #expect(mount["SMBVOL_DOMAIN"] == "web01")
        #expect(mount["SMBVOL_DOMAIN_UUID"] == Self.uuid)
        #expect(mount["SMBVOL_HOOK"] == "prepare begin")
        #expect(mount["SMBVOL_OPERATOR"] == nil, "the hook has no operator")

        let lockAdd = try #require(journal.events("lock-add").first)
        Self.expectCommonFields(lockAdd, kind: "lock-add", priority: "5")
        #expect(lockAdd["SMBVOL_SHARE"] == "vmstore")
        #expect(lockAdd["SMBVOL_DOMAIN"] == "web01")
        #expect(lockAdd["SMBVOL_DOMAIN_UUID"] == Self.uuid)
        #expect(lockAdd["SMBVOL_DISK"] == "vda")
        #expect(lockAdd["SMBVOL_IMAGE"] == image)
        #expect(lockAdd["SMBVOL_REASON"] == "domain web01 disk vda")
        #expect(lockAdd["SMBVOL_CONTEXT"] == "hook")
        #expect(lockAdd["SMBVOL_MOUNT_POINT"] == mountPoint)
        let lockID = try #require(lockAdd["SMBVOL_LOCK_ID"])
        #expect(lockID.count == 16)

        let close = try #require(journal.events("close").first)
        Self.expectCommonFields(close, kind: "close", priority: "5")
        #expect(close["SMBVOL_DOMAIN"] == "web01")
        #expect(close["SMBVOL_DOMAIN_UUID"] == Self.uuid)
        #expect(close["SMBVOL_DISK"] == "vda")
        #expect(close["SMBVOL_IMAGE"] == image)
        #expect(close["SMBVOL_SHARE"] == "vmstore")
        #expect(close["SMBVOL_CLUSTER"] == "sim")
        #expect(close["SMBVOL_CLUSTER_PATH"] == "/vmstore/web01/disk0.qcow2")
        #expect(close["SMBVOL_LOCATION"] == "7.1.1")
        #expect(close["SMBVOL_OWNER"] == "svc-kvm")
        #expect(close["SMBVOL_CLIENT"] == "10.0.0.13")
        #expect(close["SMBVOL_IDLE_SECONDS"] == nil, "10.0.0.13 has no session: no idle time")
        #expect(close["SMBVOL_DECISION"] == "close")
        #expect(close["SMBVOL_REASON"]?.isEmpty == false)
        #expect(close["SMBVOL_OUTCOME"] == "closed")
        for part in ["location=7.1.1", "client_address=10.0.0.13", "outcome=closed", "domain=web01"] {
            #expect(close["MESSAGE"]?.contains(part) == true, "\(part): \(close)")
        }

        let lockDelete = try #require(journal.events("lock-delete").first)
        Self.expectCommonFields(lockDelete, kind: "lock-delete", priority: "5")
        #expect(lockDelete["SMBVOL_LOCK_ID"] == lockID)
        #expect(lockDelete["SMBVOL_DISK"] == "vda")
        #expect(lockDelete["SMBVOL_DOMAIN_UUID"] == Self.uuid)
        #expect(lockDelete["SMBVOL_HOOK"] == "release end")

        let unmount = try #require(journal.events("unmount").first)
        Self.expectCommonFields(unmount, kind: "unmount", priority: "5")
        #expect(unmount["SMBVOL_SHARE"] == "vmstore")
        #expect(unmount["SMBVOL_MOUNT_POINT"] == mountPoint)
        #expect(unmount["SMBVOL_DOMAIN"] == "web01")

        #expect(journal.malformed.isEmpty, "\(journal.malformed)")
        #expect(!fixture.syslog.lines.contains { $0.contains("event=") }, "with the journal there, syslog gets no duplicate")

        let text = Self.metrics(metricsFile)
        for line in [
            "smbvol_hook_runs_total{operation=\"prepare\",result=\"ok\"} 1", "smbvol_hook_runs_total{operation=\"release\",result=\"ok\"} 1",
            "smbvol_hook_duration_seconds_count{operation=\"prepare\"} 1", "smbvol_handles_closed_total 1", "smbvol_starts_refused_total 0",
            "smbvol_audit_events_total{event=\"close\"} 1", "smbvol_audit_events_total{event=\"mount\"} 1", "smbvol_mounts 0",
            "smbvol_attachment_locks{share=\"vmstore\"} 0",
        ] {
            #expect(text.contains(line + "\n"), "\(line) missing:\n\(text)")
        }
        let mode = try FileManager.default.attributesOfItem(atPath: metricsFile)[.posixPermissions] as? Int
        #expect(mode == 0o644, "node_exporter must read it")
        for secret in Self.secrets { #expect(!text.contains(secret)) }
    }

    @Test("a refused start: the refuse entry names the live client, owner and idle time; counted as refused")
    func refusal() throws {
        let journal = try JournalListener()
        let fixture = try HookFixture(scenario: "live.json")
        let metricsFile = fixture.mounts.directory + "/smbvol.prom"
        try Self.enable(fixture, journal: journal.path, metricsFile: metricsFile)
        let result = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML())
        #expect(result.status == 1)
        let refuse = try #require(journal.events("refuse").first, "\(journal.entries)")
        Self.expectCommonFields(refuse, kind: "refuse", priority: "4")
        #expect(refuse["SMBVOL_DOMAIN"] == "web01")
        #expect(refuse["SMBVOL_DOMAIN_UUID"] == Self.uuid)
        #expect(refuse["SMBVOL_DISK"] == "vda")
        #expect(refuse["SMBVOL_SHARE"] == "vmstore")
        #expect(refuse["SMBVOL_CLUSTER"] == "sim")
        #expect(refuse["SMBVOL_CLUSTER_PATH"] == "/vmstore/web01/disk0.qcow2")
        #expect(refuse["SMBVOL_IMAGE"]?.hasSuffix("/web01/disk0.qcow2") == true)
        #expect(refuse["SMBVOL_LOCATION"] == "7.1.9")
        #expect(refuse["SMBVOL_OWNER"] == "svc-kvm")
        #expect(refuse["SMBVOL_CLIENT"] == "10.0.0.21")
        #expect(refuse["SMBVOL_IDLE_SECONDS"] == "3")
        #expect(refuse["SMBVOL_DECISION"] == "refuse")
        #expect(refuse["SMBVOL_REASON"]?.contains("10.0.0.21") == true)
        #expect(journal.events("close").isEmpty)
        let text = Self.metrics(metricsFile)
        #expect(text.contains("smbvol_starts_refused_total 1\n"), "\(text)")
        #expect(text.contains("smbvol_hook_runs_total{operation=\"prepare\",result=\"refused\"} 1\n"), "\(text)")
    }

    @Test("operator commands: lock add/delete, unmount and a forced close carry SMBVOL_OPERATOR; a newline is sent binary-safe; a huge entry goes by memfd")
    func operatorCommands() throws {
        let journal = try JournalListener()
        let fixture = try HookFixture(scenario: "stale.json")
        let metricsFile = fixture.mounts.directory + "/smbvol.prom"
        try Self.enable(fixture, journal: journal.path, metricsFile: metricsFile)
        let asAlice = ["SUDO_USER": "alice"]
        #expect(fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML(name: "web02")).status == 0)

        let added = fixture.mounts.smbvol(["lock", "add", "--share", "vmstore", "--reason", "backup\nwindow"], extraEnvironment: asAlice)
        #expect(added.status == 0, "\(added)")
        let operatorLock = added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let lockAdd = try #require(journal.events("lock-add").first { $0["SMBVOL_CONTEXT"] == "operator" }, "\(journal.entries)")
        Self.expectCommonFields(lockAdd, kind: "lock-add", priority: "5")
        #expect(lockAdd["SMBVOL_OPERATOR"] == "alice")
        #expect(lockAdd["SMBVOL_REASON"] == "backup\nwindow", "sent in the length-prefixed form")
        #expect(lockAdd["SMBVOL_LOCK_ID"] == operatorLock)
        #expect(lockAdd["SMBVOL_SHARE"] == "vmstore")

        let huge = String(repeating: "x", count: 120_000)
        #expect(fixture.mounts.smbvol(["lock", "add", "--share", "vmstore", "--reason", huge], extraEnvironment: asAlice).status == 0)
        let big = try #require(journal.events("lock-add").first { $0["SMBVOL_REASON"] == huge })
        #expect(big.viaMemfd, "an entry larger than a datagram travels as a sealed memfd")
        let bigLock = try #require(big["SMBVOL_LOCK_ID"])

        let closed = fixture.mounts.smbvol(["handles", "close", "--path", "/vmstore/web01/disk0.qcow2", "--yes"], extraEnvironment: asAlice)
        #expect(closed.status == 0, "\(closed)")
        let forced = try #require(journal.events("forced-close").first, "\(journal.entries)")
        Self.expectCommonFields(forced, kind: "forced-close", priority: "4")
        #expect(forced["SMBVOL_OPERATOR"] == "alice")
        #expect(forced["SMBVOL_LOCATION"] == "7.1.1")
        #expect(forced["SMBVOL_CLUSTER"] == "sim")
        #expect(forced["SMBVOL_CLUSTER_PATH"] == "/vmstore/web01/disk0.qcow2")
        #expect(forced["SMBVOL_DECISION"] == "closed")
        #expect(forced["SMBVOL_REASON"]?.contains("svc-kvm") == true, "\(forced)")

        #expect(fixture.hook("web02", "release", "end", xml: fixture.domainXML(name: "web02")).status == 0)
        for id in [bigLock, operatorLock] {
            let deleted = fixture.mounts.smbvol(["lock", "delete", id], extraEnvironment: asAlice)
            #expect(deleted.status == 0, "\(deleted)")
        }
        let lockDelete = try #require(journal.events("lock-delete").first { $0["SMBVOL_LOCK_ID"] == operatorLock })
        Self.expectCommonFields(lockDelete, kind: "lock-delete", priority: "5")
        #expect(lockDelete["SMBVOL_OPERATOR"] == "alice")
        #expect(lockDelete["SMBVOL_CONTEXT"] == "operator")
        let unmount = try #require(journal.events("unmount").first, "the last lock gone, the share is unmounted: \(journal.entries)")
        Self.expectCommonFields(unmount, kind: "unmount", priority: "5")
        #expect(unmount["SMBVOL_OPERATOR"] == "alice")
        #expect(unmount["SMBVOL_SHARE"] == "vmstore")
        #expect(journal.malformed.isEmpty)

        let text = Self.metrics(metricsFile)
        #expect(text.contains("smbvol_forced_closes_total 1\n"), "\(text)")
        #expect(text.contains("smbvol_handles_closed_total 1\n"), "\(text)")
        #expect(text.contains("smbvol_audit_events_total{event=\"lock-add\"} 3\n"), "\(text)")
        #expect(text.contains("smbvol_attachment_locks{share=\"vmstore\"} 0\n"), "\(text)")
    }
}
