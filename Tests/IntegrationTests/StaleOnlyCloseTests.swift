import Foundation
import SmbvolTestSupport
import Testing

/// `smbvol handles close --path P --stale-only`: a VM start's rules applied by hand to one file.
@Suite("handles close --stale-only", .serialized)
struct StaleOnlyCloseTests {
    func run(_ scenario: String, _ extra: [String]) throws -> (result: (status: Int32, stdout: String, stderr: String), simulator: SimulatorProcess) {
        let simulator = try SimulatorProcess(scenarioFile: TestBinaries.packageRoot + "/Tests/Scenarios/hook/" + scenario)
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("stale-only-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let passwordFile = home + "/password"
        FileManager.default.createFile(atPath: passwordFile, contents: Data("hook-password\n".utf8), attributes: [.posixPermissions: 0o600])
        try SmbvolConfigurationFile(["state_dir": .string(home + "/state")]).write(in: home)
        let result = runProcess(
            TestBinaries.path("smbvol"),
            ["handles", "close", "--path", "/vmstore/web01/disk0.qcow2", "--stale-only", "--yes",
             "--host", simulator.host, "--port", String(simulator.port), "--ca-file", simulator.caFile ?? "",
             "--user", "svc-smbvol", "--password-file", passwordFile] + extra,
            environment: ["HOME": home, "PATH": "/usr/bin:/bin", "SMBVOL_CONFIG": home + "/smbvol.toml"], timeout: .seconds(60))
        return (result, simulator)
    }

    @Test("closes the handle whose client has no session")
    func closesStale() throws {
        let (result, simulator) = try run("stale.json", [])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("closed 7.1.1"), "\(result.stdout)")
        #expect(try simulator.state().closedLocations == ["7.1.1"])
    }

    @Test("refuses (exit 3) with a live holder, naming it; closes nothing")
    func refusesLive() throws {
        let (result, simulator) = try run("live.json", [])
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect((result.stdout + result.stderr).contains("10.0.0.21"))
        #expect(try simulator.state().closedLocations.isEmpty)
    }

    @Test("--dry-run reports and closes nothing")
    func dryRun() throws {
        let (result, simulator) = try run("stale.json", ["--dry-run"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("would close 7.1.1"), "\(result.stdout)")
        #expect(try simulator.state().closedLocations.isEmpty)
    }
}
