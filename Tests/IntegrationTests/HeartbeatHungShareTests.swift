import Foundation
import Testing

/// Through the binary over real mounts (mount.cifs, smbd and the CIFS
/// stand-in): a share whose FUSE client is stopped hangs every access. The heartbeat must still
/// beat the other share, within its bound; `holders` must answer; `unmount --force` of the hung
/// share must not wait for the heartbeat service.
@Suite("heartbeat with a hung share", .serialized)
struct HeartbeatHungShareTests {
    /// Two configured shares (vmstore, volumes), each with a domain attached, beating every 2 s.
    static func fixture() throws -> (MountLockFixture, vmstore: String, volumes: String) {
        let fixture = try MountLockFixture()
        let text = try String(contentsOfFile: fixture.configPath, encoding: .utf8)
        try """
            host_id = "host-a"
            local_addresses = ["10.0.0.1"]
            heartbeat_interval_seconds = 2
            \(text)
            [share.volumes]
            export = "//srv/volumes"
            credentials = "\(fixture.credentials)"
            options = ["vers=3.1.1", "cache=none"]
            """.write(toFile: fixture.configPath, atomically: true, encoding: .utf8)
        let first = fixture.smbvol(fixture.attachArguments(share: "vmstore", domain: "web01"))
        try #require(first.status == 0, "\(first.stderr)")
        let second = fixture.smbvol(fixture.attachArguments(share: "volumes", domain: "vm0"))
        try #require(second.status == 0, "\(second.stderr)")
        return (fixture, MountLockFixture.attachedMountPoint(first.stdout), MountLockFixture.attachedMountPoint(second.stdout))
    }

    /// Runs `body`, expecting it to finish within `bound`.
    static func timed<T>(_ label: String, within bound: Duration, _ body: () throws -> T) rethrows -> T {
        let started = ContinuousClock.now
        let result = try body()
        let took = ContinuousClock.now - started
        #expect(took < bound, "\(label) took \(took)")
        return result
    }

    @Test("a stopped FUSE client hangs vmstore: each beat still writes volumes within its bound, holders answers, unmount --force does not wait for the service")
    func hungShareCostsOthersNothing() throws {
        let (fixture, vmstore, volumes) = try Self.fixture()
        let volumesRecord = fixture.root + "/srv/volumes/.smbvol/hosts/host-a.json"
        let vmstoreRecord = fixture.root + "/srv/vmstore/.smbvol/hosts/host-a.json"
        let healthy = fixture.smbvol(["heartbeat", "--once"])
        #expect(healthy.status == 0, "\(healthy.stderr)")
        #expect(FileManager.default.fileExists(atPath: volumesRecord) && FileManager.default.fileExists(atPath: vmstoreRecord))

        let clients = fixture.fuseClients(under: vmstore)
        try #require(!clients.isEmpty, "no FUSE client serves \(vmstore)")
        for pid in clients { kill(pid, SIGSTOP) }
        defer { for pid in clients { kill(pid, SIGCONT) } }
        // Hung once statfs through the mount no longer answers (past FUSE's caches).
        let hung = Reliability.waitUntil(.seconds(10)) {
            let status = fixture.shell("timeout --kill-after=1 0.5 stat --file-system '\(vmstore)' >/dev/null 2>&1; echo $?", timeout: .seconds(10))
                .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            return status == "124" || status == "137"
        }
        try #require(hung, "the stopped client's mount still answers")

        try FileManager.default.removeItem(atPath: volumesRecord)
        let once = Self.timed("heartbeat --once", within: .seconds(8)) { fixture.smbvol(["heartbeat", "--once"], timeout: .seconds(30)) }
        #expect(once.status == 1, "\(once.stderr)")
        #expect(once.stderr.contains("vmstore") && once.stderr.contains("does not answer"), "\(once.stderr)")
        #expect(!once.stderr.contains("share volumes not written"), "\(once.stderr)")
        #expect(FileManager.default.fileExists(atPath: volumesRecord), "the healthy share was not beaten")

        let holders = Self.timed("holders", within: .seconds(8)) { fixture.smbvol(["holders"], timeout: .seconds(30)) }
        #expect(holders.status == 0, "\(holders.stderr)")
        #expect(holders.stdout.contains("share vmstore") && holders.stdout.contains("does not answer"), "\(holders.stdout)")
        #expect(holders.stdout.contains("share volumes") && holders.stdout.contains("(host-a, this host)"), "\(holders.stdout)")

        // The service beats on while vmstore hangs; unmount --force must not wait for it.
        let service = Process()
        service.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
        service.arguments = ["-t", "\(fixture.holder.processIdentifier)", "-m", "--", fixture.smbvol, "heartbeat"]
        service.environment = fixture.environment
        service.standardInput = FileHandle.nullDevice
        service.standardOutput = FileHandle.nullDevice
        service.standardError = FileHandle.nullDevice
        try FileManager.default.removeItem(atPath: volumesRecord)
        try service.run()
        defer { if service.isRunning { kill(service.processIdentifier, SIGKILL) } }
        #expect(Reliability.waitUntil(.seconds(10)) { FileManager.default.fileExists(atPath: volumesRecord) }, "the service never beat volumes")
        let forced = Self.timed("unmount --force", within: .seconds(8)) { fixture.smbvol(["unmount", "vmstore", "--force"], timeout: .seconds(30)) }
        #expect(forced.status == 0, "\(forced.stdout) \(forced.stderr)")
        #expect(!fixture.mountsUnderScratch().contains { $0.contains(" \(vmstore) ") }, "vmstore is still mounted")
        // And the service still beats volumes afterwards.
        try FileManager.default.removeItem(atPath: volumesRecord)
        #expect(Reliability.waitUntil(.seconds(10)) { FileManager.default.fileExists(atPath: volumesRecord) }, "the service stopped beating")
        #expect(!volumes.isEmpty)
        kill(service.processIdentifier, SIGTERM)
        #expect(Reliability.waitUntil(.seconds(10)) { !service.isRunning }, "the service did not end on SIGTERM")
    }
}
