import Foundation
import Testing

/// Heartbeat evidence end to end through `smbvol check` (the hook's exact pipeline, dry): host B
/// runs `smbvol heartbeat --once`, host A checks its start against qumulo-sim.
@Suite("heartbeat evidence in check", .serialized)
struct HeartbeatCheckTests {
    static let scenarios = TestBinaries.packageRoot + "/Tests/Scenarios/check/"

    @Test("session idle 900 s but host B beats: start refused naming host, age and domain; nothing closed; migration keeps")
    func beatingHostRefuses() throws {
        let workspace = try TwoHostWorkspace()
        let simulator = try SimulatorProcess(scenarioFile: Self.scenarios + "idle-session.json")
        let beat = workspace.run("b", ["heartbeat", "--once"])
        #expect(beat.status == 0, "\(beat.stderr)")
        #expect(FileManager.default.fileExists(atPath: workspace.addressRecordPath))

        let start = try workspace.check(simulator)
        #expect(start.status == 3, "\(start.stdout) \(start.stderr)")
        #expect(start.json["verdict"] as? String == "refuse")
        let handle = try #require(checkHandles(start.json).first)
        #expect(handle["decision"] as? String == "refuse")
        let reason = handle["reason"] as? String ?? ""
        #expect(reason.contains("(host-b) beat") && reason.contains("s ago") && reason.contains("lists domain web01 on this image"), "\(reason)")
        let heartbeats = handle["heartbeats"] as? [[String: Any]] ?? []
        #expect(heartbeats.first?["status"] as? String == "alive")
        #expect(heartbeats.first?["host_id"] as? String == "host-b")
        #expect(heartbeats.first?["domains"] as? [String] == ["web01"])
        #expect(try simulator.state().closedLocations.isEmpty)

        let text = try workspace.check(simulator, json: false)
        #expect(text.stdout.contains("    heartbeat 10.0.0.2: host "), "\(text.stdout)")

        let migration = try workspace.check(simulator, ["--migration"])
        #expect(migration.status == 0, "\(migration.stderr)")
        #expect(checkHandles(migration.json).first?["decision"] as? String == "keep")
        #expect(try simulator.state().closedLocations.isEmpty)
    }

    @Test("host B stopped beating 5 minutes ago, or never ran: today's rules (would close), and check says why")
    func staleOrMissingRecord() throws {
        for scenario in ["idle-session", "dead-host"] {
            let holder = scenario == "dead-host" ? "10.0.0.3" : "10.0.0.2"
            let workspace = try TwoHostWorkspace(holderAddress: holder)
            let simulator = try SimulatorProcess(scenarioFile: Self.scenarios + scenario + ".json")
            let never = try workspace.check(simulator)
            #expect(never.status == 0, "\(never.stderr)")
            #expect(checkHandles(never.json).first?["decision"] as? String == "close")
            #expect((checkHandles(never.json).first?["heartbeats"] as? [[String: Any]])?.first?["status"] as? String == "no-record")

            #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)
            try workspace.ageHostB(by: 300)
            let stale = try workspace.check(simulator)
            #expect(stale.status == 0, "\(stale.stderr)")
            let handle = try #require(checkHandles(stale.json).first)
            #expect(handle["decision"] as? String == "close", "\(handle)")
            let heartbeat = (handle["heartbeats"] as? [[String: Any]])?.first
            #expect(heartbeat?["status"] as? String == "stale")
            #expect((heartbeat?["note"] as? String ?? "").contains("stale since"), "\(String(describing: heartbeat))")
        }
    }

    @Test("a record dated in the future counts as fresh: refused, never a close")
    func futureRecord() throws {
        let workspace = try TwoHostWorkspace()
        let simulator = try SimulatorProcess(scenarioFile: Self.scenarios + "idle-session.json")
        #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)
        try workspace.ageHostB(by: -7200)
        let run = try workspace.check(simulator)
        #expect(run.status == 3)
        #expect((checkHandles(run.json).first?["reason"] as? String ?? "").contains("in the future"))
    }

    @Test("a forged record claiming this host's address: the local rules decide (the leftover still closes), with a warning")
    func forgedOwnAddress() throws {
        let workspace = try TwoHostWorkspace(holderAddress: "10.0.0.1")
        let simulator = try SimulatorProcess(scenarioFile: Self.scenarios + "local-leftover.json")
        // Host B's configuration claims host A's address: exactly what a forger would write.
        #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)
        let run = try workspace.check(simulator)
        #expect(run.status == 0, "\(run.stderr)")
        let handle = try #require(checkHandles(run.json).first)
        // The forged record adds nothing: the local rules decide — a close, or a report where
        // some process's descriptors cannot be identified (PID 1 of a sandbox).
        #expect(handle["decision"] as? String == (CheckCommandTests.someDescriptorsUnidentifiable ? "report" : "close"))
        let heartbeat = (handle["heartbeats"] as? [[String: Any]])?.first
        #expect(heartbeat?["status"] as? String == "ignored")
        #expect((heartbeat?["note"] as? String ?? "").contains("claims this host's address"))
    }

    @Test("corrupt, huge and symlinked records are ignored with a reason: today's rules decide")
    func unusableRecords() throws {
        let workspace = try TwoHostWorkspace()
        let simulator = try SimulatorProcess(scenarioFile: Self.scenarios + "idle-session.json")
        let directory = workspace.share + "/.smbvol/by-address/10.0.0.2"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let elsewhere = workspace.root + "/fresh-elsewhere.json"
        #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)
        // This test is about records: B's holder claim (another proof of life, HolderClaimTests) goes.
        for claim in workspace.claimPaths { try FileManager.default.removeItem(atPath: claim) }
        try FileManager.default.moveItem(atPath: workspace.addressRecordPath, toPath: elsewhere)
        try Data("{\"format\": \"smbvol-heartbeat\", \"version\": 1,".utf8).write(to: URL(fileURLWithPath: directory + "/host-c.json"))
        try Data(repeating: 0x20, count: 300 * 1024).write(to: URL(fileURLWithPath: directory + "/host-d.json"))
        // A fresh, valid record of host B — reachable only through a symlink.
        try FileManager.default.createSymbolicLink(atPath: workspace.addressRecordPath, withDestinationPath: elsewhere)
        let run = try workspace.check(simulator)
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        let handle = try #require(checkHandles(run.json).first)
        #expect(handle["decision"] as? String == "close")
        let notes = (handle["heartbeats"] as? [[String: Any]] ?? []).map { ($0["status"] as? String ?? "", $0["note"] as? String ?? "") }
        #expect(notes.count == 3, "\(notes)")
        #expect(notes.allSatisfy { $0.0 == "ignored" })
        #expect(notes.contains { $0.1.contains("host-b.json") && $0.1.contains("symbolic link") })
        #expect(notes.contains { $0.1.contains("host-c.json") && $0.1.contains("malformed") })
        #expect(notes.contains { $0.1.contains("host-d.json") && $0.1.contains("larger than") })
    }

    @Test("holders: the fleet view from the records, text and JSON")
    func holders() throws {
        let workspace = try TwoHostWorkspace()
        #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)
        #expect(workspace.run("a", ["heartbeat", "--once"]).status == 0)
        let result = workspace.run("a", ["holders", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let share = try #require((object["shares"] as? [[String: Any]])?.first)
        #expect(share["share"] as? String == "vms")
        let hosts = share["hosts"] as? [[String: Any]] ?? []
        #expect(hosts.map { $0["host_id"] as? String ?? "" } == ["host-a", "host-b"])
        #expect(hosts.map { $0["this_host"] as? Bool ?? false } == [true, false])
        #expect(hosts.allSatisfy { $0["fresh"] as? Bool == true })
        let images = hosts.last?["images"] as? [[String: Any]] ?? []
        #expect(images.first?["path"] as? String == "web01.qcow2")
        #expect(images.first?["domain_name"] as? String == "web01")
        #expect((hosts.last?["addresses"] as? [String] ?? []).contains("10.0.0.2"))
        let text = workspace.run("a", ["holders", "--share", "vms"])
        #expect(text.stdout.contains("(host-b)") && text.stdout.contains("web01.qcow2  domain web01"), "\(text.stdout)")
        #expect(workspace.run("a", ["holders", "--share", "nope"]).status != 0)
    }

    @Test("a failed write is logged (heartbeat-failed) and --once exits 1; a symlinked .smbvol is never followed")
    func failedWrite() throws {
        let workspace = try TwoHostWorkspace()
        let elsewhere = workspace.root + "/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: workspace.share + "/.smbvol", withDestinationPath: elsewhere)
        let result = workspace.run("b", ["heartbeat", "--once"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("symbolic link"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
        let deadline = ContinuousClock.now + .seconds(5)
        while !workspace.syslog.lines.contains(where: { $0.contains("event=heartbeat-failed") }) && ContinuousClock.now < deadline { usleep(20_000) }
        #expect(workspace.syslog.lines.contains { $0.contains("event=heartbeat-failed") && $0.contains("share=vms") }, "\(workspace.syslog.lines)")
    }

    @Test("handles close --stale-only follows the same evidence: refused while host B beats, closed once its record is stale")
    func staleOnlyClose() throws {
        let workspace = try TwoHostWorkspace()
        let simulator = try SimulatorProcess(scenarioFile: Self.scenarios + "idle-session.json")
        #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)
        let arguments = [
            "handles", "close", "--path", "/vms/web01.qcow2", "--stale-only", "--yes", "--host", simulator.host, "--port", String(simulator.port),
            "--ca-file", simulator.caFile ?? "", "--user", "admin", "--password-file", workspace.passwordFile,
        ]
        let refused = workspace.run("a", arguments)
        #expect(refused.status == 3, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.stdout.contains("(host-b) beat"), "\(refused.stdout)")
        #expect(try simulator.state().closedLocations.isEmpty)
        try workspace.ageHostB(by: 300)
        let closed = workspace.run("a", arguments)
        #expect(closed.status == 0, "\(closed.stdout) \(closed.stderr)")
        #expect(try simulator.state().closedLocations == ["1.0.2"])
    }
}
