import Foundation
import Testing

/// Holder claims through the binary (docs/stale-handle-policy.md, "Holder claims"): host A runs
/// the hook in a mount namespace against qumulo-sim; host B (its own configuration, state and
/// host_id, the same share directory as `local_path`) beats. The image has no handle on the
/// cluster (scenario `claim.json`: smbd dropped every open), so only the claims tell a live
/// holder from a dead one.
@Suite("holder claims: handle-independent liveness", .serialized)
struct HolderClaimTests {
    static func share(_ fixture: HookFixture) -> String { fixture.mounts.root + "/srv/vmstore" }

    /// Every claim file of `host` on the share (one per image).
    static func claimFiles(_ fixture: HookFixture, host: String) -> [String] {
        let images = share(fixture) + "/.smbvol/images"
        let keys = (try? FileManager.default.contentsOfDirectory(atPath: images)) ?? []
        return keys.map { images + "/" + $0 + "/" + host + ".json" }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    static func json(_ path: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    /// Rewrites `host`'s claims as if written `secondsAgo` ago.
    static func ageClaims(_ fixture: HookFixture, host: String, by secondsAgo: Double) throws {
        let files = claimFiles(fixture, host: host)
        try #require(!files.isEmpty, "no claim of \(host)")
        for file in files {
            var object = try json(file)
            object["written_at"] = TwoHostWorkspace.iso8601(Date().addingTimeInterval(-secondsAgo))
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: file))
        }
    }

    static func takeoverFiles(_ fixture: HookFixture) -> [String] { TakeoverTests.takeoverFiles(fixture) }

    @Test("B's fresh claim, no handle on the image: A's start is refused (host, domain, age named, one line), nothing closed, nothing left; an incoming migration proceeds and records no takeover")
    func freshClaimRefuses() throws {
        let fixture = try HookFixture(scenario: "claim.json")
        try HeartbeatHookTests.addHostIdentity(to: fixture, hostID: "host-a", address: "203.0.113.1")
        let syslogB = try SyslogListener()
        let hostB = try TakeoverTests.hostB(fixture, syslog: syslogB)
        let beat = HeartbeatHookTests.beat(hostB)
        #expect(beat.status == 0, "\(beat.stderr)")
        let claims = Self.claimFiles(fixture, host: "host-b")
        try #require(claims.count == 1, "\(claims)")
        let claim = try Self.json(claims[0])
        #expect(claim["format"] as? String == "smbvol-claim")
        #expect(claim["image_path"] as? String == "web01/disk0.qcow2")
        #expect((claim["domain"] as? [String: Any])?["name"] as? String == "web01")
        #expect((claim["addresses"] as? [String] ?? []).contains(TakeoverTests.hostBAddress))

        let xml = fixture.domainXML()
        let start = fixture.hook("web01", "prepare", "begin", xml: xml)
        #expect(start.status == 1, "\(start.stderr)")
        #expect(start.stdout.isEmpty)
        for fragment in ["refusing to start web01", "(host-b, ", TakeoverTests.hostBAddress, "domain web01", "claim written", "s ago", "Nothing was closed"] {
            #expect(start.stderr.contains(fragment), "\(fragment) in \(start.stderr)")
        }
        #expect(start.stderr.split(separator: "\n").count == 1, "\(start.stderr)")
        #expect(try fixture.simulator.state().closedLocations.isEmpty)
        #expect(try fixture.mounts.locks().isEmpty)
        #expect(!fixture.isMounted)
        #expect(Self.claimFiles(fixture, host: "host-a").isEmpty)
        #expect(
            TakeoverTests.waitForLine(fixture.syslog) { $0.contains("event=refuse") && $0.contains("basis=claim") && $0.contains("claim_host_id=host-b") },
            "\(fixture.syslog.lines)")

        #expect(fixture.hook("web01", "migrate", "begin", xml: xml).status == 0)
        let incoming = fixture.hook("web01", "prepare", "begin", xml: xml)
        #expect(incoming.status == 0, "\(incoming.stderr)")
        #expect(Self.takeoverFiles(fixture).isEmpty)
        #expect(Self.claimFiles(fixture, host: "host-a").count == 1)
    }

    @Test("check: B's fresh claim and no handle — would refuse, naming host B; once B's claim is stale — would proceed")
    func checkShowsClaim() throws {
        let workspace = try TwoHostWorkspace()
        let simulator = try SimulatorProcess(scenarioFile: HeartbeatCheckTests.scenarios + "no-handles.json")
        #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)
        let refused = try workspace.check(simulator)
        #expect(refused.status == 3, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.json["verdict"] as? String == "refuse")
        let text = try workspace.check(simulator, json: false)
        #expect(text.stdout.contains("verdict: refuse") && text.stdout.contains("(host-b, ") && text.stdout.contains("claims the image"), "\(text.stdout)")
        try workspace.ageHostB(by: 300)
        let stale = try workspace.check(simulator)
        #expect(stale.status == 0, "\(stale.stdout) \(stale.stderr)")
        #expect(try simulator.state().closedLocations.isEmpty)
    }

    @Test("B's claim is stale (B cut off, smbd dropped its session): A's start proceeds and leaves a takeover record naming host B and its domain; B's heartbeat, back, stops web01")
    func staleClaimTakenOver() throws {
        let fixture = try HookFixture(scenario: "claim.json")
        try HeartbeatHookTests.addHostIdentity(to: fixture, hostID: "host-a", address: "203.0.113.1")
        let syslogB = try SyslogListener()
        let hostB = try TakeoverTests.hostB(fixture, syslog: syslogB)
        #expect(HeartbeatHookTests.beat(hostB).status == 0)
        try Self.ageClaims(fixture, host: "host-b", by: 300)

        let start = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML())
        #expect(start.status == 0, "\(start.stderr)")
        #expect(try fixture.simulator.state().closedLocations.isEmpty)
        let files = Self.takeoverFiles(fixture)
        try #require(files.count == 1, "\(files) \(fixture.syslog.lines.filter { $0.contains("takeover") })")
        let record = try Self.json(files[0])
        let old = record["old_holder"] as? [String: Any]
        #expect(old?["host_id"] as? String == "host-b")
        #expect((old?["addresses"] as? [String] ?? []).contains(TakeoverTests.hostBAddress))
        #expect((old?["domain"] as? [String: Any])?["name"] as? String == "web01")
        #expect(record["closed_handles"] as? [String] == [])
        #expect((record["new_holder"] as? [String: Any])?["host_id"] as? String == "host-a")
        #expect(
            TakeoverTests.waitForLine(fixture.syslog) { $0.contains("event=takeover-recorded") && $0.contains("basis=claim") && $0.contains("old_host_id=host-b") },
            "\(fixture.syslog.lines)")
        // A's own claim is written before the start reports success.
        #expect(Self.claimFiles(fixture, host: "host-a").count == 1)

        // B comes back: the cluster shows no handle of B's on the file — B's domain is stopped.
        let back = HeartbeatHookTests.beat(hostB)
        #expect(back.status == 0, "\(back.stderr)")
        #expect(back.stderr.contains("TAKEOVER: domain web01 paused"), "\(back.stderr)")
    }

    @Test("this host's own claim is ignored; release removes it (and only it)")
    func ownClaimAndRelease() throws {
        let fixture = try HookFixture(scenario: "claim.json")
        try HeartbeatHookTests.addHostIdentity(to: fixture, hostID: "host-a", address: "203.0.113.1")
        let xml = fixture.domainXML()
        #expect(fixture.hook("web01", "prepare", "begin", xml: xml).status == 0)
        let own = Self.claimFiles(fixture, host: "host-a")
        try #require(own.count == 1)
        let claim = try Self.json(own[0])
        #expect(claim["host_id"] as? String == "host-a")
        #expect((claim["domain"] as? [String: Any])?["uuid"] as? String == "6f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a2b")
        // Another host's claim file beside it must survive A's release.
        let other = URL(fileURLWithPath: own[0]).deletingLastPathComponent().path + "/host-q.json"
        try Data("{}".utf8).write(to: URL(fileURLWithPath: other))
        // A repeated prepare (libvirt retries) meets A's own fresh claim: not refused.
        let again = fixture.hook("web01", "prepare", "begin", xml: xml)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(fixture.hook("web01", "release", "end", xml: xml).status == 0)
        #expect(Self.claimFiles(fixture, host: "host-a").isEmpty)
        #expect(FileManager.default.fileExists(atPath: other))
    }

    @Test("a malformed claim is ignored alone, with a warning (syslog and check); the start proceeds")
    func malformedClaim() throws {
        let fixture = try HookFixture(scenario: "claim.json")
        try HeartbeatHookTests.addHostIdentity(to: fixture, hostID: "host-a", address: "203.0.113.1")
        let syslogB = try SyslogListener()
        let hostB = try TakeoverTests.hostB(fixture, syslog: syslogB)
        #expect(HeartbeatHookTests.beat(hostB).status == 0)
        let claim = try #require(Self.claimFiles(fixture, host: "host-b").first)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: claim))

        let start = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML())
        #expect(start.status == 0, "\(start.stderr)")
        #expect(TakeoverTests.waitForLine(fixture.syslog) { $0.contains("event=claim-ignored") && $0.contains("host-b.json") }, "\(fixture.syslog.lines)")
        // check (the share is mounted now) shows the claims it read: the junk, and this host's own.
        let xmlFile = fixture.mounts.directory + "/web01.xml"
        try fixture.domainXML().write(toFile: xmlFile, atomically: true, encoding: .utf8)
        let check = fixture.mounts.smbvol(["check", "--xml", xmlFile])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        #expect(check.stdout.contains("claim ignored: holder claim") && check.stdout.contains("host-b.json ignored: malformed"), "\(check.stdout)")
        #expect(check.stdout.contains("claim ignored: this host's own claim (domain web01)"), "\(check.stdout)")
    }

    @Test("a symlinked claim is never followed: ignored with a reason, the start would proceed")
    func symlinkedClaim() throws {
        let workspace = try TwoHostWorkspace()
        let simulator = try SimulatorProcess(scenarioFile: HeartbeatCheckTests.scenarios + "no-handles.json")
        #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)
        let claim = try #require(workspace.claimPaths.first)
        // A fresh, valid claim of host B — reachable only through a symlink.
        try FileManager.default.moveItem(atPath: claim, toPath: workspace.share + "/elsewhere.json")
        try FileManager.default.createSymbolicLink(atPath: claim, withDestinationPath: workspace.share + "/elsewhere.json")
        let run = try workspace.check(simulator, json: false)
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        #expect(run.stdout.contains("claim ignored: holder claim") && run.stdout.contains("symbolic link"), "\(run.stdout)")
    }

    @Test("check: B's fresh claim crowded out by 32 junk files dated later, or B's claim name squatted by a directory (B's rewrites fail) — would refuse (claims not all read), not proceed")
    func crowdedOrSquattedClaimRefuses() throws {
        let workspace = try TwoHostWorkspace()
        let simulator = try SimulatorProcess(scenarioFile: HeartbeatCheckTests.scenarios + "no-handles.json")
        #expect(workspace.run("b", ["heartbeat", "--once"]).status == 0)
        let claim = try #require(workspace.claimPaths.first)
        let directory = URL(fileURLWithPath: claim).deletingLastPathComponent().path
        let later = Date().addingTimeInterval(3600)
        let junk = (0..<32).map { directory + "/junk-\($0).json" }
        for file in junk {
            try Data("{".utf8).write(to: URL(fileURLWithPath: file))
            try FileManager.default.setAttributes([.modificationDate: later], ofItemAtPath: file)
        }
        let crowded = try workspace.check(simulator, json: false)
        #expect(crowded.status == 3, "\(crowded.stdout) \(crowded.stderr)")
        #expect(crowded.stdout.contains("verdict: refuse") && crowded.stdout.contains("not all read"), "\(crowded.stdout)")

        for file in junk { try FileManager.default.removeItem(atPath: file) }
        try FileManager.default.removeItem(atPath: claim)
        try FileManager.default.createDirectory(atPath: claim, withIntermediateDirectories: false)
        _ = workspace.run("b", ["heartbeat", "--once"])
        let squatted = try workspace.check(simulator, json: false)
        #expect(squatted.status == 3, "\(squatted.stdout) \(squatted.stderr)")
        #expect(squatted.stdout.contains("host-b.json") && squatted.stdout.contains("not a regular file"), "\(squatted.stdout)")
        #expect(try simulator.state().closedLocations.isEmpty)
    }

    @Test("a cluster that hangs (on_cluster_error = continue): B's fresh claim still refuses A's start — the claims need no cluster, the deadline is no way round them")
    func hungClusterStillRefusedByClaim() throws {
        let fixture = try HookFixture(scenario: "claim.json", deadlineSeconds: 4, onClusterError: "continue")
        try HeartbeatHookTests.addHostIdentity(to: fixture, hostID: "host-a", address: "203.0.113.1")
        let syslogB = try SyslogListener()
        let hostB = try TakeoverTests.hostB(fixture, syslog: syslogB)
        #expect(HeartbeatHookTests.beat(hostB).status == 0)
        try #require(Self.claimFiles(fixture, host: "host-b").count == 1)
        try fixture.simulator.addFault(#"{"kind": "hang", "path_prefix": "/v1/"}"#)
        let start = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML(), timeout: .seconds(20))
        #expect(start.status == 1, "\(start.stderr)")
        #expect(start.stderr.contains("(host-b, ") && start.stderr.contains("claim"), "\(start.stderr)")
        #expect(try fixture.mounts.locks().isEmpty)
        #expect(Self.claimFiles(fixture, host: "host-a").isEmpty)
    }

    @Test("the heartbeat refreshes the claim of every image its locks hold, every beat")
    func heartbeatRefreshes() throws {
        let fixture = try HookFixture(scenario: "claim.json")
        let syslogB = try SyslogListener()
        let hostB = try TakeoverTests.hostB(fixture, syslog: syslogB)
        #expect(HeartbeatHookTests.beat(hostB).status == 0)
        try Self.ageClaims(fixture, host: "host-b", by: 600)
        #expect(HeartbeatHookTests.beat(hostB).status == 0)
        let claim = try Self.json(try #require(Self.claimFiles(fixture, host: "host-b").first))
        let written = try #require(ISO8601DateFormatter().date(from: claim["written_at"] as? String ?? ""))
        #expect(abs(written.timeIntervalSinceNow) < 60, "\(claim)")
    }
}
