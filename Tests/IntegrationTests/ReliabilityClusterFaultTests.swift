import Foundation
import Testing

/// Cluster faults through the built binary: what an operator and libvirt see when the cluster
/// refuses the connection, lacks a privilege, answers garbage or keeps refusing the login.
@Suite("Reliability: cluster faults", .serialized)
struct ReliabilityClusterFaultTests {
    /// The `smbvol: …` lines of a stderr, debug and info output aside.
    func errorLines(_ stderr: String) -> [Substring] {
        stderr.split(separator: "\n").filter { line in
            line.hasPrefix("smbvol:") && !["debug:", "info:", "notice:"].contains { line.hasPrefix("smbvol: " + $0) }
        }
    }

    /// A 401 message must say it is a 401 and what to check: the login or the account.
    func namesTheFix(_ line: Substring) -> Bool {
        line.contains("401") && (line.contains("smbvol login") || line.contains("account") || line.contains("credentials"))
    }

    @Test("refused connection: handles list is one line and exit 1; the hook honours on_cluster_error (fail / continue)")
    func refusedConnection() throws {
        let port = Reliability.closedPort()
        let failing = try HookFixture(scenario: "stale.json", deadlineSeconds: 10, onClusterError: "fail", clusterPort: port)

        let started = ContinuousClock.now
        let listing = failing.mounts.smbvol(["handles", "list", "--cluster", "sim"], timeout: .seconds(30))
        #expect(ContinuousClock.now - started < .seconds(8), "a refused connection must not wait for the deadline")
        #expect(listing.status == 1, "\(listing)")
        // At most the table's header (printed before the first page is asked for), never a row.
        #expect(listing.stdout.split(separator: "\n").filter { !$0.hasPrefix("LOCATION ") }.isEmpty, "\(listing.stdout)")
        let lines = listing.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(listing.stderr)")
        #expect(listing.stderr.hasPrefix("smbvol: error:"), "\(listing.stderr)")
        #expect(listing.stderr.contains("127.0.0.1") || listing.stderr.contains("reachable"), "\(listing.stderr)")

        let refused = failing.hook("web01", "prepare", "begin", xml: failing.domainXML())
        #expect(refused.status == 1)
        #expect(refused.stdout.isEmpty)
        #expect(errorLines(refused.stderr).count == 1 && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("on_cluster_error = fail"), "\(refused.stderr)")
        #expect(try failing.mounts.locks().isEmpty, "a refused start gives back its lock")
        #expect(!failing.isMounted, "a refused start gives back its mount")

        let continuing = try HookFixture(scenario: "stale.json", deadlineSeconds: 10, onClusterError: "continue", clusterPort: port)
        let proceeded = continuing.hook("web01", "prepare", "begin", xml: continuing.domainXML())
        #expect(proceeded.status == 0, "\(proceeded.stderr)")
        #expect(proceeded.stdout.isEmpty && proceeded.stderr.isEmpty, "\(proceeded.stderr)")
        #expect(try continuing.mounts.locks().count == 1)
        #expect(continuing.isMounted)
        let audit = continuing.syslog.lines
        #expect(audit.contains { $0.contains("cluster unavailable") }, "\(audit)")
    }

    @Test("403 on the close (account without PRIVILEGE_SMB_FILE_HANDLE_WRITE): the message names the privilege, nothing kept")
    func closeForbidden() throws {
        let fixture = try Reliability.hookFixture("limited.json")
        let start = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML())
        #expect(start.status == 1)
        #expect(start.stdout.isEmpty)
        #expect(start.stderr.split(separator: "\n").count == 1, "\(start.stderr)")
        #expect(start.stderr.contains("PRIVILEGE_SMB_FILE_HANDLE_WRITE"), "\(start.stderr)")
        #expect(start.stderr.contains("7.1.1"), "\(start.stderr)")
        let state = try fixture.simulator.state()
        #expect(state.closedLocations.isEmpty)
        #expect(state.requests.contains { $0.method == "POST" && $0.status == 403 }, "the close must have been tried and refused")
        #expect(try fixture.mounts.locks().isEmpty)
        #expect(!fixture.isMounted)

        // The operator command says the same.
        let close = fixture.mounts.smbvol(["handles", "close", "--cluster", "sim", "--location", "7.1.1", "--yes"])
        #expect(close.status == 1, "\(close)")
        #expect(close.stderr.contains("PRIVILEGE_SMB_FILE_HANDLE_WRITE") || close.stdout.contains("PRIVILEGE_SMB_FILE_HANDLE_WRITE"), "\(close)")
        #expect(try fixture.simulator.state().closedLocations.isEmpty)
    }

    @Test("invalid JSON from the cluster: one line naming the request, exit 1; the hook closes nothing")
    func invalidJSON() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        try fixture.simulator.addFault(#"{"kind": "invalid_json", "path_prefix": "/v1/smb/files"}"#)
        let listing = fixture.mounts.smbvol(["handles", "list", "--cluster", "sim", "--path", "/vmstore/web01/disk0.qcow2"])
        #expect(listing.status == 1, "\(listing)")
        #expect(listing.stderr.split(separator: "\n").count == 1, "\(listing.stderr)")
        #expect(listing.stderr.hasPrefix("smbvol: error:"), "\(listing.stderr)")
        #expect(listing.stderr.contains("/v1/smb/files"), "\(listing.stderr)")

        let start = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML())
        #expect(start.status == 1)
        #expect(start.stderr.split(separator: "\n").count == 1, "\(start.stderr)")
        #expect(start.stderr.contains("/v1/smb/files"), "\(start.stderr)")
        #expect(try fixture.simulator.state().closedLocations.isEmpty)
        #expect(try fixture.mounts.locks().isEmpty)
        #expect(!fixture.isMounted)
    }

    @Test("a second 401 after the one re-login: clean failure naming `smbvol login`, exactly one re-login, no secret printed")
    func unauthorizedTwice() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        // Every token is refused on its first use: the fresh one from the re-login too.
        try fixture.simulator.addFault(#"{"kind": "token_expiry", "after_uses": 0}"#)
        let listing = fixture.mounts.smbvol(["handles", "list", "--cluster", "sim", "--debug"])
        #expect(listing.status == 1, "\(listing)")
        let errors = errorLines(listing.stderr)
        #expect(errors.count == 1, "\(listing.stderr)")
        #expect(errors.first.map(namesTheFix) == true, "\(listing.stderr)")
        #expect(try fixture.simulator.state().logins == 2, "one login, one re-login, then stop")
        for text in [listing.stdout, listing.stderr] {
            #expect(!text.contains("hook-password"))
            #expect(!text.contains("session-v1:"), "a bearer token was printed")
        }

        let start = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML())
        #expect(start.status == 1)
        #expect(start.stderr.split(separator: "\n").count == 1, "\(start.stderr)")
        #expect(namesTheFix(start.stderr[...]), "\(start.stderr)")
        #expect(!start.stderr.contains("hook-password") && !start.stderr.contains("session-v1:"))
        #expect(try fixture.simulator.state().closedLocations.isEmpty)
        #expect(try fixture.mounts.locks().isEmpty)
        let audit = fixture.syslog.lines.joined(separator: "\n")
        #expect(!audit.contains("hook-password") && !audit.contains("session-v1:"), "secret in syslog")
    }
}
