import Foundation
import Testing

/// The mount table lists real paths: with `mount_base` behind a symlink, every command that asks
/// whether a share is mounted (start, check, mounts, holders, heartbeat) must resolve it first —
/// through the one mount-state query — or a share the heartbeat writes to shows as not mounted.
@Suite("symlinked mount_base: one answer to \"is it mounted?\"", .serialized)
struct SymlinkedMountBaseTests {
    @Test("a share mounted under a symlinked mount_base: the start, mounts, holders and the heartbeat all see it mounted")
    func mountsHoldersAndHeartbeatAgree() throws {
        let fixture = try MountLockFixture()
        let linkedBase = fixture.directory + "/mnt-link"
        try FileManager.default.createDirectory(atPath: fixture.mountBase, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: linkedBase, withDestinationPath: fixture.mountBase)
        let configuration = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
            .replacingOccurrences(of: "mount_base = \"\(fixture.mountBase)\"", with: "mount_base = \"\(linkedBase)\"\nhost_id = \"symlinked-host\"")
        try configuration.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)

        // A start (hot-attach) mounts the share under the configured, symlinked spelling.
        let attach = fixture.smbvol(fixture.attachArguments(domain: "web01", disk: "vdb"))
        #expect(attach.status == 0, "\(attach.stderr)")
        #expect(MountLockFixture.attachedMountPoint(attach.stdout).hasPrefix(linkedBase + "/"), "\(attach.stdout)")
        #expect(fixture.mountsUnderScratch().count == 1, "\(fixture.mountsUnderScratch())")
        // Asked again, the start finds it mounted (by its real path) instead of mounting on top.
        let again = fixture.smbvol(fixture.attachArguments(domain: "vm1", disk: "vdb"))
        #expect(again.status == 0, "\(again.stderr)")
        #expect(fixture.mountsUnderScratch().count == 1, "\(fixture.mountsUnderScratch())")

        let mounts = fixture.smbvol(["mounts", "--json"])
        #expect(mounts.status == 0, "\(mounts.stderr)")
        let mountsDocument = try JSONSerialization.jsonObject(with: Data(mounts.stdout.utf8)) as? [String: Any]
        let mount = try #require((mountsDocument?["mounts"] as? [[String: Any]])?.first)
        #expect(mount["mounted"] as? Bool == true, "\(mounts.stdout)")

        let beat = fixture.smbvol(["heartbeat", "--once"])
        #expect(beat.status == 0, "\(beat.stderr)")

        let holders = fixture.smbvol(["holders", "--json"])
        #expect(holders.status == 0, "\(holders.stderr)")
        let holdersDocument = try JSONSerialization.jsonObject(with: Data(holders.stdout.utf8)) as? [String: Any]
        let share = try #require((holdersDocument?["shares"] as? [[String: Any]])?.first)
        #expect(share["mounted"] as? Bool == true, "\(holders.stdout)")
        let hosts = share["hosts"] as? [[String: Any]] ?? []
        #expect(hosts.map { $0["host_id"] as? String } == ["symlinked-host"], "\(holders.stdout)")
        #expect(hosts.first?["fresh"] as? Bool == true)
        #expect(hosts.first?["this_host"] as? Bool == true)
    }
}
