import Foundation
import Testing

/// The fence rule through `smbvol check` (the hook's pipeline, dry): a holder whose address the
/// share's host restrictions deny and that has no session left is stale at once, reason
/// "fenced" — even while its heartbeat says alive (a paused host that came back), because the
/// cluster says it cannot write.
@Suite("fenced holders in check", .serialized)
struct FencedHolderTests {
    static let scenarios = TestBinaries.packageRoot + "/Tests/Scenarios/check/"

    @Test("a beating holder is refused unfenced, and closed once the cluster denies it writing; check shows both")
    func fencedBeatingHolder() throws {
        let workspace = try TwoHostWorkspace(holderAddress: "10.0.0.3")
        #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)

        let unfenced = try SimulatorProcess(scenarioFile: Self.scenarios + "dead-host.json")
        let refused = try workspace.check(unfenced)
        #expect(refused.status == 3, "\(refused.stdout) \(refused.stderr)")
        #expect(checkHandles(refused.json).first?["decision"] as? String == "refuse")

        // B's holder claim lists this machine's interface addresses too (both "hosts" are one
        // machine here), which the scenario's restrictions cannot deny: a claim is fenced only
        // when every address it lists is (HolderClaimDecisionTests). This test is about the
        // handle's fence rule, so B's claim goes.
        for claim in workspace.claimPaths { try FileManager.default.removeItem(atPath: claim) }
        let fenced = try SimulatorProcess(scenarioFile: Self.scenarios + "fenced-host.json")
        let run = try workspace.check(fenced)
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        let handle = try #require(checkHandles(run.json).first)
        #expect(handle["decision"] as? String == "close")
        let reason = handle["reason"] as? String ?? ""
        #expect(reason.contains("fenced: every holder address (10.0.0.3) is denied"), "\(reason)")
        #expect(reason.contains("its heartbeat says alive"), "\(reason)")
        #expect((handle["heartbeats"] as? [[String: Any]])?.first?["status"] as? String == "alive")
        #expect(try fenced.state().closedLocations.isEmpty, "check never closes")
    }

    @Test("an entry denying only READ is no fence: the beating holder still refuses the start")
    func readOnlyDenialIsNoFence() throws {
        let workspace = try TwoHostWorkspace(holderAddress: "10.0.0.3")
        #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)
        let simulator = try SimulatorProcess(scenarioFile: Self.scenarios + "read-denied-host.json")
        let run = try workspace.check(simulator)
        #expect(run.status == 3, "\(run.stdout) \(run.stderr)")
        #expect(checkHandles(run.json).first?["decision"] as? String == "refuse")
    }
}
