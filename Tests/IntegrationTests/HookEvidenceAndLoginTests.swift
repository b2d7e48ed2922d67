import Foundation
import Testing

/// The hook with the lock manager's role (missing evidence never closes anything, and is named),
/// and many hooks at once with an expired stored token (one login, not one per hook).
@Suite("hook: missing evidence, no login stampede", .serialized)
struct HookEvidenceAndLoginTests {
    @Test("lock-manager role: the start goes on (continue), nothing is closed, the warning names the missing lock grants")
    func lockManagerRoleClosesNothing() throws {
        let fixture = try HookFixture(scenario: "stale-lock-manager.json", onClusterError: "continue")
        let start = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML())
        #expect(start.status == 0, "\(start.stderr)")
        #expect(start.stdout.isEmpty)
        #expect(try fixture.simulator.state().closedLocations.isEmpty)
        let said = start.stderr + fixture.syslog.lines.joined(separator: "\n")
        #expect(said.contains("client addresses missing") && said.contains("PRIVILEGE_FS_LOCK_READ"), "\(said)")
        #expect(fixture.hook("web01", "release", "end", xml: fixture.domainXML()).status == 0)

        // check says the same, and would close nothing.
        let xmlFile = fixture.mounts.directory + "/web01.xml"
        try fixture.domainXML().write(toFile: xmlFile, atomically: true, encoding: .utf8)
        let check = fixture.mounts.smbvol(["check", "--xml", xmlFile])
        #expect(check.stdout.contains("PRIVILEGE_FS_LOCK_READ") || check.stderr.contains("PRIVILEGE_FS_LOCK_READ"), "\(check.stdout) \(check.stderr)")
        #expect(!check.stdout.contains("would close"), "\(check.stdout)")
        #expect(try fixture.simulator.state().closedLocations.isEmpty)
    }

    /// `prepare begin` for domains d<first>… at once (bounded wait).
    func concurrentStarts(_ fixture: HookFixture, domains: ClosedRange<Int>) throws -> [(status: Int32?, stderr: String)] {
        let point = fixture.mountPoint
        let environment = ["LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SMBVOL_CONFIG": fixture.mounts.configPath]
        let processes = try domains.map { index in
            let uuid = String(format: "00000000-0000-4000-8000-%012d", index)
            return try BackgroundProcess(
                "/usr/bin/nsenter",
                ["-t", "\(fixture.mounts.holder.processIdentifier)", "-m", "--wd=/", "--", fixture.mounts.smbvol, "hook", "d\(index)",
                 "prepare", "begin", "-"],
                environment: environment, stdin: fixture.domainXML(name: "d\(index)", uuid: uuid, image: "\(point)/web02/disk0.qcow2"))
        }
        let deadline = ContinuousClock.now + .seconds(90)
        return processes.map { process in
            let left = deadline - ContinuousClock.now
            let status = process.wait(timeout: left > .zero ? left : .zero)
            if status == nil { process.kill9() }
            return (status, process.stderr)
        }
    }

    @Test("20 concurrent starts with an expired stored token: exactly one login, the others reuse its token")
    func noLoginStampede() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        // Mount the share once (and log in: 1), so the mount point is known.
        let first = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML())
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try fixture.simulator.state().logins == 1)

        // A valid stored token: no login at all.
        let warm = try concurrentStarts(fixture, domains: 1...20)
        #expect(warm.allSatisfy { $0.status == 0 }, "\(warm.map(\.stderr))")
        #expect(try fixture.simulator.state().logins == 1)

        // The stored token expires (the cluster no longer knows it): one login among 20 hooks.
        let store = fixture.mounts.stateDirectory + "/tokens/sim"
        try "{\"bearer_token\": \"session-v1:expired-long-ago\", \"version\": 1}\n".write(toFile: store, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: store)
        try fixture.simulator.resetRequests()
        let cold = try concurrentStarts(fixture, domains: 21...40)
        #expect(cold.allSatisfy { $0.status == 0 }, "\(cold.map(\.stderr))")
        let state = try fixture.simulator.state()
        #expect(state.logins == 2, "logins: \(state.logins)")
        #expect(state.requests.filter { $0.status == 401 }.count >= 1)
        #expect(try fixture.mounts.locks().count == 41)
    }
}
