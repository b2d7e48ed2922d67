import AttachmentLocks
import Dispatch
import Foundation
import HostHeartbeat
import HandleEvidence
import LockHygiene
import Logging
import SmbvolConfig
import SmbvolSystem
import SmbvolUseCases
import SmbvolWiring
import Synchronization
import Testing

/// One share whose I/O blocks (as on a hung mount) costs the other shares
/// nothing, the beat returns within its bound, and the blocked share is not touched again
/// until its I/O returns.
@Suite("Heartbeat beat: one blocked share costs the others nothing")
struct HeartbeatBeatTests {
    /// The real file system, except that every call under `blockedRoot` waits for `gate`.
    final class GatedFileSystem: ShareFileSystem, @unchecked Sendable {  // the semaphore is thread-safe; the rest is immutable
        let inner = NoFollowShareFileSystem()
        let blockedRoot: String
        let gate = DispatchSemaphore(value: 0)

        init(blockedRoot: String) { self.blockedRoot = blockedRoot }

        func pass(_ root: String) {
            guard root == blockedRoot else { return }
            gate.wait()
            gate.signal()
        }

        func readFile(root: String, path: [String], limit: Int) throws -> [UInt8] {
            pass(root)
            return try inner.readFile(root: root, path: path, limit: limit)
        }

        func listDirectory(root: String, path: [String], limit: Int) throws -> [String] {
            pass(root)
            return try inner.listDirectory(root: root, path: path, limit: limit)
        }

        func listEntries(root: String, path: [String], limit: Int) throws -> ShareDirectoryListing {
            pass(root)
            return try inner.listEntries(root: root, path: path, limit: limit)
        }

        func replaceFile(root: String, directory: [String], name: String, bytes: [UInt8]) throws {
            pass(root)
            try inner.replaceFile(root: root, directory: directory, name: name, bytes: bytes)
        }

        func removeFile(root: String, directory: [String], name: String) throws {
            pass(root)
            try inner.removeFile(root: root, directory: directory, name: name)
        }
    }

    @Test("a gap in this host's own beats longer than 2 intervals and heartbeat_fresh_seconds is an interruption; a normal one is not; none before the first beat")
    func interruptionAfterAGap() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("smbvol-gap-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for directory in ["state", "share"] {
            try FileManager.default.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
        }
        var configuration = SmbvolConfiguration(
            stateDirectory: root + "/state", mountBase: root + "/mnt", localAddresses: ["10.0.0.1"],
            shares: ["vms": ShareConfiguration(name: "vms", export: "//srv/vms", localPath: root + "/share")])
        configuration.heartbeatIntervalSeconds = 10
        var beat = HeartbeatBeat(configuration: configuration, hostID: "host-a", logger: Logger(label: "test"), attachments: CIFSShareAttachments(configuration: configuration))
        #expect(beat.interruption(now: 1_000_000, interval: 10) == nil, "no beat yet: nothing to compare with")
        #expect(beat.beat().written == ["vms"])
        let last = try #require(beat.lastSuccessAt)
        let fresh = configuration.effectiveHeartbeatFreshSeconds
        #expect(beat.interruption(now: last + 10, interval: 10) == nil, "one interval: a normal beat")
        #expect(beat.interruption(now: last + max(20, fresh) - 0.5, interval: 10) == nil)
        let gap = try #require(beat.interruption(now: last + max(20, fresh) + 60, interval: 10), "a paused host's gap")
        #expect(abs(gap - (max(20, fresh) + 60)) < 0.001)
    }

    @Test("a blocked share: the beat returns within its bound with the other share written; the next beat skips it; once it returns, it is beaten again")
    func blockedShare() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("smbvol-beat-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for directory in ["state", "fast", "slow"] {
            try FileManager.default.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
        }
        var configuration = SmbvolConfiguration(
            stateDirectory: root + "/state", mountBase: root + "/mnt", localAddresses: ["10.0.0.1"],
            shares: [
                "fast": ShareConfiguration(name: "fast", export: "//srv/fast", localPath: root + "/fast"),
                "slow": ShareConfiguration(name: "slow", export: "//srv/slow", localPath: root + "/slow"),
            ])
        configuration.heartbeatIntervalSeconds = 2
        let fileSystem = GatedFileSystem(blockedRoot: root + "/slow")
        var beat = HeartbeatBeat(configuration: configuration, hostID: "host-a", logger: Logger(label: "test"), attachments: CIFSShareAttachments(configuration: configuration))
        beat.writer = HeartbeatWriter(fileSystem: fileSystem)
        let bound = Duration.seconds(beat.shareBound) + .seconds(2)

        let started = ContinuousClock.now
        let first = beat.beat()
        #expect(ContinuousClock.now - started < bound)
        #expect(first.written == ["fast"])
        #expect(first.failed.map(\.share) == ["slow"])
        #expect(first.failed.first?.reason.description.contains("did not answer within") == true, "\(first.failed)")
        #expect(FileManager.default.fileExists(atPath: root + "/fast/.smbvol/hosts/host-a.json"))

        let second = beat.beat()
        #expect(second.written == ["fast"])
        #expect(second.failed.first?.reason.description.contains("still blocked") == true, "\(second.failed)")

        fileSystem.gate.signal()
        // The blocked beat finishes by itself; then the share is beaten again.
        let deadline = ContinuousClock.now + .seconds(20)
        var third = beat.beat()
        while !third.written.contains("slow") && ContinuousClock.now < deadline { third = beat.beat() }
        #expect(Set(third.written) == ["fast", "slow"], "\(third.failed)")
    }


    @Test("why a share was not beaten: typed, and one line each (the audit event's error, heartbeat --once's reason)")
    func shareBeatFailureLines() {
        struct Problem: Error, CustomStringConvertible { var description: String }
        let cases: [(ShareBeatFailure, String)] = [
            (.notRead(Problem(description: "locks.json:\nnot JSON")), "locks.json: not JSON"),
            (.previousBeatBlocked, "the previous beat on this share is still blocked in its I/O (the share hangs); not touched again until it returns"),
            (.noThread, "no thread could be started for the share's beat"),
            (.beatNotFinished(seconds: 7.5), "the share did not answer within 7 s (hung?); the other shares were beaten"),
            (.probeUnanswered(seconds: 5), "the share does not answer (no answer within 5 s): not written; the other shares were beaten"),
            (
                .deadMount(SystemCallError(call: "statfs", path: "/mnt/one", code: ENOTCONN)),
                "the share's mount is dead (statfs /mnt/one failed: transport endpoint is not connected (errno \(ENOTCONN)))"
            ),
            (.notWritten(Problem(description: "rename: EACCES")), "rename: EACCES"),
        ]
        for (failure, line) in cases { #expect(failure.description == line) }
    }
}

@Suite("Heartbeat beat: holder claims")
struct HeartbeatClaimTests {
    @Test("boot time: the btime line of /proc/stat; none, or a bad one: unknown")
    func bootTime() {
        #expect(HostBootTime.parse("cpu  1 2 3\nintr 5\nbtime 1796600000\nprocesses 9\n") == 1_796_600_000)
        #expect(HostBootTime.parse("cpu  1 2 3\n") == nil)
        #expect(HostBootTime.parse("btime soon\n") == nil)
        #expect((HostBootTime.secondsSinceEpoch() ?? 0) > 1_000_000_000, "this Linux host's boot")
    }

    @Test("claims: a lock recorded before this host's last boot (no domain survives a reboot; reconcile drops it later) is not claimed; one recorded since is")
    func noClaimForLocksFromBeforeBoot() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("smbvol-boot-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for directory in ["state", "share/vm"] {
            try FileManager.default.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
        }
        for image in ["old.qcow2", "new.qcow2"] { FileManager.default.createFile(atPath: root + "/share/vm/" + image, contents: Data()) }
        let now = Date()
        let recent = ISO8601DateFormatter().string(from: now)
        func lock(_ id: String, _ image: String, createdAt: String) -> String {
            """
            {"id": "\(id)", "share": "vms", "mount_point": "\(root)/share", "domain_uuid": "99999999-2222-3333-4444-55555555555\(id.suffix(1))",
            "domain_name": "dom\(id)", "disk": "vda", "image": "\(root)/share/vm/\(image)", "reason": "domain dom\(id) disk vda", "context": "hook",
            "created_at": "\(createdAt)"}
            """
        }
        try """
            {"version": 1, "locks": [\(lock("l1", "old.qcow2", createdAt: "2020-01-01T00:00:00Z")), \(lock("l2", "new.qcow2", createdAt: recent))]}
            """.write(toFile: root + "/state/locks.json", atomically: true, encoding: .utf8)
        let configuration = SmbvolConfiguration(
            stateDirectory: root + "/state", mountBase: root + "/mnt", localAddresses: ["10.0.0.1"],
            shares: ["vms": ShareConfiguration(name: "vms", export: "//srv/vms", localPath: root + "/share")])
        var beat = HeartbeatBeat(configuration: configuration, hostID: "host-a", logger: Logger(label: "test"), attachments: CIFSShareAttachments(configuration: configuration))
        #expect(beat.beat().written == ["vms"])
        let claims = HolderClaimStore()
        #expect(claims.claims(imagePath: "vm/new.qcow2", shareRoot: root + "/share").entries.count == 1, "the domain started since boot is claimed")
        #expect(
            claims.claims(imagePath: "vm/old.qcow2", shareRoot: root + "/share").entries.isEmpty,
            "a lock of 2020 is a leftover of an earlier boot: its fresh claim would refuse every other host's start until reconcile")
    }
}

@Suite("Host claims: write and release")
struct HostClaimsReleaseTests {
    @Test("a start's claim on a share that does not answer: a warning within the bound, never a start held up to its deadline")
    func writeOnAHungShareIsBounded() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("smbvol-hungclaim-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/share", withIntermediateDirectories: true)
        let configuration = SmbvolConfiguration(
            stateDirectory: root + "/state", mountBase: root + "/mnt", localAddresses: ["10.0.0.1"],
            shares: ["vms": ShareConfiguration(name: "vms", export: "//srv/vms", localPath: root + "/share")])
        let hung = HeartbeatBeatTests.GatedFileSystem(blockedRoot: root + "/share")
        defer { hung.gate.signal() }
        var claims = HostClaims(configuration: configuration, hostID: "host-a", logger: Logger(label: "test"))
        claims.store = HolderClaimStore(fileSystem: hung)
        let held = HostClaims.HeldImage(shareName: "vms", shareDirectory: root + "/share", relativePath: "vm/a.qcow2", domainName: "d1", domainUUID: "11111111-2222-3333-4444-555555555551")
        let finished = DispatchSemaphore(value: 0)
        let result = Mutex<[String]?>(nil)
        let writer = claims
        Thread.detachNewThread {
            let written = writer.write([held])
            result.withLock { $0 = written }
            finished.signal()
        }
        #expect(finished.wait(timeout: .now() + 15) == .success, "the claim write waited on the hung share")
        #expect(result.withLock { $0 } == [], "nothing written on a share that does not answer")
    }

    @Test("release of one domain keeps the claim another domain of this host still holds on the same image, however each spells it (a symlink)")
    func releaseKeepsClaimOfAnotherLocalDomain() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("smbvol-release-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let share = root + "/share"
        try FileManager.default.createDirectory(atPath: share + "/vm", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: share + "/vm/a.qcow2", contents: Data())
        try FileManager.default.createSymbolicLink(atPath: share + "/current.qcow2", withDestinationPath: "vm/a.qcow2")
        let configuration = SmbvolConfiguration(
            stateDirectory: root + "/state", mountBase: root + "/mnt", localAddresses: ["10.0.0.1"],
            shares: ["vms": ShareConfiguration(name: "vms", export: "//srv/vms", localPath: share)])
        let claims = HostClaims(configuration: configuration, hostID: "host-a", logger: Logger(label: "test"))
        let held = HostClaims.HeldImage(shareName: "vms", shareDirectory: share, relativePath: "vm/a.qcow2", domainName: "d1", domainUUID: "11111111-2222-3333-4444-555555555551")
        #expect(claims.write([held]).count == 1)
        func lock(_ id: String, _ image: String, _ domain: String) -> AttachmentLock {
            AttachmentLock(
                id: id, share: "vms", mountPoint: share, domainUUID: domain, domainName: domain, disk: "vda", image: image, reason: "domain \(domain) disk vda",
                context: .hook, createdAt: "2026-12-01T00:00:00Z")
        }
        let first = lock("l1", share + "/vm/a.qcow2", "d1")
        let second = lock("l2", share + "/current.qcow2", "d2")
        claims.remove(for: [first], allLocks: [first, second])
        #expect(HolderClaimStore().claims(imagePath: "vm/a.qcow2", shareRoot: share).entries.count == 1, "d2 still runs on vm/a.qcow2")
        claims.remove(for: [second], allLocks: [second])
        #expect(HolderClaimStore().claims(imagePath: "vm/a.qcow2", shareRoot: share).entries.isEmpty, "the last holder released: the claim goes")
    }
}

@Suite("Host claims: reading on a hung share")
struct HolderClaimReadBoundTests {
    @Test("a start reading claims on a share that stops answering: unread within the bound (a refusal, never a close), and the share is not waited for twice")
    func readOnAHungShareIsBoundedAndUnread() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("smbvol-hungread-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/share", withIntermediateDirectories: true)
        let hung = HeartbeatBeatTests.GatedFileSystem(blockedRoot: root + "/share")
        defer { hung.gate.signal() }
        var collector = HolderClaimCollector(store: HolderClaimStore(fileSystem: hung))
        collector.boundSeconds = 0.5
        let started = Date()
        let first = collector.gather(shareDirectory: root + "/share", imagePath: "vm/a.qcow2")
        let second = collector.gather(shareDirectory: root + "/share", imagePath: "vm/b.qcow2")
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed < 5, "the reads waited on the hung share for \(elapsed) s")
        for result in [first, second] {
            #expect(result.notRead == 1)
            guard case .unread(_, let reason)? = result.observations.first else {
                Issue.record("expected an unread observation, got \(result.observations)")
                continue
            }
            #expect(reason.contains("did not answer"))
        }
    }
}
