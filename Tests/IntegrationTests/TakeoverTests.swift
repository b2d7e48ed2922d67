import Foundation
import SmbvolTestSupport
import Testing

/// "no zombie writers where nobody fenced", through the binary: host A's hook
/// closes host B's stale handle and leaves a takeover record on the share; host B's
/// `heartbeat --once` (its own configuration, state and host_id, the same share directory as
/// `local_path`) finds it, confirms with qumulo-sim that its handle is gone, and pauses its
/// domain through libvirt's test driver (`libvirt_uri = "test:///…/node.xml"`, in-process: the
/// pause is verified by smbvol reading the state back on its connection).
@Suite("takeover records: the old holder stops its domain", .serialized)
struct TakeoverTests {
    static let domainUUID = "99999999-2222-3333-4444-555555555555"
    static let hostBAddress = "203.0.113.21"

    /// Host B: serves the share as `local_path`, knows the simulator's cluster, holds web01's
    /// image (file number 3001) since two minutes ago (a lock of this boot: its image is
    /// claimed), and runs web01 in libvirt's test driver.
    static func hostB(_ fixture: HookFixture, syslog: SyslogListener, onTakeover: String = "pause") throws -> String {
        let directory = fixture.mounts.directory + "/host-b"
        let share = fixture.mounts.root + "/srv/vmstore"
        try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
        try """
            <node>
              <domain type='test'>
                <name>web01</name>
                <uuid>\(domainUUID)</uuid>
                <memory>65536</memory>
                <os><type>hvm</type></os>
              </domain>
            </node>
            """.write(toFile: directory + "/node.xml", atomically: true, encoding: .utf8)
        var file = SmbvolConfigurationFile([
            "state_dir": .string(directory + "/state"), "host_id": "host-b", "local_addresses": .strings([hostBAddress]),
            "syslog_socket": .string(syslog.path), "on_takeover": .string(onTakeover), "libvirt_uri": .string("test://\(directory)/node.xml"),
        ])
        file.cluster("sim", [
            "host": "127.0.0.1", "port": .integer(fixture.simulator.port), "ca_file": .string(fixture.simulator.caFile ?? ""),
            "username": "svc-smbvol", "password_file": .string(fixture.passwordFile),
            "credentials_store": .string(directory + "/state/tokens/sim"), "request_timeout_seconds": 5,
        ])
        file.share("vmstore", ["export": "//srv/vmstore", "cluster": "sim", "fs_path": "/vmstore", "local_path": .string(share)])
        try file.write(in: directory)
        try """
            {"version": 1, "locks": [{"id": "b1", "share": "vmstore", "mount_point": "\(share)", "domain_uuid": "\(domainUUID)",
            "domain_name": "web01", "disk": "vda", "image": "\(share)/web01/disk0.qcow2", "reason": "domain web01 disk vda", "context": "hook",
            "created_at": "\(TwoHostWorkspace.iso8601(Date().addingTimeInterval(-120)))", "file_number": "3001", "cluster_path": "/vmstore/web01/disk0.qcow2"}]}
            """.write(toFile: directory + "/state/locks.json", atomically: true, encoding: .utf8)
        return directory + "/smbvol.toml"
    }

    static func takeoverFiles(_ fixture: HookFixture) -> [String] {
        let directory = fixture.mounts.root + "/srv/vmstore/.smbvol/takeovers/3001"
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".json") }.map { directory + "/" + $0 }
    }

    static func waitForLine(_ syslog: SyslogListener, _ predicate: (String) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if syslog.lines.contains(where: predicate) { return true }
            usleep(20_000)
        }
        return false
    }

    @Test(
        "A's prepare closes B's stale handle and leaves a takeover record; B's heartbeat confirms its handle is gone and stops web01 per on_takeover",
        arguments: [("pause", "paused"), ("destroy", "destroyed"), ("log", "logged only")])
    func takeoverStopsOldHolder(onTakeover: String, outcome: String) throws {
        let fixture = try HookFixture(scenario: "takeover.json")
        try HeartbeatHookTests.addHostIdentity(to: fixture, hostID: "host-a", address: "203.0.113.1")
        let syslogB = try SyslogListener()
        let hostB = try Self.hostB(fixture, syslog: syslogB, onTakeover: onTakeover)

        let start = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML())
        #expect(start.status == 0, "\(start.stderr)")
        #expect(try fixture.simulator.state().closedLocations == ["7.1.5"])
        let files = Self.takeoverFiles(fixture)
        try #require(
            files.count == 1, "\(files) \(start.stderr) \(fixture.syslog.lines.filter { $0.contains("takeover") || $0.contains("close") })")
        let record = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: files[0]))) as? [String: Any])
        #expect(record["format"] as? String == "smbvol-takeover")
        #expect((record["image"] as? [String: Any])?["path"] as? String == "web01/disk0.qcow2")
        #expect((record["image"] as? [String: Any])?["file_number"] as? String == "3001")
        #expect((record["new_holder"] as? [String: Any])?["host_id"] as? String == "host-a")
        #expect(((record["new_holder"] as? [String: Any])?["addresses"] as? [String] ?? []).contains("203.0.113.1"))
        #expect((record["old_holder"] as? [String: Any])?["addresses"] as? [String] == [Self.hostBAddress])
        #expect(record["closed_handles"] as? [String] == ["7.1.5"])
        #expect(Self.waitForLine(fixture.syslog) { $0.contains("event=takeover-recorded") && $0.contains("7.1.5") }, "\(fixture.syslog.lines)")

        let beat = HeartbeatHookTests.beat(hostB)
        #expect(beat.status == 0, "\(beat.stderr)")
        #expect(beat.stderr.contains("TAKEOVER: domain web01 \(outcome)"), "\(beat.stderr)")
        #expect(
            Self.waitForLine(syslogB) { $0.contains("event=takeover-stop") && $0.contains("action=\(onTakeover)") && $0.contains(outcome) },
            "\(syslogB.lines)")
    }

    /// libvirtd restarted on B (the `reconnect` hook for each running domain) after A took
    /// web01's image over, before B's heartbeat read the record (B cut off the share meanwhile).
    /// The reconnect re-recorded B's lock as if web01 had just begun using the image: the
    /// takeover looked older than "the domain's use of the image", and the zombie writer was
    /// never stopped. A reconnect finds the domain running already: its lock keeps its time.
    @Test("a libvirtd restart on the old holder after the takeover does not make the zombie's lock look newer than the takeover")
    func reconnectAfterTakeoverStillStops() throws {
        let fixture = try HookFixture(scenario: "takeover.json")
        try HeartbeatHookTests.addHostIdentity(to: fixture, hostID: "host-a", address: "203.0.113.1")
        let syslogB = try SyslogListener()
        let hostB = try Self.hostB(fixture, syslog: syslogB)

        let start = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML())
        #expect(start.status == 0, "\(start.stderr)")
        try #require(Self.takeoverFiles(fixture).count == 1, "\(start.stderr)")

        let share = fixture.mounts.root + "/srv/vmstore"
        let reconnect = runProcess(
            "/usr/bin/timeout", ["--kill-after=5", "60", TestBinaries.path("smbvol"), "hook", "web01", "reconnect", "begin", "-"],
            stdin: fixture.domainXML(uuid: Self.domainUUID, image: share + "/web01/disk0.qcow2"),
            environment: ["LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SMBVOL_CONFIG": hostB], timeout: .seconds(70))
        #expect(reconnect.status == 0, "\(reconnect.stderr)")
        let locks = try String(contentsOfFile: fixture.mounts.directory + "/host-b/state/locks.json", encoding: .utf8)
        #expect(locks.contains("\"b1\""), "the reconnect keeps B's lock: \(locks)")

        let beat = HeartbeatHookTests.beat(hostB)
        #expect(beat.status == 0, "\(beat.stderr)")
        #expect(beat.stderr.contains("TAKEOVER: domain web01 paused"), "\(beat.stderr)")
    }

    @Test("B's handle still listed by the cluster: a takeover record (forged) stops nothing, with a warning; one for another image is never read")
    func stillHeldStopsNothing() throws {
        let fixture = try HookFixture(scenario: "takeover.json")
        let syslogB = try SyslogListener()
        let hostB = try Self.hostB(fixture, syslog: syslogB)
        let now = TwoHostWorkspace.iso8601(Date())
        for (fileNumber, name) in [("3001", "host-a-1-forged.json"), ("4001", "host-a-2-forged.json")] {
            let directory = fixture.mounts.root + "/srv/vmstore/.smbvol/takeovers/" + fileNumber
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try """
                {"format":"smbvol-takeover","version":1,"image":{"path":"web01/disk0.qcow2","file_number":"\(fileNumber)"},
                "new_holder":{"host_id":"host-a","hostname":"kvm-a","addresses":["203.0.113.1"]},"domain":{"name":"web01","uuid":"11111111-2222-3333-4444-555555555555"},
                "taken_at":"\(now)","old_holder":{"host_id":"host-b","addresses":["\(Self.hostBAddress)"]},"closed_handles":["7.1.5"]}
                """.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        let beat = HeartbeatHookTests.beat(hostB)
        #expect(beat.status == 0, "\(beat.stderr)")
        #expect(!beat.stderr.contains("TAKEOVER"), "\(beat.stderr)")
        #expect(beat.stderr.contains("host-a-1-forged.json not acted on") && beat.stderr.contains("still holds a handle"), "\(beat.stderr)")
        #expect(!beat.stderr.contains("host-a-2-forged.json"), "\(beat.stderr)")
        #expect(try fixture.simulator.state().closedLocations.isEmpty)
        #expect(Self.waitForLine(syslogB) { $0.contains("event=takeover-ignored") && $0.contains("still holds") }, "\(syslogB.lines)")
    }
}
