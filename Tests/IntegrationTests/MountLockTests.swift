import Foundation
import Testing

/// The attach half end to end: the real smbvol binary with mount_command at its default, the real
/// /sbin/mount.cifs, a real Samba server, and the CIFS kernel stand-in (tools/cifs-standin) at
/// the mount(2) boundary, inside a private mount namespace.
@Suite("Mounts and attachment locks (private mount namespace)", .serialized)
struct MountLockTests {
    @Test("mount(2) gets mount.cifs's kernel option string (credentials from the file, modes, vers=, config options); the password authenticates; mounts and lock commands agree")
    func exactArgvAndCommands() throws {
        let fixture = try MountLockFixture()
        let attach = fixture.smbvol(fixture.attachArguments(domain: "web01", disk: "vdb"))
        #expect(attach.status == 0, "\(attach.stderr)")
        let mountPoint = MountLockFixture.attachedMountPoint(attach.stdout)
        #expect(mountPoint.hasPrefix(fixture.mountBase + "/srv_vmstore-"))
        // smbvol's argv went through the real mount.cifs: the credentials file became user=,
        // domain= and pass= (commas doubled; redacted by the stand-in's log), and the password
        // (`,` `"` `'` `\\` space, non-ASCII) authenticated against smbd.
        let password = MountLockFixture.smbPassword
        #expect(
            fixture.logLines("mount-calls.log") == [
                "//srv/vmstore \(mountPoint) cifs 0x0 ip=127.0.0.1,unc=\\\\srv\\vmstore,file_mode=0660,dir_mode=0770,vers=3.1.1,"
                    + "cache=none,uid=0,gid=0,user=svc,domain=WORKGROUP,pass=<redacted:\(password.utf8.count)>"
            ])
        #expect(fixture.mountsUnderScratch().count == 1)
        #expect(fixture.mountsUnderScratch().first?.contains(" - fuse.cifs //srv/vmstore ") == true, "\(fixture.mountsUnderScratch())")
        // Through the mount, smbd serves the share to svc (smbnetfs connects on first use).
        #expect(fixture.shell("ls -a '\(mountPoint)'").status == 0)
        let sessions = try fixture.samba.sessionUsers()
        #expect(sessions.contains("svc"), "\(sessions)")
        let commandLines = Reliability.commandLines().values
        #expect(!commandLines.contains { $0.contains(password) })

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

        #expect(fixture.smbvol(fixture.detachArguments(domain: "web01", disk: "vdb")).status == 0)
        #expect(fixture.mountsUnderScratch().count == 1, "the operator lock keeps it mounted")
        #expect(fixture.smbvol(["lock", "delete", holdID]).status == 0)
        #expect(fixture.mountsUnderScratch().isEmpty)
        #expect(fixture.logLines("umount.log").count == 1)
    }

    @Test("20 processes attaching 20 domains at once: one mount, 20 locks; releases in random order unmount once, after the last")
    func concurrentAttachAndRelease() throws {
        let fixture = try MountLockFixture()
        let statuses = try fixture.smbvolConcurrently((1...20).map {
            fixture.attachArguments(domain: "vm\($0)", disk: "vda")
        })
        #expect(statuses == Array(repeating: 0, count: 20))
        #expect(fixture.logLines("mount-calls.log").count == 1)
        #expect(try fixture.locks().count == 20)
        #expect(fixture.mountsUnderScratch().count == 1)

        for (index, domain) in (1...20).shuffled().enumerated() {
            let release = fixture.smbvol(fixture.detachArguments(domain: "vm\(domain)"))
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
            fixture.attachArguments(domain: "vm\($0)")
        })
        #expect(attaches == Array(repeating: 0, count: 20))
        #expect(try fixture.locks().count == 20)
        let releases = try fixture.smbvolConcurrently((1...20).shuffled().map { fixture.detachArguments(domain: "vm\($0)") })
        #expect(releases == Array(repeating: 0, count: 20))
        #expect(fixture.mountsUnderScratch().isEmpty)
        #expect(fixture.logLines("umount.log").count == 1)
        #expect(fixture.logLines("mount-calls.log").count == 1)
    }

    @Test("a release interleaved with an attach never unmounts under a lock")
    func interleavedReleaseAndAttach() throws {
        let fixture = try MountLockFixture()
        #expect(fixture.smbvol(fixture.attachArguments(domain: "vm0")).status == 0)
        for round in 1...12 {
            let release = fixture.detachArguments(domain: "vm\(round - 1)")
            let attach = fixture.attachArguments(domain: "vm\(round)")
            let statuses = try fixture.smbvolConcurrently(round.isMultiple(of: 2) ? [release, attach] : [attach, release])
            #expect(statuses == [0, 0])
            let locks = try fixture.locks()
            #expect(locks.map { $0["domain_uuid"] as? String } == [MountLockFixture.uuid(of: "vm\(round)")], "round \(round)")
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

    @Test("hot-attach with nova-style connection info: the password never appears in any /proc/*/cmdline; its credentials file is 0600 and removed; mount(2) gets the nova options")
    func passwordNeverOnCommandLine() throws {
        let fixture = try MountLockFixture()
        let secret = "Pw\\\"'\(UUID().uuidString.prefix(12))ü"  // nova's options cannot carry `,` or a space
        try fixture.samba.setPassword("nova", secret)
        let info = fixture.directory + "/connection.json"
        let object: [String: Any] = [
            "driver_volume_type": "smbfs",
            "data": ["export": "//srv/volumes", "name": "volume-1.qcow2", "format": "qcow2", "options": "-o vers=3.0,username=nova,password=\(secret)"],
        ]
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: info))
        // smbd stopped for a moment: the mount waits for the server (as over a slow network), long
        // enough for the scan below to see mount.cifs at work.
        fixture.samba.pause()
        defer { fixture.samba.resume() }

        let attach = Process()
        attach.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
        attach.arguments = [
            "-t", "\(fixture.holder.processIdentifier)", "-m", "--", fixture.smbvol, "attach", "--connection-info", info,
            "--domain", "web01", "--connect", fixture.domainsURI, "--disk", "vdb",
        ]
        attach.environment = fixture.environment
        attach.standardOutput = FileHandle.nullDevice
        attach.standardError = FileHandle.nullDevice
        try attach.run()

        var sawMountProgram = false
        var sawCredentialsFile = false
        let credentialsDirectory = fixture.stateDirectory + "/credentials"
        let started = ContinuousClock.now
        while attach.isRunning {
            if ContinuousClock.now - started > .milliseconds(1500) { fixture.samba.resume() }
            for (pid, commandLine) in Reliability.commandLines() {
                #expect(!commandLine.contains(secret), "password in the command line of pid \(pid)")
                if commandLine.contains(fixture.mountProgram) { sawMountProgram = true }
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
        // The nova options reached the kernel; the password (which authenticated) never reached a log.
        #expect(
            fixture.kernelOptionStrings == [
                "ip=127.0.0.1,unc=\\\\srv\\volumes,file_mode=0660,dir_mode=0770,vers=3.0,uid=0,gid=0,user=nova,pass=<redacted:\(secret.utf8.count)>"
            ], "\(fixture.kernelOptionStrings)")
        #expect(fixture.logLines("mount-calls.log").allSatisfy { !$0.contains(secret) })
        let volumes = fixture.kernelOptionStrings.isEmpty ? "" : (fixture.logLines("mount-calls.log").first?.split(separator: " ")[1]).map(String.init) ?? ""
        #expect(fixture.shell("ls -a '\(volumes)'").status == 0)
        let sessions = try fixture.samba.sessionUsers()
        #expect(sessions.contains("nova"), "\(sessions)")
    }

    @Test("real mount failures (wrong password, no common dialect, no such share, hung and stopped smbd) are one clear line naming the mount error; nothing is left mounted, locked or running")
    func failures() throws {
        let fixture = try MountLockFixture(mountTimeoutSeconds: 2)
        let attachArguments = fixture.attachArguments(domain: "web01")
        func expectNothingLeft(_ label: String) throws {
            #expect(try fixture.locks().isEmpty, "\(label): a lock was left")
            #expect(fixture.mountsUnderScratch().isEmpty, "\(label): something was left mounted")
            let credentials = (try? FileManager.default.contentsOfDirectory(atPath: fixture.stateDirectory + "/credentials")) ?? []
            #expect(credentials.isEmpty, "\(label): credentials left: \(credentials)")
            #expect(Reliability.waitUntil(.seconds(5)) { !Reliability.processRunning(matching: fixture.mountProgram) }, "\(label): mount.cifs still running")
            #expect(fixture.fuseClients().isEmpty, "\(label): a FUSE client was left")
        }
        func expectRefused(_ label: String, _ texts: [String]) throws {
            let result = fixture.smbvol(attachArguments)
            #expect(result.status == 1, "\(label): \(result)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(label): \(result.stderr)")
            for text in texts { #expect(result.stderr.contains(text), "\(label): \(result.stderr)") }
            try expectNothingLeft(label)
        }
        let config = try String(contentsOfFile: fixture.configPath, encoding: .utf8)

        try fixture.writeCredentials(password: "wrong password")
        try expectRefused("wrong password", ["mount error 13", "permission denied", "credentials file"])
        try fixture.writeCredentials(password: MountLockFixture.smbPassword)

        try config.replacingOccurrences(of: "vers=3.1.1", with: "vers=1.0").write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        // SMB1 is refused by the option guard (its Unix extensions override smbvol's
        // ownership and make locks advisory) before the mount program runs.
        try expectRefused("SMB1 refused by the option guard", ["mount option \"vers=1.0\" is refused", "SMB1", "use vers=3.1.1"])

        try config.replacingOccurrences(of: "export = \"//srv/vmstore\"", with: "export = \"//srv/nosuch\"")
            .write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let missing = fixture.smbvol(attachArguments)
        #expect(missing.status == 1 && missing.stderr.contains("mount error 2") && missing.stderr.contains("no such share"), "\(missing)")
        try config.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)

        fixture.samba.pause()
        let start = ContinuousClock.now
        let hung = fixture.smbvol(attachArguments)
        #expect(ContinuousClock.now - start < .seconds(10))
        fixture.samba.resume()
        #expect(hung.status == 1)
        #expect(hung.stderr.contains("did not finish within 2 s"), "\(hung.stderr)")
        try expectNothingLeft("hung smbd")

        fixture.samba.stop()
        try expectRefused("smbd stopped", ["mount error 111", "connection refused"])
    }

    @Test("a foreign mount at the share's mount point is refused, naming both sources")
    func foreignMount() throws {
        let fixture = try MountLockFixture()
        let attach = fixture.attachArguments(domain: "web01")
        let first = fixture.smbvol(attach)
        let mountPoint = MountLockFixture.attachedMountPoint(first.stdout)
        _ = fixture.smbvol(fixture.detachArguments(domain: "web01"))
        let tmpfs = fixture.shell("mkdir -p '\(mountPoint)' && mount -t tmpfs //other/thing '\(mountPoint)'")
        #expect(tmpfs.status == 0, "\(tmpfs.stderr)")
        let refused = fixture.smbvol(attach)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("//other/thing") && refused.stderr.contains("//srv/vmstore"), "\(refused.stderr)")
    }
}
