import Foundation
import Testing

/// Hot-attach, detach and reconcile through the built binary, in a private mount namespace.
@Suite("smbvol attach, detach and reconcile", .serialized)
struct AttachReconcileTests {
    let uuid = "0c9a3b1e-5d2f-4a6b-9c8d-7e6f5a4b3c2d"

    @Test("attach --share --path: closes the stale handle, records the lock, prints the image path; detach releases")
    func attachAndDetach() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let attach = fixture.mounts.smbvol(["attach", "--domain", uuid, "--disk", "vdb", "--share", "vmstore", "--path", "web01/disk0.qcow2", "--json"])
        #expect(attach.status == 0, "\(attach.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(attach.stdout.utf8)) as? [String: Any]
        #expect(object?["image"] as? String == fixture.mountPoint + "/web01/disk0.qcow2")
        #expect(object?["disk"] as? String == "vdb")
        #expect(object?["share"] as? String == "vmstore")
        #expect((object?["lock_id"] as? String)?.count == 16)
        #expect(try fixture.simulator.state().closedLocations == ["7.1.1"])
        #expect(fixture.isMounted)

        let detach = fixture.mounts.smbvol(["detach", "--domain", uuid, "--disk", "vdb"])
        #expect(detach.status == 0, "\(detach.stderr)")
        #expect(detach.stdout.contains("unmounted"))
        #expect(try fixture.mounts.locks().isEmpty)
        #expect(!fixture.isMounted)
        #expect(fixture.mounts.smbvol(["detach", "--domain", uuid, "--disk", "vdb"]).status == 1)
    }

    @Test("attach retried on a disk already attached: a no-op success that looks at and closes nothing; another image is refused")
    func attachRetried() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let arguments = ["attach", "--domain", uuid, "--disk", "vdb", "--share", "vmstore", "--path", "web01/disk0.qcow2"]
        let first = fixture.mounts.smbvol(arguments)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try fixture.simulator.state().closedLocations == ["7.1.1"])
        let lock = try #require(try fixture.mounts.locks().first)

        // The running domain now holds the image; the cluster lists a handle an attach would
        // otherwise judge (its address is no live session's). An orchestrator retries.
        try fixture.simulator.addHandles(
            #"[{"path": "/vmstore/web01/disk0.qcow2", "location": "7.1.9", "owner": "1001", "client_address": "10.0.0.13", "num_byte_range_locks": 2}]"#)
        try fixture.simulator.resetRequests()
        let retried = fixture.mounts.smbvol(arguments)
        #expect(retried.status == 0, "\(retried.stderr)")
        #expect(retried.stdout.hasSuffix("/web01/disk0.qcow2\n"), "\(retried.stdout)")
        let state = try fixture.simulator.state()
        #expect(state.closedLocations == ["7.1.1"], "a retried attach closed \(state.closedLocations)")
        #expect(!state.requests.contains { $0.path.hasPrefix("/v1/smb/files") }, "a retried attach looks at no handle")
        #expect(try fixture.mounts.locks().map { $0["id"] as? String } == [lock["id"] as? String])
        #expect(fixture.isMounted)

        let other = fixture.mounts.smbvol(["attach", "--domain", uuid, "--disk", "vdb", "--share", "vmstore", "--path", "stale01/disk0.qcow2"])
        #expect(other.status != 0)
        #expect(other.stderr.contains("already attached to") && other.stderr.contains("detach it first"), "\(other.stderr)")
        #expect(try fixture.simulator.state().closedLocations == ["7.1.1"])
    }

    @Test("attach with a live holder: exit 3, nothing closed, nothing kept")
    func attachRefused() throws {
        let fixture = try HookFixture(scenario: "live.json")
        let attach = fixture.mounts.smbvol(["attach", "--domain", uuid, "--disk", "vdb", "--share", "vmstore", "--path", "web01/disk0.qcow2"])
        #expect(attach.status == 3)
        #expect(attach.stderr.contains("10.0.0.21"), "\(attach.stderr)")
        #expect(try fixture.simulator.state().closedLocations.isEmpty)
        #expect(try fixture.mounts.locks().isEmpty)
        #expect(!fixture.isMounted)
    }

    @Test("attach --connection-info: the password goes to a temporary 0600 file, never to argv; gone afterwards")
    func attachConnectionInfo() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let info = fixture.mounts.directory + "/connection-info.json"
        try fixture.mounts.samba.setPassword("nova", "Inf0-S3cret")
        try #"{"driver_volume_type": "smbfs", "data": {"export": "//srv/vmstore", "name": "web02/disk0.qcow2", "format": "qcow2", "options": "-o vers=3.1.1,username=nova,password=Inf0-S3cret"}}"#
            .write(toFile: info, atomically: true, encoding: .utf8)
        let attach = fixture.mounts.smbvol(["attach", "--domain", uuid, "--disk", "vdc", "--connection-info", info])
        #expect(attach.status == 0, "\(attach.stderr)")
        #expect(attach.stdout.hasSuffix("/web02/disk0.qcow2\n"), "\(attach.stdout)")
        let mountLog = fixture.mounts.logLines("mount-calls.log").joined(separator: "\n")
        #expect(mountLog.contains("user=nova,pass=<redacted:11>"), "\(mountLog)")
        #expect(!mountLog.contains("Inf0-S3cret"))
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: fixture.mounts.stateDirectory + "/credentials")) ?? []
        #expect(leftovers.isEmpty, "\(leftovers)")
        #expect(try fixture.mounts.locks().contains { $0["disk"] as? String == "vdc" })
    }

    @Test("reconcile drops locks of domains not running, keeps operator locks, unmounts what nobody holds")
    func reconcile() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let running = "11111111-2222-3333-4444-555555555555"
        let gone = "99999999-8888-7777-6666-555555555555"
        for (domain, disk, path) in [(running, "vda", "web01/disk0.qcow2"), (gone, "vdb", "web02/disk0.qcow2")] {
            let result = fixture.mounts.smbvol(["attach", "--domain", domain, "--disk", disk, "--share", "vmstore", "--path", path])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let operatorLock = fixture.mounts.smbvol(["lock", "add", "--share", "vmstore", "--reason", "backup window"])
        #expect(operatorLock.status == 0, "\(operatorLock.stderr)")
        // libvirt's test driver: one running domain with the first UUID, the second is unknown.
        let node = fixture.mounts.directory + "/node.xml"
        try """
            <node>
              <domain type='test'><name>web01</name><uuid>\(running)</uuid><memory>65536</memory>
                <os><type>hvm</type></os></domain>
            </node>
            """.write(toFile: node, atomically: true, encoding: .utf8)
        let uri = "test://" + node

        let dryRun = fixture.mounts.smbvol(["reconcile", "--connect", uri, "--dry-run"])
        #expect(dryRun.status == 0, "\(dryRun.stderr)")
        #expect(dryRun.stdout.contains("would drop"), "\(dryRun.stdout)")
        #expect(try fixture.mounts.locks().count == 3)

        let real = fixture.mounts.smbvol(["reconcile", "--connect", uri])
        #expect(real.status == 0, "\(real.stderr)")
        let locks = try fixture.mounts.locks()
        #expect(Set(locks.compactMap { $0["domain_uuid"] as? String }) == [running, ""] || locks.count == 2, "\(locks)")
        #expect(!locks.contains { $0["domain_uuid"] as? String == gone })
        #expect(locks.contains { $0["context"] as? String == "operator" })
        #expect(fixture.isMounted)

        // With every hook lock gone and the operator lock deleted, reconcile unmounts.
        for lock in locks { _ = fixture.mounts.smbvol(["lock", "delete", lock["id"] as? String ?? ""]) }
        let unknown = fixture.mounts.smbvol(["reconcile", "--connect", "test:///nonexistent/node.xml"])
        #expect(unknown.status == 1)
        // One line from smbvol (libxml2 may add its own warning for the test driver's missing file).
        #expect(unknown.stderr.split(separator: "\n").filter { $0.hasPrefix("smbvol:") }.count == 1, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("smbvol: error: libvirt"), "\(unknown.stderr)")
    }

    /// A test-driver node: each domain (name, uuid, runstate: 1 running, 5 shut off, 6 crashed).
    func node(_ fixture: HookFixture, _ domains: [(String, String, Int)]) throws -> String {
        let entries = domains.map { name, uuid, state in
            """
              <domain type='test'><name>\(name)</name><uuid>\(uuid)</uuid><memory>65536</memory><os><type>hvm</type></os>
                <on_crash>preserve</on_crash><test:runstate>\(state)</test:runstate></domain>
            """
        }
        let path = fixture.mounts.directory + "/node-\(UUID().uuidString.prefix(6)).xml"
        try ("<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n" + entries.joined(separator: "\n") + "\n</node>\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        return "test://" + path
    }

    @Test("reconcile: a crashed domain kept by on_crash=preserve (qemu alive, has an id) keeps its lock; a shut-off one's is dropped and audited")
    func reconcileKeepsCrashedButActive() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let crashed = "11111111-2222-3333-4444-555555555555"
        let off = "99999999-8888-7777-6666-555555555555"
        for (domain, disk, path) in [(crashed, "vda", "web01/disk0.qcow2"), (off, "vdb", "web02/disk0.qcow2")] {
            let result = fixture.mounts.smbvol(["attach", "--domain", domain, "--disk", disk, "--share", "vmstore", "--path", path])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let uri = try node(fixture, [("crashed01", crashed, 6), ("off01", off, 5)])
        let dryRun = fixture.mounts.smbvol(["reconcile", "--connect", uri, "--dry-run"])
        #expect(dryRun.status == 0, "\(dryRun.stderr)")
        #expect(!dryRun.stdout.contains(crashed), "\(dryRun.stdout)")
        #expect(dryRun.stdout.contains("would drop") && dryRun.stdout.contains(off), "\(dryRun.stdout)")

        let real = fixture.mounts.smbvol(["reconcile", "--connect", uri])
        #expect(real.status == 0, "\(real.stderr)")
        #expect(real.stdout.contains("dropped lock") && real.stdout.contains("domain \(off) is not active in libvirt"), "\(real.stdout)")
        let locks = try fixture.mounts.locks()
        #expect(locks.compactMap { $0["domain_uuid"] as? String } == [crashed], "\(locks)")
        #expect(fixture.isMounted, "the crashed domain's share stays mounted")
        let audit = fixture.syslog.lines.filter { $0.contains("event=lock-delete") && $0.contains("decision=drop") }
        #expect(audit.count == 1 && audit.first?.contains(off) == true, "\(audit)")
    }

    @Test("reconcile: a lock a start records again after reconcile asked libvirt is kept (the drop is decided under the store's flock)")
    func reconcileKeepsLockRecordedAfterQuery() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let starting = "11111111-2222-3333-4444-555555555555"
        let attach = fixture.mounts.smbvol(["attach", "--domain", starting, "--disk", "vda", "--share", "vmstore", "--path", "web01/disk0.qcow2"])
        #expect(attach.status == 0, "\(attach.stderr)")
        // libvirt's answer: the domain is shut off (it had not started yet when asked).
        let uri = try node(fixture, [("web01", starting, 5)])

        // Hold the store's flock, as a hook recording a lock does, so reconcile waits for it.
        let lockFile = fixture.mounts.stateDirectory + "/locks.lock"
        let descriptor = open(lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        try #require(descriptor >= 0 && flock(descriptor, LOCK_EX) == 0)
        var held = true
        defer { if held { close(descriptor) } }
        let reconcile = try BackgroundProcess(
            "/usr/bin/timeout",
            ["--kill-after=5", "60", "/usr/bin/nsenter", "-t", "\(fixture.mounts.holder.processIdentifier)", "-m", "--wd=/", "--",
                fixture.mounts.smbvol, "reconcile", "--connect", uri],
            environment: fixture.scrubbedEnvironment)
        // Reconcile opens the flock file only once libvirt has answered: from then on, what a
        // start records is "after the query".
        // Only reconcile's own process tree is looked at (timeout → nsenter/smbvol): a scan of
        // every process on a machine busy with other suites was too slow to see it within the
        // store's 10 s lock wait.
        let waiting = Reliability.waitUntil(.seconds(30)) {
            Self.descendants(of: reconcile.pid).contains { pid in Self.holds(pid: pid, path: lockFile) }
        }
        try #require(waiting, "reconcile never reached the store's flock: \(reconcile.stderr)")

        // The domain starts now: its prepare records the lock again (same id, recorded_at now).
        let storePath = fixture.mounts.stateDirectory + "/locks.json"
        var document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: storePath))) as? [String: Any])
        var locks = try #require(document["locks"] as? [[String: Any]])
        let id = try #require(locks.first?["id"] as? String)
        let now = Date().timeIntervalSince1970
        let whole = Int(now)
        var stamp = Date(timeIntervalSince1970: Double(whole)).ISO8601Format()
        stamp = String(stamp.dropLast()) + String(format: ".%06dZ", Int((now - Double(whole)) * 1_000_000))
        locks[0]["recorded_at"] = stamp
        document["locks"] = locks
        try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]).write(to: URL(fileURLWithPath: storePath), options: .atomic)
        close(descriptor)
        held = false

        let status = reconcile.wait(timeout: .seconds(60))
        #expect(status == 0, "\(reconcile.stderr)")
        #expect(reconcile.stdout.contains("kept lock \(id)") && reconcile.stdout.contains("recorded after libvirt was asked"), "\(reconcile.stdout)")
        #expect(try fixture.mounts.locks().compactMap { $0["id"] as? String } == [id])
        #expect(fixture.isMounted)
    }

    /// Pids of the processes with `path` open (by /proc/PID/fd, compared by device and inode:
    /// the path a process in another mount namespace shows may differ).
    /// `pid` and its descendants, from /proc/PID/task/*/children.
    static func descendants(of pid: Int32) -> [Int32] {
        var result: [Int32] = []
        var queue = [pid]
        while let next = queue.popLast(), result.count < 64 {
            result.append(next)
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(next)/task")) ?? []
            for task in tasks {
                let text = (try? String(contentsOfFile: "/proc/\(next)/task/\(task)/children", encoding: .utf8)) ?? ""
                queue += text.split(separator: " ").compactMap { Int32($0) }
            }
        }
        return result
    }

    /// Whether `pid` has the file at `path` open (by device and inode).
    static func holds(pid: Int32, path: String) -> Bool {
        var wanted = stat()
        guard stat(path, &wanted) == 0 else { return false }
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
        return fds.contains { fd in
            var found = stat()
            return stat("/proc/\(pid)/fd/\(fd)", &found) == 0 && found.st_dev == wanted.st_dev && found.st_ino == wanted.st_ino
        }
    }
}

