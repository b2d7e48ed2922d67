import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// `smbvol fence`, `unfence`, `fence --list` and `fence_smbvol`, run as built, against
/// qumulo-sim over HTTPS. Host A fences host B (203.0.113.7), whose heartbeat record is on the
/// share (a local_path: nothing mounted).
@Suite("storage fencing against the simulator", .serialized)
struct FenceCommandTests {
    static let hostB = "203.0.113.7"
    static let fencePassword = "fence-Secret-9"

    static func scenario(serverAddress: String = "198.51.100.250") -> String {
        """
        {"users": [
           {"name": "svc-smbvol", "password": "secret", "auth_id": "500", "role": "lock_manager"},
           {"name": "fencer", "password": "\(fencePassword)", "auth_id": "600", "role": "fencer"}],
         "server_address": "\(serverAddress)",
         "shares": [{"id": "1", "name": "vms", "fs_path": "/vms"}],
         "sessions": [
           {"originator": "\(hostB)", "auth_id": "500", "idle_seconds": 3, "share_names": ["vms"], "location": "b-1"},
           {"originator": "\(hostB)", "auth_id": "500", "idle_seconds": 30, "share_names": ["vms"], "location": "b-2"},
           {"originator": "10.0.0.1", "auth_id": "500", "idle_seconds": 1, "share_names": ["vms"], "location": "a-1"}]}
        """
    }

    /// The workspace of two hosts, with host A's configuration naming the simulator and the
    /// fencing account.
    func setUp(fenceAccount: Bool = true) throws -> (TwoHostWorkspace, SimulatorProcess) {
        let workspace = try TwoHostWorkspace(holderAddress: Self.hostB)
        let simulator = try SimulatorProcess(scenarioJSON: Self.scenario())
        let fenceFile = workspace.root + "/fence-password"
        FileManager.default.createFile(atPath: fenceFile, contents: Data(Self.fencePassword.utf8), attributes: [.posixPermissions: 0o600])
        let config = try String(contentsOfFile: workspace.config("a"), encoding: .utf8)
        try (config + """

            [cluster.sim]
            host = "\(simulator.host)"
            port = \(simulator.port)
            ca_file = "\(simulator.caFile ?? "")"
            username = "svc-smbvol"
            password_file = "\(workspace.root)/hook-password-not-on-this-node"
            \(fenceAccount ? "fence_username = \"fencer\"\nfence_password_file = \"\(fenceFile)\"" : "")

            """).write(toFile: workspace.config("a"), atomically: true, encoding: .utf8)
        return (workspace, simulator)
    }

    /// Host B's heartbeat, its records then rewritten to list only its fenced address: both
    /// "hosts" run on this machine, and a record naming this machine's interfaces is (rightly)
    /// refused as this host's own.
    func beatHostB(_ workspace: TwoHostWorkspace) throws {
        let beat = workspace.run("b", ["heartbeat", "--once"])
        #expect(beat.status == 0, "\(beat.stderr)")
        for path in [workspace.recordPath, workspace.addressRecordPath] {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
            object["addresses"] = [Self.hostB]
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        }
    }

    func permissions(_ simulator: SimulatorProcess) throws -> [[String: Any]] {
        let state = try JSONSerialization.jsonObject(with: Data(try simulator.admin("GET", "/_sim/state").utf8)) as? [String: Any]
        let byShare = try #require(state?["share_network_permissions"] as? [String: Any])
        return try #require(byShare["1"] as? [[String: Any]])
    }

    func patches(_ simulator: SimulatorProcess) throws -> Int {
        try simulator.state().requests.filter { $0.method == "PATCH" }.count
    }

    @Test("fence HOST: DENIED first from its heartbeat addresses, its sessions closed (not others'), verified, audited, idempotent; --list; unfence restores")
    func fenceAndUnfence() throws {
        let (workspace, simulator) = try setUp()
        defer { simulator.stop() }
        try beatHostB(workspace)

        let fenced = workspace.run("a", ["fence", "host-b"])
        #expect(fenced.status == 0, "\(fenced.stdout)\(fenced.stderr)")
        #expect(fenced.stdout.contains("still beats"), "\(fenced.stdout)")
        let entries = try permissions(simulator)
        #expect(entries.count == 2)
        #expect(entries.first?["type"] as? String == "DENIED")
        #expect(entries.first?["address_ranges"] as? [String] == [Self.hostB])
        #expect(entries.first?["rights"] as? [String] == ["READ", "WRITE", "CHANGE_PERMISSIONS"])
        #expect(entries.last?["address_ranges"] as? [String] == [], "everyone else is still allowed")
        let state = try simulator.state()
        #expect(Set(state.closedSessions) == ["b-1", "b-2"])
        #expect(state.partialSessionCloses.isEmpty, "each session is sent back whole, as listed: \(state.partialSessionCloses)")
        #expect(state.sessions == 1, "host A's session stays")
        #expect(!state.requests.contains { $0.authenticated && $0.status == 403 }, "the fencing role is enough")

        let audit = workspace.syslog.lines
        #expect(audit.filter { $0.contains("event=fence ") || $0.hasSuffix("event=fence") }.count == 1, "\(audit)")
        #expect(audit.filter { $0.contains("event=fence-session-close") }.count == 2)
        #expect(audit.contains { $0.contains("event=fence-verified") })
        for text in audit + [fenced.stdout, fenced.stderr] { #expect(!text.contains(Self.fencePassword)) }

        // A denied address cannot come back with a new session.
        #expect(throws: SimulatorProcess.Failure.self) {
            try simulator.addSessions(#"[{"originator": "\#(Self.hostB)", "auth_id": "500", "share_names": ["vms"]}]"#)
        }

        let before = try patches(simulator)
        let again = workspace.run("a", ["fence", "host-b"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("already fenced"), "\(again.stdout)")
        #expect(try patches(simulator) == before, "idempotent: nothing written")

        let list = workspace.run("a", ["fence", "--list"])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("host-b") && list.stdout.contains(Self.hostB) && list.stdout.contains("vms"), "\(list.stdout)")
        #expect(list.stdout.contains("since 20") && list.stdout.contains(" by "), "\(list.stdout)")
        let listed = workspace.run("a", ["fence", "--list", "--json"])
        let document = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any]
        let fencedHosts = try #require(document?["fenced"] as? [[String: Any]], "\(listed.stdout)")
        #expect(fencedHosts.count == 1)
        #expect(fencedHosts.first?["host"] as? String == "host-b")
        #expect(fencedHosts.first?["addresses"] as? [String] == [Self.hostB])
        #expect(fencedHosts.first?["shares"] as? [String] == ["vms"])
        #expect(fencedHosts.first?["in_force"] as? Bool == true)

        // Host C (same configuration, its own state: no fence record) names host B from its
        // heartbeat records, by the fenced addresses the cluster holds.
        let configC = workspace.root + "/c.toml"
        try (try String(contentsOfFile: workspace.config("a"), encoding: .utf8))
            .replacingOccurrences(of: "\(workspace.root)/a/", with: "\(workspace.root)/c/")
            .replacingOccurrences(of: "host_id = \"host-a\"", with: "host_id = \"host-c\"")
            .write(toFile: configC, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: workspace.root + "/c/state", withIntermediateDirectories: true)
        let elsewhere = runProcess(workspace.smbvol, ["fence", "--list", "--config", configC], environment: workspace.environment, timeout: .seconds(60))
        #expect(elsewhere.status == 0, "\(elsewhere.stderr)")
        #expect(elsewhere.stdout.hasPrefix("host-b  \(Self.hostB)  on vms"), "\(elsewhere.stdout)")
        #expect(elsewhere.stdout.contains("heartbeat records") && elsewhere.stdout.contains("no fence record here"), "\(elsewhere.stdout)")
        let elsewhereJSON = runProcess(
            workspace.smbvol, ["fence", "--list", "--json", "--config", configC], environment: workspace.environment, timeout: .seconds(60))
        let other = try #require(
            (try JSONSerialization.jsonObject(with: Data(elsewhereJSON.stdout.utf8)) as? [String: Any])?["fenced"] as? [[String: Any]])
        #expect(other.first?["host"] as? String == "host-b")
        #expect(other.first?["host_source"] as? String == "heartbeat records")
        #expect(other.first?["recorded_here"] as? Bool == false)
        #expect(other.first?["fenced_at"] is NSNull)
        #expect(fencedHosts.first?["recorded_here"] as? Bool == true)
        #expect(fencedHosts.first?["host_source"] as? String == "fence record")

        let unfenced = workspace.run("a", ["unfence", "host-b"])
        #expect(unfenced.status == 0, "\(unfenced.stdout)\(unfenced.stderr)")
        let restored = try permissions(simulator)
        #expect(restored.count == 1)
        #expect(restored.first?["type"] as? String == "ALLOWED")
        #expect(workspace.syslog.lines.contains { $0.contains("event=unfence") })
        try simulator.addSessions(#"[{"originator": "\#(Self.hostB)", "auth_id": "500", "share_names": ["vms"]}]"#)
        let empty = workspace.run("a", ["fence", "--list"])
        #expect(empty.stdout.contains("no host is fenced"), "\(empty.stdout)")
    }

    /// Fenced once by one address (`--address`, or heartbeat records listing one), then again by
    /// a longer list (its records now list another interface): the second fence adds a second
    /// entry and the fence record forgets the first set. `unfence host-b` removes only the
    /// second entry, verifies only that one, says "unfenced" and exits 0 — while host-b's
    /// first address is still denied on the share: the repaired host cannot reach its disks.
    @Test("fenced by one address, then by two: one entry (the union) replaces the first; unfence HOST leaves no entry of that host behind")
    func refenceWithMoreAddressesThenUnfence() throws {
        let (workspace, simulator) = try setUp()
        defer { simulator.stop() }
        let first = workspace.run("a", ["fence", "host-b", "--address", Self.hostB])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let second = workspace.run("a", ["fence", "host-b", "--address", Self.hostB, "--address", "203.0.113.8"])
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        let denied = try permissions(simulator).filter { $0["type"] as? String == "DENIED" }
        #expect(denied.map { $0["address_ranges"] as? [String] } == [[Self.hostB, "203.0.113.8"]], "one entry per host: \(denied)")
        // Fenced again by the first address alone: the union stays (nothing is un-denied).
        let third = workspace.run("a", ["fence", "host-b", "--address", Self.hostB])
        #expect(third.status == 0 && third.stdout.contains("fencing the union"), "\(third.stdout)\(third.stderr)")
        #expect(try permissions(simulator).filter { $0["type"] as? String == "DENIED" }.count == 1)
        let unfenced = workspace.run("a", ["unfence", "host-b"])
        #expect(unfenced.status == 0, "\(unfenced.stdout)\(unfenced.stderr)")
        let left = try permissions(simulator).filter { $0["type"] as? String == "DENIED" }
        #expect(left.isEmpty, "still denied after unfence: \(left)")
    }

    @Test("someone else's edit between read and write: 412, read again, both edits kept; unfence removes only ours")
    func concurrentEdit() throws {
        let (workspace, simulator) = try setUp()
        defer { simulator.stop() }
        try simulator.addFault(#"{"kind": "concurrent_share_edit", "path_prefix": "/v3/smb/shares/1", "count": 1}"#)
        let fenced = workspace.run("a", ["fence", "--address", Self.hostB, "--json"])
        #expect(fenced.status == 0, "\(fenced.stdout)\(fenced.stderr)")
        let fenceDocument = try JSONSerialization.jsonObject(with: Data(fenced.stdout.utf8)) as? [String: Any]
        let fenceObject = try #require(fenceDocument?["fence"] as? [String: Any], "\(fenced.stdout)")
        #expect(fenceObject["host"] as? String == Self.hostB)
        #expect(fenceObject["source"] as? String == "--address")
        #expect(fenceObject["changed_shares"] as? [String] == ["vms"])
        #expect(Set(fenceObject["closed_sessions"] as? [String] ?? []) == ["b-1", "b-2"])
        #expect(fenceObject["verified"] as? Bool == true)
        #expect(fenceObject["dry_run"] as? Bool == false)
        #expect(try simulator.state().requests.filter { $0.method == "PATCH" }.map(\.status) == [412, 200])
        let entries = try permissions(simulator)
        #expect(entries.map { $0["type"] as? String } == ["DENIED", "ALLOWED", "ALLOWED"])
        #expect(entries.last?["address_ranges"] as? [String] == ["198.51.100.0/24"], "the other edit survives")

        let unfenced = workspace.run("a", ["unfence", "--address", Self.hostB, "--json"])
        #expect(unfenced.status == 0, "\(unfenced.stdout)\(unfenced.stderr)")
        let unfenceDocument = try JSONSerialization.jsonObject(with: Data(unfenced.stdout.utf8)) as? [String: Any]
        let unfenceObject = try #require(unfenceDocument?["unfence"] as? [String: Any], "\(unfenced.stdout)")
        #expect(unfenceObject["changed_shares"] as? [String] == ["vms"])
        #expect(unfenceObject["addresses"] as? [String] == [Self.hostB])
        #expect(unfenced.stderr.contains("fence entry removed"), "progress on stderr: \(unfenced.stderr)")
        let after = try permissions(simulator)
        #expect(after.map { $0["type"] as? String } == ["ALLOWED", "ALLOWED"])
        #expect(after.last?["address_ranges"] as? [String] == ["198.51.100.0/24"])
    }

    @Test("--dry-run shows the plan and changes nothing")
    func dryRun() throws {
        let (workspace, simulator) = try setUp()
        defer { simulator.stop() }
        let result = workspace.run("a", ["fence", "--address", Self.hostB, "--dry-run"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("would put DENIED \(Self.hostB)"), "\(result.stdout)")
        #expect(result.stdout.contains("would close 2 SMB session(s)"), "\(result.stdout)")
        #expect(try patches(simulator) == 0)
        #expect(try simulator.state().closedSessions.isEmpty)
        #expect(try permissions(simulator).count == 1)
    }

    @Test("refused, one line each, nothing written: this host, its host_id, the cluster, a range, no fencing account, no address")
    func refusals() throws {
        let (workspace, simulator) = try setUp()
        defer { simulator.stop() }
        let cases: [([String], String)] = [
            (["fence", "--address", "10.0.0.1"], "address of this host"),
            (["fence", "host-a"], "this host's own host_id"),
            (["fence", "--address", "198.51.100.250"], "address of the cluster"),
            (["fence", "--address", "203.0.113.0/24"], "not a single IP address"),
            (["fence", "nobody"], "no address to fence"),
        ]
        for (arguments, reason) in cases + [(["fence", "--address", "203.0.113.0/24", "--dry-run"], "not a single IP address")] {
            let refusalsBefore = workspace.syslog.lines.filter { $0.contains("event=fence-refuse") }.count
            let result = workspace.run("a", arguments)
            #expect(result.status == 1, "\(arguments): \(result.stdout)")
            #expect(result.stderr.contains(reason), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
            // Every refusal is a fence-refuse audit event, those found before the fence logic too.
            let refusals = workspace.syslog.lines.filter { $0.contains("event=fence-refuse") }
            #expect(refusals.count == refusalsBefore + 1, "\(arguments): \(refusals)")
            #expect(refusals.last?.contains(reason) == true, "\(arguments): \(refusals.last ?? "")")
        }
        #expect(workspace.run("a", ["unfence", "host-a"]).status == 1)
        #expect(workspace.syslog.lines.last { $0.contains("event=fence-refuse") }?.contains("unfence") == true)
        // Both "hosts" run here: host B's own record lists this machine's interfaces.
        #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)
        let own = workspace.run("a", ["fence", "host-b"])
        #expect(own.status == 1, "\(own.stdout)")
        #expect(own.stderr.hasPrefix("smbvol: error: refused: "), "\(own.stderr)")
        #expect(try patches(simulator) == 0)
        #expect(try simulator.state().closedSessions.isEmpty)

        let (noAccount, other) = try setUp(fenceAccount: false)
        defer { other.stop() }
        let result = noAccount.run("a", ["fence", "--address", Self.hostB])
        #expect(result.status == 1)
        #expect(result.stderr.contains("no fencing account for cluster sim: set fence_username"), "\(result.stderr)")
        #expect(try patches(other) == 0)
    }

    @Test("fence_smbvol (argv[0]) with key=value on stdin: status on, off, status 2, on, status 0; metadata XML")
    func fenceAgent() throws {
        let (workspace, simulator) = try setUp()
        defer { simulator.stop() }
        try beatHostB(workspace)
        let agent = workspace.root + "/fence_smbvol"
        try FileManager.default.createSymbolicLink(atPath: agent, withDestinationPath: workspace.smbvol)
        func run(_ action: String) -> (status: Int32, stdout: String, stderr: String) {
            runProcess(
                agent, [], stdin: "action=\(action)\nport=host-b\nconfig=\(workspace.config("a"))\nnodename=node1\n",
                environment: workspace.environment, timeout: .seconds(60))
        }
        let first = run("status")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == "Status: ON\n")
        let off = run("off")
        #expect(off.status == 0, "\(off.stderr)")
        #expect(try permissions(simulator).first?["type"] as? String == "DENIED")
        #expect(try simulator.state().closedSessions.count == 2)
        let fenced = run("status")
        #expect(fenced.status == 2, "\(fenced.stderr)")
        #expect(fenced.stdout == "Status: OFF\n")
        let on = run("on")
        #expect(on.status == 0, "\(on.stderr)")
        #expect(run("status").status == 0)
        let list = run("list")
        #expect(list.status == 0 && list.stdout.contains("host-b,"), "\(list.stdout)\(list.stderr)")

        let metadata = runProcess(workspace.smbvol, ["fence-agent", "-o", "metadata"], environment: workspace.environment, timeout: .seconds(30))
        #expect(metadata.status == 0)
        #expect(metadata.stdout.contains("<resource-agent name=\"fence_smbvol\""))
        #expect(metadata.stdout.contains("<action name=\"on\" on_target=\"1\" automatic=\"1\"/>"))
        let document = try XMLDocument(xmlString: metadata.stdout)
        #expect(try document.nodes(forXPath: "/resource-agent/parameters/parameter[@name='plug']").count == 1)
        #expect(try document.nodes(forXPath: "/resource-agent/actions/action").count == 7)

        // host_map: a node with no heartbeat record anywhere, fenced by the addresses the map gives.
        let mapped = runProcess(
            agent, [], stdin: "action=off\nplug=host-z\nhost_map=host-y:203.0.113.8;host-z:203.0.113.9,203.0.113.10\nconfig=\(workspace.config("a"))\n",
            environment: workspace.environment, timeout: .seconds(60))
        #expect(mapped.status == 0, "\(mapped.stderr)")
        #expect(try permissions(simulator).first?["address_ranges"] as? [String] == ["203.0.113.10", "203.0.113.9"])
        let unmapped = runProcess(
            agent, ["-o", "off", "-n", "host-w", "--config", workspace.config("a"), "host_map=host-z:203.0.113.9"],
            environment: workspace.environment, timeout: .seconds(60))
        #expect(unmapped.status == 1, "host-w is not in the map and has no record: \(unmapped.stderr)")
        #expect(unmapped.stderr.contains("no address to fence"), "\(unmapped.stderr)")
        let badMap = runProcess(agent, ["-o", "off", "-n", "host-z", "host_map=host-z"], environment: workspace.environment, timeout: .seconds(30))
        #expect(badMap.status == 1 && badMap.stderr.contains("host_map entry"), "\(badMap.stderr)")

        let bad = runProcess(agent, ["-o", "reboot", "-n", "host-b"], environment: workspace.environment, timeout: .seconds(30))
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("action \"reboot\" is not supported"), "\(bad.stderr)")
    }
}
