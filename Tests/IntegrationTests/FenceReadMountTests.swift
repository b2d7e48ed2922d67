import Foundation
import Testing

/// On the failover test bed: the node running the fence has no VM on the share, so
/// nothing is mounted there. `fence HOST` mounts the share for the read of HOST's heartbeat
/// record (the real mount path: mount.cifs, the CIFS stand-in, Samba), fences, and unmounts it
/// again — unless an attachment lock uses the share by then.
@Suite("fencing from a node with the share not mounted", .serialized)
struct FenceReadMountTests {
    static let hostB = "203.0.113.7"
    static let fencePassword = "fence-Secret-9"

    /// A mount fixture whose configuration also names the simulator (share `vmstore`), the
    /// fencing account and a syslog listener; host B's heartbeat record put on the Samba share.
    func setUp() throws -> (MountLockFixture, SimulatorProcess, SyslogListener, TwoHostWorkspace) {
        let fixture = try MountLockFixture()
        let syslog = try SyslogListener()
        let simulator = try SimulatorProcess(
            scenarioJSON: """
                {"users": [{"name": "fencer", "password": "\(Self.fencePassword)", "auth_id": "600", "role": "fencer"}],
                 "server_address": "198.51.100.250",
                 "shares": [{"id": "1", "name": "vmstore", "fs_path": "/vmstore"}],
                 "sessions": [{"originator": "\(Self.hostB)", "auth_id": "500", "idle_seconds": 3, "share_names": ["vmstore"], "location": "b-1"}]}
                """)
        let fenceFile = fixture.directory + "/fence-password"
        FileManager.default.createFile(atPath: fenceFile, contents: Data(Self.fencePassword.utf8), attributes: [.posixPermissions: 0o600])
        let config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        try ("""
            syslog_socket = "\(syslog.path)"
            host_id = "host-a"

            """ + config + """

            [cluster.sim]
            host = "\(simulator.host)"
            port = \(simulator.port)
            ca_file = "\(simulator.caFile ?? "")"
            fence_username = "fencer"
            fence_password_file = "\(fenceFile)"

            """).write(toFile: fixture.configPath, atomically: true, encoding: .utf8)

        // Host B's record, written by its own heartbeat on a local copy, listing only its address.
        let workspace = try TwoHostWorkspace(holderAddress: Self.hostB)
        #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)
        let shareRoot = fixture.root + "/srv/vmstore"
        for (source, target) in [
            (workspace.recordPath, shareRoot + "/.smbvol/hosts/host-b.json"),
            (workspace.addressRecordPath, shareRoot + "/.smbvol/by-address/\(Self.hostB)/host-b.json"),
        ] {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: source))) as? [String: Any])
            object["addresses"] = [Self.hostB]
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: target))
        }
        _ = fixture.shell("chmod -R a+rX '\(shareRoot)/.smbvol'")
        return (fixture, simulator, syslog, workspace)
    }

    func deniedFirst(_ simulator: SimulatorProcess) throws -> [String]? {
        let state = try JSONSerialization.jsonObject(with: Data(try simulator.admin("GET", "/_sim/state").utf8)) as? [String: Any]
        let entries = (state?["share_network_permissions"] as? [String: Any])?["1"] as? [[String: Any]]
        guard entries?.first?["type"] as? String == "DENIED" else { return nil }
        return entries?.first?["address_ranges"] as? [String]
    }

    @Test("fence HOST with the share not mounted here: mounted for the read, fenced by HOST's record, unmounted again; both audited")
    func mountsForTheRead() throws {
        let (fixture, simulator, syslog, workspace) = try setUp()
        defer { simulator.stop() }
        _ = workspace
        #expect(fixture.mountsUnderScratch().isEmpty)

        let fenced = fixture.smbvol(["fence", "host-b"], timeout: .seconds(90))
        #expect(fenced.status == 0, "\(fenced.stdout)\(fenced.stderr)")
        #expect(fenced.stdout.contains("from heartbeat records"), "\(fenced.stdout)")
        #expect(try deniedFirst(simulator) == [Self.hostB])
        #expect(try simulator.state().closedSessions == ["b-1"])
        #expect(fixture.logLines("mount-calls.log").count == 1, "mounted once, for the read")
        #expect(fixture.mountsUnderScratch().isEmpty, "given back: \(fixture.mountsUnderScratch())")
        #expect(fixture.logLines("umount.log").count == 1)
        let audit = syslog.lines
        func has(_ event: String) -> Bool {
            audit.contains { ($0.contains("event=\(event) ") || $0.hasSuffix("event=\(event)")) && $0.contains("vmstore") }
        }
        #expect(has("mount"), "\(audit)")
        #expect(has("unmount"), "\(audit)")
        #expect(try fixture.locks().isEmpty, "no lock left behind")

        // The agent the same way (unfence reads the fence record; status and off again).
        let agentOff = fixture.smbvol(["fence-agent", "-o", "status", "-n", "host-b"], timeout: .seconds(90))
        #expect(agentOff.status == 2, "\(agentOff.stdout)\(agentOff.stderr)")
    }

    @Test("a lock on the share when the read ends (a domain started meanwhile): the share stays mounted")
    func lockKeepsTheMount() throws {
        let (fixture, simulator, _, workspace) = try setUp()
        defer { simulator.stop() }
        _ = workspace
        // The attach of a domain on the share, made while the fence runs: recorded in the store
        // as the hook records it (a lock on the mount point), before the fence gives its mount back.
        let first = fixture.smbvol(["fence", "host-b", "--dry-run"], timeout: .seconds(90))
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let mountPoint = try #require(
            first.stdout.split(separator: "\n").first { $0.contains("mounted at ") }.map {
                String($0.split(separator: " ")[4])
            }, "\(first.stdout)")
        #expect(fixture.mountsUnderScratch().isEmpty)
        // The lock exists while the next read runs: the mount it makes stays.
        try """
            {"version": 1, "locks": [{"id": "l1", "share": "vmstore", "mount_point": "\(mountPoint)", "domain_uuid": "99999999-2222-3333-4444-555555555555",
            "domain_name": "web01", "disk": "vda", "image": "\(mountPoint)/web01.qcow2", "reason": "domain web01 disk vda", "context": "hook",
            "created_at": "2026-01-01T00:00:00Z"}]}
            """.write(toFile: fixture.stateDirectory + "/locks.json", atomically: true, encoding: .utf8)
        let second = fixture.smbvol(["fence", "host-b"], timeout: .seconds(90))
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        #expect(second.stdout.contains("left mounted (an attachment lock uses it now)"), "\(second.stdout)")
        #expect(fixture.mountsUnderScratch().count == 1)
        #expect(try deniedFirst(simulator) == [Self.hostB])
    }
}
