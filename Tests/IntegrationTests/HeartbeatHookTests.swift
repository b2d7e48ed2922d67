import Foundation
import SmbvolTestSupport
import Testing

/// The hook's `prepare begin` with heartbeat evidence: the real mount code path (stand-in mount
/// program, private namespace), host A's configuration from HookFixture, host B writing its
/// record on the same share directory (its `local_path`).
@Suite("hook with heartbeat evidence", .serialized)
struct HeartbeatHookTests {
    /// Adds host_id and local_addresses to the fixture's configuration (top-level keys first).
    static func addHostIdentity(to fixture: HookFixture, hostID: String, address: String) throws {
        let text = try String(contentsOfFile: fixture.mounts.configPath, encoding: .utf8)
        try "host_id = \"\(hostID)\"\nlocal_addresses = [\"\(address)\"]\n\(text)"
            .write(toFile: fixture.mounts.configPath, atomically: true, encoding: .utf8)
    }

    /// Host B: serves the same directory as `local_path`, holds web01's image, beats once.
    static func hostB(_ fixture: HookFixture, address: String = "10.0.0.21") throws -> String {
        let directory = fixture.mounts.directory + "/host-b"
        let share = fixture.mounts.root + "/srv/vmstore"
        try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
        var file = SmbvolConfigurationFile([
            "state_dir": .string(directory + "/state"), "host_id": "host-b", "local_addresses": .strings([address]),
            "syslog_socket": .string(directory + "/no-syslog"),
        ])
        file.share("vmstore", ["export": "//srv/vmstore", "local_path": .string(share)])
        try file.write(in: directory)
        try """
            {"version": 1, "locks": [{"id": "b1", "share": "vmstore", "mount_point": "\(share)", "domain_uuid": "99999999-2222-3333-4444-555555555555",
            "domain_name": "web01", "disk": "vda", "image": "\(share)/web01/disk0.qcow2", "reason": "domain web01 disk vda", "context": "hook",
            "created_at": "\(TwoHostWorkspace.iso8601(Date().addingTimeInterval(-120)))"}]}
            """.write(toFile: directory + "/state/locks.json", atomically: true, encoding: .utf8)
        return directory + "/smbvol.toml"
    }

    static func beat(_ config: String) -> (status: Int32, stdout: String, stderr: String) {
        runProcess(
            TestBinaries.path("smbvol"), ["heartbeat", "--once", "--config", config],
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"], timeout: .seconds(30))
    }

    @Test("idle 900 s holder whose host beats: prepare refused (host and domain named), nothing closed, mount given back; migration keeps")
    func refusedWhileBeating() throws {
        let fixture = try HookFixture(scenario: "idle.json")
        try Self.addHostIdentity(to: fixture, hostID: "host-a", address: "10.0.0.1")
        let hostB = try Self.hostB(fixture)
        #expect(Self.beat(hostB).status == 0)

        let xml = fixture.domainXML()
        let start = fixture.hook("web01", "prepare", "begin", xml: xml)
        #expect(start.status == 1)
        #expect(start.stdout.isEmpty)
        #expect(start.stderr.contains("(host-b) beat") && start.stderr.contains("lists domain web01 on this image"), "\(start.stderr)")
        #expect(start.stderr.split(separator: "\n").count <= 2, "\(start.stderr)")
        #expect(try fixture.simulator.state().closedLocations.isEmpty)
        #expect(try fixture.mounts.locks().isEmpty)
        #expect(!fixture.isMounted)
        #expect(fixture.syslog.lines.contains { $0.contains("event=refuse") && $0.contains("host-b") })

        #expect(fixture.hook("web01", "migrate", "begin", xml: xml).status == 0)
        let incoming = fixture.hook("web01", "prepare", "begin", xml: xml)
        #expect(incoming.status == 0, "\(incoming.stderr)")
        #expect(try fixture.simulator.state().closedLocations.isEmpty)
    }

    @Test("host B stopped beating 5 min ago: the idle holder is closed as today; the ignored record is a syslog warning")
    func staleRecordCloses() throws {
        let fixture = try HookFixture(scenario: "idle.json")
        try Self.addHostIdentity(to: fixture, hostID: "host-a", address: "10.0.0.1")
        let hostB = try Self.hostB(fixture)
        #expect(Self.beat(hostB).status == 0)
        let share = fixture.mounts.root + "/srv/vmstore/.smbvol"
        // Host B stopped beating: its records and its holder claim are as old.
        for path in [share + "/hosts/host-b.json", share + "/by-address/10.0.0.21/host-b.json"] + HolderClaimTests.claimFiles(fixture, host: "host-b") {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
            object["written_at"] = TwoHostWorkspace.iso8601(Date().addingTimeInterval(-300))
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        }
        let start = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML())
        #expect(start.status == 0, "\(start.stderr)")
        #expect(try fixture.simulator.state().closedLocations == ["7.1.5"])
        let lines = fixture.syslog.lines
        #expect(lines.contains { $0.contains("event=heartbeat-ignored") && $0.contains("status=stale") }, "\(lines)")
    }

    @Test("host B never ran the heartbeat: the idle holder is closed as today")
    func noRecordCloses() throws {
        let fixture = try HookFixture(scenario: "idle.json")
        try Self.addHostIdentity(to: fixture, hostID: "host-a", address: "10.0.0.1")
        let start = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML())
        #expect(start.status == 0, "\(start.stderr)")
        #expect(try fixture.simulator.state().closedLocations == ["7.1.5"])
    }

    @Test("cluster unreachable with on_cluster_error = continue: a host whose fresh beat lists the image refuses the start; a stale one does not")
    func clusterDownBeatingHolderRefuses() throws {
        // Port 1 on loopback: nothing listens, every request is refused at once.
        let fixture = try HookFixture(scenario: "idle.json", onClusterError: "continue", clusterPort: 1)
        try Self.addHostIdentity(to: fixture, hostID: "host-a", address: "10.0.0.1")
        let hostB = try Self.hostB(fixture)
        #expect(Self.beat(hostB).status == 0)
        let xml = fixture.domainXML()
        let start = fixture.hook("web01", "prepare", "begin", xml: xml)
        #expect(start.status == 1, "\(start.stderr)")
        #expect(start.stdout.isEmpty)
        #expect(start.stderr.contains("cannot be asked") && start.stderr.contains("(host-b, ") && start.stderr.contains("10.0.0.21"), "\(start.stderr)")
        #expect(start.stderr.split(separator: "\n").count <= 2, "\(start.stderr)")
        #expect(try fixture.mounts.locks().isEmpty)
        #expect(fixture.syslog.lines.contains { $0.contains("event=refuse") && $0.contains("host-b") })

        // Migration never refuses (the source holds the image).
        #expect(fixture.hook("web01", "migrate", "begin", xml: xml).status == 0)
        #expect(fixture.hook("web01", "release", "end", xml: xml).status == 0)

        // Host B's record (and its holder claim) goes stale: the start continues as on_cluster_error says.
        for path in [fixture.mounts.root + "/srv/vmstore/.smbvol/hosts/host-b.json"] + HolderClaimTests.claimFiles(fixture, host: "host-b") {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
            object["written_at"] = TwoHostWorkspace.iso8601(Date().addingTimeInterval(-300))
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        }
        let later = fixture.hook("web01", "prepare", "begin", xml: xml)
        #expect(later.status == 0, "\(later.stderr)")
    }
}
