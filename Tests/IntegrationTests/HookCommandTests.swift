import Foundation
import Testing

/// `smbvol hook` as libvirt runs it: the real mount code path (stand-in mount program, private
/// mount namespace), qumulo-sim over HTTPS, the hook's contract (exit statuses, empty stdout).
@Suite("smbvol hook", .serialized)
struct HookCommandTests {
    @Test("prepare: stale handle closed, share mounted, lock recorded; release: lock gone, unmounted; stdout empty")
    func startAndRelease() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let xml = fixture.domainXML()
        let start = fixture.hook("web01", "prepare", "begin", xml: xml)
        #expect(start.status == 0, "\(start.stderr)")
        #expect(start.stdout.isEmpty)
        #expect(start.stderr.isEmpty, "\(start.stderr)")
        #expect(try fixture.simulator.state().closedLocations == ["7.1.1"])
        #expect(fixture.isMounted)
        let locks = try fixture.mounts.locks()
        #expect(locks.count == 1)
        #expect(locks.first?["domain_uuid"] as? String == "6f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a2b")
        #expect(locks.first?["disk"] as? String == "vda")
        #expect(locks.first?["context"] as? String == "hook")
        let audit = fixture.syslog.lines
        #expect(audit.contains { $0.contains("event=close") && $0.contains("location=7.1.1") && $0.contains("domain=web01") }, "\(audit)")
        #expect(audit.contains { $0.contains("event=mount") }, "\(audit)")

        for operation in [("start", "begin"), ("started", "begin"), ("stopped", "end")] {
            let result = fixture.hook("web01", operation.0, operation.1, xml: xml)
            #expect(result.status == 0 && result.stdout.isEmpty && result.stderr.isEmpty)
        }
        let release = fixture.hook("web01", "release", "end", xml: xml)
        #expect(release.status == 0, "\(release.stderr)")
        #expect(release.stdout.isEmpty)
        #expect(try fixture.mounts.locks().isEmpty)
        #expect(!fixture.isMounted)
    }

    @Test("a live foreign holder refuses the start, names it, closes nothing and gives back the mount")
    func liveHolderRefuses() throws {
        let fixture = try HookFixture(scenario: "live.json")
        let result = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML())
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("10.0.0.21"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count <= 2, "\(result.stderr)")
        #expect(try fixture.simulator.state().closedLocations.isEmpty)
        #expect(try fixture.mounts.locks().isEmpty)
        #expect(!fixture.isMounted)
        #expect(fixture.syslog.lines.contains { $0.contains("event=refuse") })
    }

    @Test("migrate begin then prepare begin while the source holds the image: nothing closed, exit 0, stdout empty")
    func incomingMigration() throws {
        let fixture = try HookFixture(scenario: "live.json")
        let xml = fixture.domainXML()
        let migrate = fixture.hook("web01", "migrate", "begin", xml: xml)
        #expect(migrate.status == 0, "\(migrate.stderr)")
        #expect(migrate.stdout.isEmpty)
        let prepare = fixture.hook("web01", "prepare", "begin", xml: xml)
        #expect(prepare.status == 0, "\(prepare.stderr)")
        #expect(prepare.stdout.isEmpty)
        #expect(try fixture.simulator.state().closedLocations.isEmpty)
        #expect(try fixture.mounts.locks().count == 1)
        // `started` ends the mark: a later plain start is a start again, and refuses.
        #expect(fixture.hook("web01", "started", "begin", xml: xml).status == 0)
        #expect(fixture.hook("web01", "prepare", "begin", xml: xml).status == 1)
    }

    @Test("a domain with no disk on a configured share: exit 0 at once, no request, no mount")
    func unmanagedDomain() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        try fixture.simulator.resetRequests()
        let started = ContinuousClock.now
        let result = fixture.hook("other", "prepare", "begin", xml: fixture.domainXML(name: "other", image: "/var/lib/libvirt/images/other.qcow2"))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(try fixture.simulator.state().requests.isEmpty)
        #expect(fixture.mounts.logLines("mount-calls.log").isEmpty)
    }

    @Test("release, stopped and reconnect exit 0 whatever fails; unknown operations exit 0")
    func neverFailingOperations() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        for (operation, subOperation) in [("release", "end"), ("stopped", "end"), ("reconnect", "begin"), ("attach", "begin"), ("frobnicate", "x")] {
            let garbage = fixture.hook("web01", operation, subOperation, xml: "<domain><name>broken")
            #expect(garbage.status == 0, "\(operation): \(garbage.stderr)")
            #expect(garbage.stdout.isEmpty)
        }
        try "state_dir = 42\n".write(toFile: fixture.mounts.configPath, atomically: true, encoding: .utf8)
        #expect(fixture.hook("web01", "release", "end", xml: fixture.domainXML()).status == 0)
        #expect(fixture.hook("web01", "reconnect", "begin", xml: fixture.domainXML()).status == 0)
        let prepare = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML())
        #expect(prepare.status == 1)
        #expect(prepare.stderr.contains("state_dir"), "\(prepare.stderr)")
    }

    @Test("reconnect restores the running domain's lock")
    func reconnectRestoresLocks() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let result = fixture.hook("web01", "reconnect", "begin", xml: fixture.domainXML())
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try fixture.mounts.locks().count == 1)
        #expect(fixture.isMounted)
        #expect(try fixture.simulator.state().closedLocations.isEmpty)  // reconnect never closes
    }

    @Test("a cluster that hangs: the hook ends at its deadline with the reason (on_cluster_error = fail)")
    func clusterHangHitsDeadline() throws {
        let fixture = try HookFixture(scenario: "stale.json", deadlineSeconds: 3)
        try fixture.simulator.addFault(#"{"kind": "hang", "path_prefix": "/v1/"}"#)
        let started = ContinuousClock.now
        let result = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML(), timeout: .seconds(20))
        let elapsed = ContinuousClock.now - started
        #expect(result.status == 1)
        #expect(elapsed < .seconds(4), "took \(elapsed)")
        #expect(result.stderr.contains("deadline") || result.stderr.contains("timed out"), "\(result.stderr)")
        #expect(try fixture.mounts.locks().isEmpty)
        #expect(!fixture.isMounted)
    }

    @Test("a cluster that hangs with on_cluster_error = continue: the start proceeds, syslog has the warning")
    func clusterHangContinues() throws {
        let fixture = try HookFixture(scenario: "stale.json", deadlineSeconds: 4, onClusterError: "continue")
        try fixture.simulator.addFault(#"{"kind": "hang", "path_prefix": "/v1/"}"#)
        let result = fixture.hook("web01", "prepare", "begin", xml: fixture.domainXML(), timeout: .seconds(20))
        #expect(result.status == 0, "\(result.stderr)")
        let lines = fixture.syslog.lines
        #expect(lines.contains { $0.contains("cluster unavailable") }, "\(lines) \(result.stderr)")
        #expect(try fixture.mounts.locks().count == 1)
    }

    @Test("a hanging mount program: killed at the deadline, no child left holding the hook's stdout/stderr")
    func mountHangHitsDeadline() throws {
        let fixture = try HookFixture(scenario: "stale.json", deadlineSeconds: 3)
        // smbd stopped (SIGSTOP): the real mount.cifs waits for an answer that never comes.
        fixture.mounts.samba.pause()
        defer { fixture.mounts.samba.resume() }
        // A parent that waits for EOF on both pipes, as libvirtd does.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
        process.arguments = ["-t", "\(fixture.mounts.holder.processIdentifier)", "-m", "--", fixture.mounts.smbvol, "hook", "web01", "prepare", "begin", "-"]
        process.environment = ["LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SMBVOL_CONFIG": fixture.mounts.configPath]
        let input = Pipe(), output = Pipe(), error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        let started = ContinuousClock.now
        try process.run()
        input.fileHandleForWriting.write(Data(fixture.domainXML().utf8))
        try input.fileHandleForWriting.close()
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let elapsed = ContinuousClock.now - started
        process.waitUntilExit()
        #expect(elapsed < .seconds(4), "EOF after \(elapsed)")
        #expect(process.terminationStatus == 1, "\(stderr)")
        #expect(stdout.isEmpty)
        #expect(stderr.contains("mount"), "\(stderr)")
        #expect(
            Reliability.waitUntil(.seconds(3)) { !Reliability.processRunning(matching: fixture.mounts.mountProgram) },
            "mount.cifs (or its stand-in's children) outlived the hook")
    }
}
