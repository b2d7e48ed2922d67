import Foundation
import Testing

/// The official `qq` CLI edits share host restrictions and closes sessions on
/// qumulo-sim as it would on a cluster (smb_mod_share, smb_list_share, smb_close_sessions).
@Suite("qq conformance: host restrictions and session close", .serialized)
struct FenceConformanceTests {
    let scenario = TestBinaries.packageRoot + "/Tests/Scenarios/basic.json"

    @Test("qq smb_mod_share --deny-hosts writes a DENIED entry (ALL normalised); smb_list_share reads it; a denied address gets no session")
    func modShare() throws {
        let simulator = try SimulatorProcess(scenarioFile: scenario)
        defer { simulator.stop() }
        let cli = QQConformanceTests()
        let store = try cli.makeStore()
        #expect(cli.qq(simulator, store: store, ["login", "-u", "admin", "-p", "secret"]).status == 0)

        let shown = cli.qq(simulator, store: store, ["smb_list_share", "--id", "1"])
        #expect(shown.status == 0, "qq smb_list_share: \(shown.stderr)")
        #expect(shown.stdout.contains("Name: vms"), "\(shown.stdout)")
        let before = cli.qq(simulator, store: store, ["smb_list_share", "--id", "1", "--json"])
        #expect(before.status == 0, "\(before.stderr)")
        let defaults = try #require(try cli.json(before.stdout)["network_permissions"] as? [[String: Any]])
        #expect(defaults.count == 1)
        #expect(defaults.first?["type"] as? String == "ALLOWED")

        let modified = cli.qq(simulator, store: store, ["smb_mod_share", "--id", "1", "--deny-hosts", "203.0.113.7", "--full-control-hosts", "*", "--json"])
        #expect(modified.status == 0, "qq smb_mod_share: \(modified.stderr)")
        let after = cli.qq(simulator, store: store, ["smb_list_share", "--id", "1", "--json"])
        let entries = try #require(try cli.json(after.stdout)["network_permissions"] as? [[String: Any]])
        #expect(entries.count == 2, "\(after.stdout)")
        #expect(entries.first?["type"] as? String == "DENIED")
        #expect(entries.first?["address_ranges"] as? [String] == ["203.0.113.7"])
        #expect(entries.first?["rights"] as? [String] == ["READ", "WRITE", "CHANGE_PERMISSIONS"])
        #expect(entries.last?["type"] as? String == "ALLOWED")

        #expect(throws: SimulatorProcess.Failure.self) {
            try simulator.addSessions(#"[{"originator": "203.0.113.7", "auth_id": "1001", "share_names": ["vms"]}]"#)
        }
        try simulator.addSessions(#"[{"originator": "203.0.113.8", "auth_id": "1001", "share_names": ["vms"]}]"#)
    }

    @Test("qq smb_close_sessions --ip closes exactly that client's sessions")
    func closeSessions() throws {
        let simulator = try SimulatorProcess(scenarioFile: scenario)
        defer { simulator.stop() }
        let cli = QQConformanceTests()
        let store = try cli.makeStore()
        #expect(cli.qq(simulator, store: store, ["login", "-u", "admin", "-p", "secret"]).status == 0)
        let before = try simulator.state().sessions
        let closed = cli.qq(simulator, store: store, ["smb_close_sessions", "--ip", "10.0.0.6"], stdin: "yes\n")
        #expect(closed.status == 0, "qq smb_close_sessions: \(closed.stdout)\(closed.stderr)")
        let state = try simulator.state()
        #expect(state.sessions == before - 1)
        #expect(state.closedSessions.count == 1)
        let listed = cli.qq(simulator, store: store, ["smb_list_sessions"])
        #expect(!listed.stdout.contains("10.0.0.6") && listed.stdout.contains("10.0.0.5"), "\(listed.stdout)")
    }
}
