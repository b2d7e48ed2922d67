import Foundation
import Testing

/// Hardening (mounts): migration marks, symlinked state, unmounting only what is ours,
/// the symlink-escape check on the mounted share, and option separators in `-o`.
@Suite("hardening: marks, mounts and mount options", .serialized)
struct HardeningMountTests {
    static let live = HardeningFixture.scenario(
        sessions: #"[{"originator": "10.0.0.21", "auth_id": "1001", "idle_seconds": 3}]"#,
        handles: #"[{"path": "/vmstore/web01/disk0.qcow2", "location": "7.1.9", "owner": "1001", "client_address": "10.0.0.21", "num_byte_range_locks": 2}]"#)

    @Test("a failed migrate begin leaves no migration mark: the plain start after it is refused by the live holder")
    func failedMigrateClearsMark() throws {
        let fixture = try HardeningFixture(scenario: Self.live)
        let xml = fixture.domainXML(image: fixture.mountPoint + "/web01/disk0.qcow2")
        try fixture.mounts.writeCredentials(password: "wrong password")  // mount error 13 from smbd
        let migrate = fixture.hook("web01", "migrate", xml: xml)
        #expect(migrate.status == 1, "\(migrate.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixture.mounts.stateDirectory + "/migrations/" + HardeningFixture.uuidA))
        try fixture.mounts.writeCredentials(password: MountLockFixture.smbPassword)
        let start = fixture.hook("web01", "prepare", xml: xml)
        #expect(start.status == 1, "a plain start is a start: \(start.stderr)")
        #expect(start.stderr.contains("10.0.0.21"), "\(start.stderr)")
        #expect(try fixture.closed().isEmpty)
        // A successful migrate begin still marks, and the prepare after it is migration mode.
        #expect(fixture.hook("web01", "migrate", xml: xml).status == 0)
        #expect(fixture.hook("web01", "prepare", xml: xml).status == 0)
    }

    @Test("state_dir and mount_base behind a symlink: one mount however many starts, and release unmounts it")
    func symlinkedStateDirectory() throws {
        let scratch = NSTemporaryDirectory() + "smbvol-symlinked-\(UUID().uuidString.prefix(8))"
        let real = scratch + "-real"
        try FileManager.default.createDirectory(atPath: real, withIntermediateDirectories: true)
        let link = scratch + "-link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        defer {
            try? FileManager.default.removeItem(atPath: link)
            try? FileManager.default.removeItem(atPath: real)
        }
        let fixture = try HardeningFixture(scenario: nil, stateDirectory: link + "/state", mountBase: link + "/mnt")
        let mountPoint = fixture.mountPoint
        #expect(mountPoint.hasPrefix(link), "\(mountPoint)")
        let realMountPoint = real + "/mnt/" + (mountPoint.split(separator: "/").last.map(String.init) ?? "")
        for (name, uuid) in [("web01", HardeningFixture.uuidA), ("web02", HardeningFixture.uuidB)] {
            let start = fixture.hook(name, "prepare", xml: fixture.domainXML(name: name, uuid: uuid, image: mountPoint + "/\(name)/disk0.qcow2"))
            #expect(start.status == 0, "\(start.stderr)")
        }
        let table = (try? String(contentsOfFile: "/proc/\(fixture.mounts.holder.processIdentifier)/mountinfo", encoding: .utf8)) ?? ""
        #expect(table.split(separator: "\n").filter { $0.split(separator: " ").dropFirst(4).first.map(String.init) == realMountPoint }.count == 1, "\(table)")
        #expect(fixture.mounts.logLines("mount-calls.log").count == 1)
        for (name, uuid) in [("web01", HardeningFixture.uuidA), ("web02", HardeningFixture.uuidB)] {
            #expect(fixture.hook(name, "release", "end", xml: fixture.domainXML(name: name, uuid: uuid, image: mountPoint + "/\(name)/disk0.qcow2")).status == 0)
        }
        let after = (try? String(contentsOfFile: "/proc/\(fixture.mounts.holder.processIdentifier)/mountinfo", encoding: .utf8)) ?? ""
        #expect(!after.contains(realMountPoint), "\(after)")
    }

    @Test("a mount program that succeeds but mounts something else: the start fails and gives the mount back (no stacking)")
    func failedStartGivesBackItsMount() throws {
        let fixture = try HardeningFixture(scenario: nil)
        // The real mount.cifs, told to mount another export (//srv/other) than the one asked for.
        let wrapper = fixture.mounts.directory + "/mount-other.cifs"
        try "#!/bin/sh\nexec /sbin/mount.cifs //srv/other \"$2\" \"$3\" \"$4\"\n".write(toFile: wrapper, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper)
        let config = try String(contentsOfFile: fixture.mounts.configPath, encoding: .utf8)
        try ("mount_command = \"\(wrapper)\"\n" + config).write(toFile: fixture.mounts.configPath, atomically: true, encoding: .utf8)
        let mountPoint = fixture.mountPoint
        for _ in 0..<2 {
            let start = fixture.hook("web01", "prepare", xml: fixture.domainXML(image: mountPoint + "/web01/disk0.qcow2"))
            #expect(start.status == 1, "\(start.stderr)")
            #expect(fixture.mounts(at: mountPoint).isEmpty, "\(fixture.mounts.mountsUnderScratch())")
        }
        #expect(try fixture.mounts.locks().isEmpty)
    }

    @Test("unmount SHARE and lock delete refuse a mount that is not the share's, and keep its directory", arguments: [false, true])
    func foreignMountNotUnmounted(_ force: Bool) throws {
        let fixture = try HardeningFixture(scenario: nil)
        let mountPoint = fixture.mountPoint
        let made = fixture.mounts.shell("mkdir -p '\(mountPoint)' && mount -t tmpfs smbvol-test-foreign '\(mountPoint)'")
        #expect(made.status == 0, "\(made.stderr)")
        let unmount = fixture.smbvol(["unmount", "vmstore"] + (force ? ["--force"] : []))
        #expect(unmount.status == 1, "\(unmount.stdout)\(unmount.stderr)")
        #expect(unmount.stderr.contains("refusing to unmount"), "\(unmount.stderr)")
        #expect(unmount.stderr.split(separator: "\n").count == 1, "\(unmount.stderr)")
        #expect(fixture.mounts(at: mountPoint).count == 1)
        let lock = fixture.smbvol(["lock", "add", "--share", "vmstore", "--reason", "backup window"])
        #expect(lock.status == 0, "\(lock.stderr)")
        let delete = fixture.smbvol(["lock", "delete", lock.stdout.trimmingCharacters(in: .whitespacesAndNewlines)])
        #expect(delete.status == 0, "\(delete.stdout)\(delete.stderr)")
        #expect(delete.stderr.contains("refusing to unmount"), "\(delete.stdout)\(delete.stderr)")
        #expect(try fixture.mounts.locks().isEmpty, "the deleted lock is not put back")
        #expect(fixture.mounts(at: mountPoint).count == 1, "the foreign mount stays")
        #expect(fixture.mounts.logLines("umount.log").isEmpty)
    }

    /// Over SMB the server resolves symlinks (Samba's `wide links = no` refuses one that leaves the
    /// share), so the client never sees them; a share served through `local_path` (and a kernel
    /// CIFS mount with unix extensions) does, and there the check must run without a `[cluster]`.
    @Test("no [cluster]: a symlink pointing outside a share served through local_path is refused")
    func symlinkEscapeWithoutCluster() throws {
        let local = NSTemporaryDirectory() + "smbvol-local-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: local + "/web01", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: local) }
        try FileManager.default.createSymbolicLink(atPath: local + "/web01/disk0.qcow2", withDestinationPath: "/etc/hostname")
        let fixture = try HardeningFixture(scenario: nil, tables: "[share.local]\nexport = \"//srv/local\"\nlocal_path = \"\(local)\"\n")
        let start = fixture.hook("web01", "prepare", xml: fixture.domainXML(image: local + "/web01/disk0.qcow2"))
        #expect(start.status == 1, "\(start.stderr)")
        #expect(start.stderr.contains("symlink escapes the share"), "\(start.stderr)")
        #expect(try fixture.mounts.locks().isEmpty)
    }

    @Test("a credentials path with option separators cannot inject mount options (nobrl past allow_nobrl)")
    func credentialsPathInjection() throws {
        let scratch = NSTemporaryDirectory() + "smbvol-creds-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let hostile = scratch + "/a,sec=none,nobrl"
        try "username=svc\npassword=x\n".write(toFile: hostile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: hostile)
        let fixture = try HardeningFixture(scenario: nil, credentials: hostile)
        let start = fixture.hook("web01", "prepare", xml: fixture.domainXML(image: fixture.mountPoint + "/web01/disk0.qcow2"))
        #expect(start.status == 1, "\(start.stderr)")
        #expect(start.stderr.contains("contains ','"), "\(start.stderr)")
        #expect(fixture.mounts.logLines("mount-calls.log").isEmpty, "the mount program never ran")
    }

    @Test("mount options are guarded by effect: cache=singleclient needs allow_nobrl; noperm, file_mode, dir_mode, forceuid, cache=loose, an unknown option are refused, from the config and from connection info")
    func mountOptionsGuardedByEffect() throws {
        let fixture = try HardeningFixture(scenario: nil)
        let configuration = try String(contentsOfFile: fixture.mounts.configPath, encoding: .utf8)
        let xml = fixture.domainXML(image: fixture.mountPoint + "/web01/disk0.qcow2")
        let cases: [(String, [String])] = [
            ("cache=singleclient", ["keeping byte-range locks on this client", "allow_nobrl = true"]),
            ("Cache=SingleClient", ["allow_nobrl = true"]),
            ("noperm", ["permission check"]),
            ("file_mode=0777", ["set by smbvol itself"]),
            ("dir_mode=0777", ["set by smbvol itself"]),
            ("forceuid", ["set by smbvol itself"]),
            ("cache=loose", ["cache=none or cache=strict"]),
            ("frobnicate", ["not one smbvol accepts", "README"]),
        ]
        for (option, texts) in cases {
            try configuration.replacingOccurrences(of: #"options = ["vers=3.1.1", "cache=none"]"#, with: #"options = ["vers=3.1.1", ""# + option + #""]"#)
                .write(toFile: fixture.mounts.configPath, atomically: true, encoding: .utf8)
            let start = fixture.hook("web01", "prepare", xml: xml)
            #expect(start.status == 1, "\(option): \(start.stderr)")
            let lines = start.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(option): \(start.stderr)")
            #expect(start.stderr.contains("mount option \"\(option)\""), "\(option): \(start.stderr)")
            for text in texts { #expect(start.stderr.contains(text), "\(option): \(start.stderr)") }
            #expect(fixture.mounts.logLines("mount-calls.log").isEmpty, "\(option): the mount program never ran")
            #expect(try fixture.mounts.locks().isEmpty)
        }
        // allow_nobrl = true lets cache=singleclient past the guard (the mount program then runs).
        try configuration.replacingOccurrences(
            of: #"options = ["vers=3.1.1", "cache=none"]"#, with: "options = [\"vers=3.1.1\", \"cache=singleclient\"]\nallow_nobrl = true"
        ).write(toFile: fixture.mounts.configPath, atomically: true, encoding: .utf8)
        let allowed = fixture.hook("web01", "prepare", xml: xml)
        #expect(!allowed.stderr.contains("mount option"), "\(allowed.stderr)")
        #expect(fixture.mounts.logLines("mount-calls.log").count == 1, "\(allowed.stderr)")
        _ = fixture.hook("web01", "release", "end", xml: xml)

        // nova connection info: the same guard.
        try configuration.write(toFile: fixture.mounts.configPath, atomically: true, encoding: .utf8)
        let info = fixture.mounts.directory + "/connection-info.json"
        try #"{"driver_volume_type": "smbfs", "data": {"export": "//srv/vmstore", "name": "web02/disk0.qcow2", "options": "-o vers=3.1.1,cache=singleclient,username=svc,password=x"}}"#
            .write(toFile: info, atomically: true, encoding: .utf8)
        let attach = fixture.smbvol(["attach", "--domain", HardeningFixture.uuidB, "--disk", "vdc", "--connection-info", info])
        #expect(attach.status == 1, "\(attach.stderr)")
        #expect(attach.stderr.contains("mount option \"cache=singleclient\"") && attach.stderr.contains("allow_nobrl"), "\(attach.stderr)")
        #expect(fixture.mounts.logLines("mount-calls.log").count == 1, "connection info: the mount program never ran")
    }

    @Test("an export with CR LF (one Swift Character) is refused")
    func exportWithCarriageReturnLineFeed() throws {
        let fixture = try HardeningFixture(scenario: nil, tables: "[share.evil]\nexport = \"//srv/vmstore\\r\\nx\"\ncredentials = \"/nonexistent\"\n")
        let result = fixture.smbvol(["mounts"])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("is not of the form"), "\(result.stderr)")
    }

    @Test("two shares with the same mount_point are refused at configuration load")
    func sameMountPoint() throws {
        let fixture = try HardeningFixture(
            scenario: nil, shareLines: "",
            tables: "[share.a]\nexport = \"//srv/a\"\nmount_point = \"/srv/shared\"\n[share.b]\nexport = \"//srv/b\"\nmount_point = \"/srv/shared\"\n")
        let result = fixture.smbvol(["mounts"])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("already the directory of share"), "\(result.stderr)")
    }
}
