import Foundation
import SmbvolTestSupport
import Testing

/// kill -9 of the hook at several points of a prepare and of a release, and flock contention:
/// afterwards `reconcile` (or the next hook) brings locks and mounts back in line with reality.
@Suite("Reliability: killed hooks and lock contention", .serialized)
struct ReliabilityProcessFaultTests {
    func reconcile(_ fixture: HookFixture, running: [(String, String)]) throws -> (status: Int32, stdout: String, stderr: String) {
        let uri = try Reliability.testDriverURI(in: fixture.mounts.directory, running: running)
        return fixture.mounts.smbvol(["reconcile", "--connect", uri])
    }

    func temporaryLeftovers(_ fixture: HookFixture) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: fixture.mounts.stateDirectory)) ?? []).filter { $0.contains(".tmp-") }
    }

    @Test("kill -9 while the mount program runs: the orphaned mount completes; reconcile unmounts it; the next start works")
    func killedDuringMount() throws {
        let fixture = try HookFixture(scenario: "stale.json", deadlineSeconds: 20)
        let xml = fixture.domainXML()
        // smbd stopped for now: mount.cifs waits for it.
        fixture.mounts.samba.pause()
        let standIn = fixture.mounts.mountProgram
        let hook = try fixture.backgroundHook("web01", "prepare", "begin", xml: xml)
        #expect(Reliability.waitUntil(.seconds(10)) { Reliability.processRunning(matching: standIn) }, "the mount program never ran")
        hook.kill9()
        fixture.mounts.samba.resume()
        // The mount program has its own process group: it outlives the hook and mounts.
        #expect(Reliability.waitUntil(.seconds(20)) { !Reliability.processRunning(matching: standIn) })
        #expect(fixture.isMounted, "precondition: the orphaned mount program mounted the share")
        #expect(try fixture.mounts.locks().isEmpty, "the hook died before recording a lock")

        let result = try reconcile(fixture, running: [])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("no lock holds it"), "\(result.stdout)")
        #expect(!fixture.isMounted, "reconcile must unmount the leaked mount")

        let next = fixture.hook("web01", "prepare", "begin", xml: xml)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try fixture.mounts.locks().count == 1)
        #expect(fixture.mountCount == 1)
        #expect(temporaryLeftovers(fixture).isEmpty)
    }

    @Test("kill -9 while the cluster request hangs: the running domain keeps its lock and mount; the dead start's lock is dropped")
    func killedDuringClusterHang() throws {
        let fixture = try HookFixture(scenario: "stale.json", deadlineSeconds: 20)
        let web01 = fixture.domainXML()
        let web02 = fixture.domainXML(name: "web02", uuid: Reliability.web02)
        let running = fixture.hook("web02", "prepare", "begin", xml: web02)
        #expect(running.status == 0, "\(running.stderr)")

        try fixture.simulator.addFault(#"{"kind": "hang", "path_prefix": "/v1/"}"#)
        let hook = try fixture.backgroundHook("web01", "prepare", "begin", xml: web01)
        // The lock is recorded before the cluster is asked: once it is there, the hook hangs on the cluster.
        #expect(Reliability.waitUntil(.seconds(10)) { (Reliability.storedLocks(stateDirectory: fixture.mounts.stateDirectory) ?? []).count == 2 })
        // Waiting on the cluster, not still starting: the simulator holds one of its requests
        // unanswered (logged with status 0).
        let hung = waitUntil(timeout: .seconds(10)) { (try? fixture.simulator.state().requests.contains { $0.status == 0 }) ?? false }
        #expect(hung && hook.process.isRunning, "the hook should be waiting for the hung cluster: \(hook.stderr)")
        hook.kill9()
        try fixture.simulator.clearFaults()
        #expect(try fixture.simulator.state().closedLocations.isEmpty)

        let result = try reconcile(fixture, running: [("web02", Reliability.web02)])
        #expect(result.status == 0, "\(result.stderr)")
        let locks = try fixture.mounts.locks()
        #expect(locks.map { $0["domain_uuid"] as? String } == [Reliability.web02], "\(locks)")
        #expect(fixture.mountCount == 1, "the running domain's share must stay mounted")
        #expect(fixture.mounts.logLines("umount.log").isEmpty, "nothing may be unmounted under web02's lock")
        #expect(fixture.mounts.logLines("mount-calls.log").count == 1)
    }

    @Test(
        "kill -9 at each store crash point of a prepare: store readable, reconcile drops what the dead start left, the next start works",
        arguments: [("holding-lock", 0), ("after-temp-write", 0), ("after-rename", 1)])
    func prepareCrashPoints(point: String, lockLeft: Int) throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let xml = fixture.domainXML()
        let crashed = fixture.hook("web01", "prepare", "begin", xml: xml, extraEnvironment: ["SMBVOL_TEST_CRASH_POINT": point])
        #expect(crashed.status != 0 && crashed.status != 1, "the hook should have been killed: \(crashed)")
        #expect(try fixture.mounts.locks().count == lockLeft, "the store is the old or the new version")
        #expect(fixture.isMounted, "precondition: the share was mounted before the store change")

        let result = try reconcile(fixture, running: [])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try fixture.mounts.locks().isEmpty)
        #expect(!fixture.isMounted)

        let next = fixture.hook("web01", "prepare", "begin", xml: xml)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try fixture.mounts.locks().count == 1)
        #expect(fixture.mountCount == 1)
        #expect(temporaryLeftovers(fixture).isEmpty, "\(temporaryLeftovers(fixture))")
    }

    @Test(
        "kill -9 at store crash points of a release: the next hook / reconcile leaves no lock and no mount",
        arguments: [("holding-lock", 1), ("after-rename", 0)])
    func releaseCrashPoints(point: String, lockLeft: Int) throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let xml = fixture.domainXML()
        #expect(fixture.hook("web01", "prepare", "begin", xml: xml).status == 0)
        let crashed = fixture.hook("web01", "release", "end", xml: xml, extraEnvironment: ["SMBVOL_TEST_CRASH_POINT": point])
        #expect(crashed.status != 0, "the hook should have been killed: \(crashed)")
        #expect(try fixture.mounts.locks().count == lockLeft)
        #expect(fixture.isMounted, "killed before unmounting")

        let result = try reconcile(fixture, running: [])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try fixture.mounts.locks().isEmpty)
        #expect(!fixture.isMounted)
        #expect(fixture.mounts.logLines("umount.log").count == 1)
    }

    @Test("kill -9 of release end while umount runs: the orphaned umount completes; reconcile finds a consistent state")
    func killedDuringUnmount() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let xml = fixture.domainXML()
        #expect(fixture.hook("web01", "prepare", "begin", xml: xml).status == 0)
        // A slow /bin/umount: the stand-in's counting wrapper (bind-mounted over it in the
        // namespace) rewritten in place, so the bind mount keeps showing it.
        let standIn = fixture.mounts.standIn
        let slow = Data("#!/bin/sh\nsleep 2\necho \"$*\" >> \(standIn)/umount.log\nexec \(standIn)/real/umount \"$@\"\n".utf8)
        let handle = try #require(FileHandle(forWritingAtPath: standIn + "/bin/umount"))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: slow)
        try handle.close()
        let wrapper = "/bin/umount " + fixture.mountPoint

        let hook = try fixture.backgroundHook("web01", "release", "end", xml: xml)
        #expect(Reliability.waitUntil(.seconds(10)) { Reliability.processRunning(matching: wrapper) }, "umount never ran")
        hook.kill9()
        #expect(Reliability.waitUntil(.seconds(10)) { !Reliability.processRunning(matching: wrapper) })
        #expect(try fixture.mounts.locks().isEmpty, "the lock was removed before the unmount")

        let result = try reconcile(fixture, running: [])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!fixture.isMounted)
        #expect(try fixture.mounts.locks().isEmpty)
        let next = fixture.hook("web01", "prepare", "begin", xml: xml)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(fixture.mountCount == 1)
    }

    enum LockFile: String, CaseIterable, CustomTestStringConvertible {
        case share, store
        var testDescription: String { self == .share ? "mounts/*.lock" : "locks.lock" }
    }

    func lockPath(_ which: LockFile, _ fixture: HookFixture) throws -> String {
        switch which {
        case .share: return try #require(fixture.shareLockFile)
        case .store: return fixture.mounts.stateDirectory + "/locks.lock"
        }
    }

    @Test("a holder killed while holding the flock: the waiting hook goes on (the kernel drops the lock)", arguments: LockFile.allCases)
    func killedHolder(which: LockFile) throws {
        let fixture = try HookFixture(scenario: "stale.json", deadlineSeconds: 20)
        let xml = fixture.domainXML()
        #expect(fixture.hook("web01", "prepare", "begin", xml: xml).status == 0)
        #expect(fixture.hook("web01", "release", "end", xml: xml).status == 0)
        let holder = try FlockHolder(try lockPath(which, fixture))

        let hook = try fixture.backgroundHook("web01", "prepare", "begin", xml: xml)
        // Waiting, not still starting: the hook has the lock file open while the holder has it.
        let waiting = Reliability.waitUntil(.seconds(15)) { Reliability.hasOpen(pid: hook.pid, path: holder.path) }
        #expect(waiting && hook.process.isRunning, "the hook should be waiting for the lock: \(hook.stderr)")
        holder.kill9()
        let status = hook.wait(timeout: .seconds(15))
        #expect(status == 0, "\(hook.stderr)")
        #expect(try fixture.mounts.locks().count == 1)
        #expect(fixture.mountCount == 1)
    }

    @Test("a holder that does not die: the wait ends at the deadline with a message naming the lock file; release still exits 0",
        arguments: LockFile.allCases)
    func stuckHolder(which: LockFile) throws {
        let fixture = try HookFixture(scenario: "stale.json", deadlineSeconds: 3)
        let xml = fixture.domainXML()
        #expect(fixture.hook("web01", "prepare", "begin", xml: xml).status == 0)
        #expect(fixture.hook("web01", "release", "end", xml: xml).status == 0)
        let path = try lockPath(which, fixture)
        let holder = try FlockHolder(path)

        let started = ContinuousClock.now
        let blocked = fixture.hook("web01", "prepare", "begin", xml: xml, timeout: .seconds(20))
        let elapsed = ContinuousClock.now - started
        #expect(blocked.status == 1)
        #expect(elapsed < .seconds(4), "waited \(elapsed)")
        #expect(blocked.stderr.split(separator: "\n").count == 1, "\(blocked.stderr)")
        #expect(blocked.stderr.contains(path), "\(blocked.stderr)")
        #expect(blocked.stdout.isEmpty)
        #expect((Reliability.storedLocks(stateDirectory: fixture.mounts.stateDirectory) ?? [["unreadable": true]]).isEmpty)
        let leaked = fixture.isMounted
        #expect(!leaked, "a failed start gives back its mount")

        let releaseStarted = ContinuousClock.now
        let release = fixture.hook("web01", "release", "end", xml: xml, timeout: .seconds(20))
        #expect(release.status == 0 && release.stdout.isEmpty)
        #expect(ContinuousClock.now - releaseStarted < .seconds(4))

        holder.kill9()
        let next = fixture.hook("web01", "prepare", "begin", xml: xml)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(fixture.mountCount == 1)
    }
}
