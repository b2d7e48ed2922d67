import Foundation
import Testing

/// The attach half end to end: the real smbvol binary, the real mount code path, and the
/// stand-in mount program (tools/fake-mount.cifs), inside a private mount namespace.
@Suite("Mounts and attachment locks (private mount namespace)", .serialized)
struct MountLockTests {
    @Test("the stand-in gets the exact argv mount.cifs would; mounts and lock commands agree")
    func exactArgvAndCommands() throws {
        let fixture = try MountLockFixture()
        let attach = fixture.smbvol(["debug-attach", "--share", "vmstore", "--domain-uuid", "u1", "--domain-name", "web01", "--disk", "vdb"])
        #expect(attach.status == 0, "\(attach.stderr)")
        let mountPoint = String(attach.stdout.split(separator: " ").first ?? "")
        #expect(mountPoint.hasPrefix(fixture.mountBase + "/srv_vmstore-"))
        #expect(
            fixture.logLines("mount.log") == [
                "//srv/vmstore \(mountPoint) -o credentials=\(fixture.credentials),uid=0,gid=0,file_mode=0660,dir_mode=0770,vers=3.1.1,cache=none"
            ])
        #expect(fixture.mountsUnderScratch().count == 1)

        let mounts = fixture.smbvol(["mounts", "--json"])
        let document = try JSONSerialization.jsonObject(with: Data(mounts.stdout.utf8)) as? [String: Any]
        let entry = try #require((document?["mounts"] as? [[String: Any]])?.first)
        #expect(entry["share"] as? String == "vmstore")
        #expect(entry["export"] as? String == "//srv/vmstore")
        #expect(entry["mount_point"] as? String == mountPoint)
        #expect(entry["mounted"] as? Bool == true)
        let lock = try #require((entry["locks"] as? [[String: Any]])?.first)
        for key in ["id", "domain_uuid", "domain_name", "disk", "reason", "context", "created_at"] {
            #expect(lock[key] != nil, "missing \(key)")
        }
        #expect(lock["reason"] as? String == "domain web01 disk vdb")

        let hold = fixture.smbvol(["lock", "add", "--share", "vmstore", "--reason", "backup window"])
        #expect(hold.status == 0)
        let holdID = hold.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(holdID.count == 16)
        let refused = fixture.smbvol(["unmount", "vmstore"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("backup window"))
        #expect(refused.stderr.contains("domain web01 disk vdb"))

        #expect(fixture.smbvol(["debug-release", "--domain-uuid", "u1"]).status == 0)
        #expect(fixture.mountsUnderScratch().count == 1, "the operator lock keeps it mounted")
        #expect(fixture.smbvol(["lock", "delete", holdID]).status == 0)
        #expect(fixture.mountsUnderScratch().isEmpty)
        #expect(fixture.logLines("umount.log").count == 1)
    }

    @Test("20 processes attaching 20 domains at once: one mount, 20 locks; releases in random order unmount once, after the last")
    func concurrentAttachAndRelease() throws {
        let fixture = try MountLockFixture()
        let statuses = try fixture.smbvolConcurrently((1...20).map {
            ["debug-attach", "--share", "vmstore", "--domain-uuid", "uuid-\($0)", "--domain-name", "vm\($0)", "--disk", "vda"]
        })
        #expect(statuses == Array(repeating: 0, count: 20))
        #expect(fixture.logLines("mount.log").count == 1)
        #expect(try fixture.locks().count == 20)
        #expect(fixture.mountsUnderScratch().count == 1)

        for (index, domain) in (1...20).shuffled().enumerated() {
            let release = fixture.smbvol(["debug-release", "--domain-uuid", "uuid-\(domain)"])
            #expect(release.status == 0, "\(release.stderr)")
            let expectedMounts = index == 19 ? 0 : 1
            #expect(fixture.mountsUnderScratch().count == expectedMounts, "after releasing \(index + 1) of 20")
        }
        #expect(fixture.logLines("umount.log").count == 1)
        #expect(try fixture.locks().isEmpty)
    }

    @Test("20 concurrent releases unmount exactly once")
    func concurrentReleases() throws {
        let fixture = try MountLockFixture()
        let attaches = try fixture.smbvolConcurrently((1...20).map {
            ["debug-attach", "--share", "vmstore", "--domain-uuid", "uuid-\($0)", "--domain-name", "vm\($0)"]
        })
        #expect(attaches == Array(repeating: 0, count: 20))
        #expect(try fixture.locks().count == 20)
        let releases = try fixture.smbvolConcurrently((1...20).shuffled().map { ["debug-release", "--domain-uuid", "uuid-\($0)"] })
        #expect(releases == Array(repeating: 0, count: 20))
        #expect(fixture.mountsUnderScratch().isEmpty)
        #expect(fixture.logLines("umount.log").count == 1)
        #expect(fixture.logLines("mount.log").count == 1)
    }

    @Test("a release interleaved with an attach never unmounts under a lock")
    func interleavedReleaseAndAttach() throws {
        let fixture = try MountLockFixture()
        #expect(fixture.smbvol(["debug-attach", "--share", "vmstore", "--domain-uuid", "d0", "--domain-name", "vm0"]).status == 0)
        for round in 1...12 {
            let release = ["debug-release", "--domain-uuid", "d\(round - 1)"]
            let attach = ["debug-attach", "--share", "vmstore", "--domain-uuid", "d\(round)", "--domain-name", "vm\(round)"]
            let statuses = try fixture.smbvolConcurrently(round.isMultiple(of: 2) ? [release, attach] : [attach, release])
            #expect(statuses == [0, 0])
            let locks = try fixture.locks()
            #expect(locks.map { $0["domain_uuid"] as? String } == ["d\(round)"], "round \(round)")
            #expect(fixture.mountsUnderScratch().count == 1, "round \(round): a lock exists, so the share must be mounted")
        }
    }

    @Test(
        "kill -9 in the middle of a store change leaves the old or the new state, and the next command works",
        arguments: [("holding-lock", 0), ("after-temp-write", 0), ("after-rename", 1)])
    func crashPoints(point: String, added: Int) throws {
        let fixture = try MountLockFixture()
        #expect(fixture.smbvol(["lock", "add", "--share", "vmstore", "--reason", "first"]).status == 0)
        let crashed = fixture.smbvol(
            ["lock", "add", "--share", "vmstore", "--reason", "second"], extraEnvironment: ["SMBVOL_TEST_CRASH_POINT": point])
        #expect(crashed.status != 0 && crashed.status != 1, "the process should have been killed: \(crashed)")
        #expect(try fixture.locks().count == 1 + added)
        let next = fixture.smbvol(["lock", "add", "--share", "vmstore", "--reason", "third"])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try fixture.locks().count == 2 + added)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixture.stateDirectory).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test("a password from connection info never appears in any /proc/*/cmdline; its credentials file is 0600 and removed")
    func passwordNeverOnCommandLine() throws {
        let fixture = try MountLockFixture()
        try FileManager.default.createDirectory(atPath: fixture.root + "/srv/volumes", withIntermediateDirectories: true)
        let secret = "Pw-\(UUID().uuidString.prefix(12))"
        let info = fixture.directory + "/connection.json"
        try """
            {"driver_volume_type": "smbfs", "data": {"export": "//srv/volumes", "name": "volume-1.qcow2", "format": "qcow2",
             "options": "-o vers=3.1.1,username=svc,password=\(secret)"}}
            """.write(toFile: info, atomically: true, encoding: .utf8)
        try fixture.mark("delay", content: "2\n")

        let attach = Process()
        attach.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
        attach.arguments = [
            "-t", "\(fixture.holder.processIdentifier)", "-m", "--", fixture.smbvol, "debug-attach", "--connection-info", info,
            "--domain-uuid", "u1", "--domain-name", "web01",
        ]
        attach.environment = fixture.environment
        attach.standardOutput = FileHandle.nullDevice
        attach.standardError = FileHandle.nullDevice
        try attach.run()

        var sawMountProgram = false
        var sawCredentialsFile = false
        let credentialsDirectory = fixture.stateDirectory + "/credentials"
        while attach.isRunning {
            for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where pid.allSatisfy(\.isNumber) {
                guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { continue }
                let commandLine = String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
                #expect(!commandLine.contains(secret), "password in the command line of pid \(pid)")
                if commandLine.contains(fixture.directory + "/bin/mount.cifs") { sawMountProgram = true }
            }
            for name in (try? FileManager.default.contentsOfDirectory(atPath: credentialsDirectory)) ?? [] {
                let attributes = try? FileManager.default.attributesOfItem(atPath: credentialsDirectory + "/" + name)
                if let mode = attributes?[.posixPermissions] as? Int {
                    sawCredentialsFile = true
                    #expect(mode == 0o600)
                }
            }
            usleep(20_000)
        }
        #expect(attach.terminationStatus == 0)
        #expect(sawMountProgram)
        #expect(sawCredentialsFile)
        #expect(try FileManager.default.contentsOfDirectory(atPath: credentialsDirectory).isEmpty)
        let directoryMode = try FileManager.default.attributesOfItem(atPath: credentialsDirectory)[.posixPermissions] as? Int
        #expect(directoryMode == 0o700)
        #expect(fixture.logLines("mount.log").allSatisfy { !$0.contains(secret) })
    }

    @Test("mount failures are one clear line; a hanging mount is killed at mount_timeout_seconds and leaves nothing behind")
    func failures() throws {
        let fixture = try MountLockFixture(mountTimeoutSeconds: 2)
        let attachArguments = ["debug-attach", "--share", "vmstore", "--domain-uuid", "u1", "--domain-name", "web01"]
        for (marker, text) in [("fail-13", "permission denied"), ("fail-112", "host down"), ("fail-2", "no such share")] {
            try fixture.mark(marker)
            let result = fixture.smbvol(attachArguments)
            #expect(result.status == 1)
            #expect(result.stderr.contains(text), "\(result.stderr)")
            try FileManager.default.removeItem(atPath: fixture.root + "/" + marker)
        }
        try fixture.mark("hang")
        let start = ContinuousClock.now
        let hung = fixture.smbvol(attachArguments)
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(hung.status == 1)
        #expect(hung.stderr.contains("did not finish within 2 s"), "\(hung.stderr)")
        #expect(try fixture.locks().isEmpty)
        // "[m]" keeps the pattern from matching the command lines that carry it (runProcess's
        // timeout wrapper).
        let leftovers = runProcess("/usr/bin/pgrep", ["-f", fixture.directory + "/bin/[m]ount.cifs"], timeout: .seconds(5))
        #expect(leftovers.stdout.isEmpty, "stand-in still running: \(leftovers.stdout)")
    }

    @Test("a foreign mount at the share's mount point is refused, naming both sources")
    func foreignMount() throws {
        let fixture = try MountLockFixture()
        let attach = ["debug-attach", "--share", "vmstore", "--domain-uuid", "u1", "--domain-name", "web01"]
        let first = fixture.smbvol(attach)
        let mountPoint = String(first.stdout.split(separator: " ").first ?? "")
        _ = fixture.smbvol(["debug-release", "--domain-uuid", "u1"])
        let tmpfs = fixture.shell("mkdir -p '\(mountPoint)' && mount -t tmpfs //other/thing '\(mountPoint)'")
        #expect(tmpfs.status == 0, "\(tmpfs.stderr)")
        let refused = fixture.smbvol(attach)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("//other/thing") && refused.stderr.contains("//srv/vmstore"), "\(refused.stderr)")
    }
}
