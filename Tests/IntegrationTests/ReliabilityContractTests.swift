import Foundation
import SmbvolTestSupport
import Synchronization
import Testing

/// The hook's contract with libvirt (never loads libvirt, never writes stdout), secrets never
/// leaving their 0600 files, and a busy unmount on release.
@Suite("Reliability: hook contract, secrets, busy unmount", .serialized)
struct ReliabilityContractTests {
    @Test("the hook never maps libvirt (LD_DEBUG=libs) and writes nothing on stdout, for every operation incl. migrate and restore")
    func hookNeverLoadsLibvirt() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let web01 = fixture.domainXML()
        let web02 = fixture.domainXML(name: "web02", uuid: Reliability.web02)
        let debug = ["LD_DEBUG": "libs"]
        let runs: [(String, String, String, String)] = [
            ("web01", "prepare", "begin", web01), ("web02", "migrate", "begin", web02), ("web02", "prepare", "begin", web02),
            ("web02", "started", "begin", web02), ("web01", "reconnect", "begin", web01), ("web01", "restore", "begin", web01),
            ("web01", "stopped", "end", web01), ("web01", "release", "end", web01), ("web02", "release", "end", web02),
        ]
        for (name, operation, subOperation, xml) in runs {
            let result = fixture.hook(name, operation, subOperation, xml: xml, extraEnvironment: debug)
            let label = "\(operation) \(subOperation)"
            #expect(result.status == 0, "\(label): \(result.stderr.suffix(500))")
            #expect(result.stdout.isEmpty, "\(label) wrote stdout: \(result.stdout)")
            #expect(result.stderr.contains("calling init:"), "\(label): LD_DEBUG produced nothing, the check would prove nothing")
            let libvirtLines = result.stderr.split(separator: "\n").filter { $0.contains("libvirt") }
            #expect(libvirtLines.isEmpty, "\(label) loaded libvirt: \(libvirtLines.prefix(3))")
        }
        #expect(try fixture.mounts.locks().isEmpty)
        #expect(!fixture.isMounted)
        #expect(try fixture.simulator.state().closedLocations == ["7.1.1"])

        // The control: reconcile does load libvirt (dlopen), and LD_DEBUG shows it.
        let uri = try Reliability.testDriverURI(in: fixture.mounts.directory, running: [])
        let control = fixture.mounts.smbvol(["reconcile", "--connect", uri, "--dry-run"], extraEnvironment: debug)
        #expect(control.status == 0, "\(control.stderr.suffix(500))")
        #expect(control.stderr.contains("libvirt.so"), "LD_DEBUG did not show libvirt for reconcile")
    }

    @Test("no SMB password, Qumulo password or bearer token in any smbvol/mount.cifs argv or environment, syslog, debug output or state file")
    func secretsNeverLeak() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let qumuloPassword = "hook-password"
        let smbPassword = MountLockFixture.smbPassword  // the configured share's credentials file
        let infoPassword = "Ci-\(UUID().uuidString.prefix(12))"
        let xml = fixture.domainXML()
        try xml.write(toFile: fixture.mounts.directory + "/web01.xml", atomically: true, encoding: .utf8)
        let info = fixture.mounts.directory + "/connection-info.json"
        try #"{"driver_volume_type": "smbfs", "data": {"export": "//srv/vmstore", "name": "web02/disk0.qcow2", "format": "qcow2", "options": "-o vers=3.1.1,username=nova,password=\#(infoPassword)"}}"#
            .write(toFile: info, atomically: true, encoding: .utf8)
        try fixture.mounts.samba.setPassword("nova", infoPassword)
        // Slow enough for the scanner to see every process at work.
        try fixture.simulator.addFault(#"{"kind": "latency", "milliseconds": 200, "path_prefix": "/v1/"}"#)

        let stop = Atomic<Bool>(false)
        let scannerStopped = Atomic<Bool>(false)
        let seen = Mutex<Set<String>>([])
        let scanned = Atomic<Int>(0)
        let scanner = Thread {
            while !stop.load(ordering: .sequentiallyConsistent) {
                for (pid, commandLine) in Reliability.commandLines()
                where commandLine.contains("smbvol") || commandLine.contains("mount.cifs") {
                    guard pid != getpid() else { continue }
                    let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ")
                        .map { String(decoding: $0.map { $0 == 0 ? UInt8(ascii: "\n") : $0 }, as: UTF8.self) } ?? ""
                    seen.withLock { _ = $0.insert("pid \(pid) argv: \(commandLine)\nenv: \(environment)") }
                    if commandLine.contains("mount.cifs") { scanned.add(1, ordering: .relaxed) }
                }
                usleep(10_000)
            }
            scannerStopped.store(true, ordering: .sequentiallyConsistent)
        }
        scanner.start()
        let start = fixture.hook("web01", "prepare", "begin", xml: xml)
        let attach = fixture.mounts.smbvol([
            "attach", "--domain", Reliability.web02, "--disk", "vdb", "--connection-info", info, "--debug",
        ])
        let check = fixture.mounts.smbvol(["check", "--xml", fixture.mounts.directory + "/web01.xml", "--debug"])
        stop.store(true, ordering: .sequentiallyConsistent)
        #expect(waitUntil(timeout: .seconds(10)) { scannerStopped.load(ordering: .sequentiallyConsistent) }, "the scanner did not stop")
        #expect(start.status == 0, "\(start.stderr)")
        #expect(attach.status == 0, "\(attach.stderr)")
        #expect(check.status == 0, "\(check.stderr)")
        #expect(attach.stderr.contains("debug"), "debug logging produced nothing to check")
        #expect(scanned.load(ordering: .relaxed) > 0, "the scanner never saw the mount program")

        let storePath = fixture.mounts.stateDirectory + "/tokens/sim"
        let stored = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: storePath))) as? [String: Any]
        let token = try #require(stored?["bearer_token"] as? String)
        let secrets = [qumuloPassword, smbPassword, infoPassword, token]

        func leaks(_ text: String) -> [String] { secrets.filter { text.contains($0) } }
        for snapshot in seen.withLock({ $0 }) { #expect(leaks(snapshot).isEmpty, "secret in \(snapshot)") }
        for line in fixture.syslog.lines { #expect(leaks(line).isEmpty, "secret in syslog: \(line)") }
        for (label, output) in [("hook", start.stderr + start.stdout), ("attach", attach.stderr + attach.stdout), ("check", check.stderr + check.stdout)] {
            #expect(leaks(output).isEmpty, "secret in \(label) output")
        }
        #expect(fixture.mounts.logLines("mount-calls.log").allSatisfy { leaks($0).isEmpty })

        // Every file under the state dir: secrets only in the token store, 0600 in a 0700 directory.
        let state = fixture.mounts.stateDirectory
        let enumerator = try #require(FileManager.default.enumerator(atPath: state))
        var files = 0
        for case let relative as String in enumerator {
            let path = state + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            files += 1
            let content = String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
            let found = leaks(content)
            guard !found.isEmpty else { continue }
            #expect(path == storePath && found == [token], "\(path) holds a secret")
            #expect(info.st_mode & 0o777 == 0o600, "\(path) mode \(String(info.st_mode & 0o777, radix: 8))")
            var parent = stat()
            #expect(stat((path as NSString).deletingLastPathComponent, &parent) == 0 && parent.st_mode & 0o777 == 0o700)
        }
        #expect(files >= 2, "expected the lock store and the token store")
        let credentials = (try? FileManager.default.contentsOfDirectory(atPath: state + "/credentials")) ?? []
        #expect(credentials.isEmpty, "temporary credentials left: \(credentials)")
    }

    @Test("a world-readable password_file or share credentials file is refused with `chmod 600` in the one-line message")
    func worldReadableSecrets() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let xml = fixture.domainXML()
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: fixture.passwordFile)
        let start = fixture.hook("web01", "prepare", "begin", xml: xml)
        #expect(start.status == 1)
        #expect(start.stderr.split(separator: "\n").count == 1, "\(start.stderr)")
        #expect(start.stderr.contains("chmod 600") && start.stderr.contains(fixture.passwordFile), "\(start.stderr)")
        #expect(try fixture.simulator.state().logins == 0, "the password must not be used")
        #expect(try fixture.mounts.locks().isEmpty)
        #expect(!fixture.isMounted)
        let listing = fixture.mounts.smbvol(["handles", "list", "--cluster", "sim"])
        #expect(listing.status == 1 && listing.stderr.contains("chmod 600"), "\(listing.stderr)")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: fixture.passwordFile)

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: fixture.mounts.credentials)
        let mountsBefore = fixture.mounts.logLines("mount-calls.log").count
        let mount = fixture.hook("web01", "prepare", "begin", xml: xml)
        #expect(mount.status == 1)
        #expect(mount.stderr.split(separator: "\n").count == 1, "\(mount.stderr)")
        #expect(mount.stderr.contains("chmod 600") && mount.stderr.contains(fixture.mounts.credentials), "\(mount.stderr)")
        #expect(fixture.mounts.logLines("mount-calls.log").count == mountsBefore, "the mount program must not run")
        #expect(!fixture.isMounted)
        #expect(try fixture.mounts.locks().isEmpty)
    }

    @Test("EBUSY on release: unmount retried 3 times, the share stays mounted, release exits 0; reconcile unmounts once idle")
    func busyUnmount() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let xml = fixture.domainXML()
        #expect(fixture.hook("web01", "prepare", "begin", xml: xml).status == 0)
        let mountPoint = fixture.mountPoint
        let busy = try BackgroundProcess(
            "/usr/bin/nsenter",
            ["-t", "\(fixture.mounts.holder.processIdentifier)", "-m", "--", "/bin/sh", "-c", "cd \"$0\" && exec sleep 30", mountPoint],
            environment: ["PATH": "/usr/bin:/bin"])
        #expect(Reliability.waitUntil(.seconds(5)) {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(busy.pid)/cwd")) == mountPoint
        }, "the busy process never entered the mount point")

        let release = fixture.hook("web01", "release", "end", xml: xml, timeout: .seconds(30))
        #expect(release.status == 0 && release.stdout.isEmpty && release.stderr.isEmpty, "\(release)")
        #expect(fixture.mounts.logLines("umount.log").count == 4, "one try and 3 retries: \(fixture.mounts.logLines("umount.log"))")
        #expect(fixture.isMounted, "a busy share stays mounted (never lazily unmounted by the hook)")
        let audit = fixture.syslog.lines
        #expect(audit.contains { $0.contains("busy") }, "\(audit)")
        // docs/operations.md, Failure behaviour: "the share stays mounted and the lock record is kept when it stays busy".
        let locksAfterBusyRelease = try fixture.mounts.locks().count
        #expect(locksAfterBusyRelease == 1)

        busy.kill9()
        let uri = try Reliability.testDriverURI(in: fixture.mounts.directory, running: [])
        let reconcile = fixture.mounts.smbvol(["reconcile", "--connect", uri])
        #expect(reconcile.status == 0, "\(reconcile.stderr)")
        #expect(!fixture.isMounted)
        #expect(try fixture.mounts.locks().isEmpty)
    }
}
