import Foundation
import HandleEvidence
import HostHeartbeat
import LockHygiene
import SmbvolSystem
import Synchronization
import Testing

/// No cap may drop every record (a crowded address directory is read
/// newest first), and two hosts with one host_id never cancel each other's records.
@Suite("Heartbeat: crowded address directories and host_id collisions")
struct HeartbeatCrowdTests {
    static let now = 1_796_000_000.0

    /// Writes a file and sets its modification time.
    static func put(_ share: ScratchShare, _ path: [String], _ bytes: [UInt8], modified: Double) throws {
        try share.put(path, bytes)
        var times = [timespec(tv_sec: Int(modified), tv_nsec: 0), timespec(tv_sec: Int(modified), tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, share.path(path), &times, 0) == 0)
    }

    @Test("more than 16 — and more than the read cap — of records under one address: the live holder's fresh record is read and proves it alive", arguments: [17, 40, 200])
    func crowdedAddress(_ stale: Int) throws {
        let share = try ScratchShare()
        let directory = HeartbeatLayout.addressDirectory("10.0.0.2")
        // Reinstalled hosts (old machine-ids), sorted before the live one by name and older.
        for index in 0..<stale {
            let record = sampleRecord(host: "host-a\(index)", writtenAt: Self.now - 86_000)
            try Self.put(share, directory + ["host-a\(index).json"], try record.encoded(), modified: Self.now - 86_000 + Double(index))
        }
        try Self.put(share, directory + ["host-zz.json"], try sampleRecord(host: "host-zz", writtenAt: Self.now - 4).encoded(), modified: Self.now - 4)
        let counting = CountingFileSystem()
        let entries = HeartbeatReader(fileSystem: counting).records(forAddress: "10.0.0.2", shareRoot: share.root)
        guard case .record(let first, _, _) = entries.first else {
            Issue.record("the newest record is not read first: \(entries.prefix(2))")
            return
        }
        #expect(first.hostID == "host-zz")
        #expect(counting.reads.withLock { $0.count } == min(stale + 1, HeartbeatReader.maximumRecordsPerAddress))
        if stale + 1 > HeartbeatReader.maximumRecordsPerAddress {
            guard case .unusable(_, let reason) = entries.last else {
                Issue.record("the records left unread are not reported")
                return
            }
            #expect(reason.contains("\(stale + 1 - HeartbeatReader.maximumRecordsPerAddress) older record file(s) not read"))
        }
        let observations = HeartbeatEvidenceCollector(reader: HeartbeatReader(), clock: FixedClock(wall: Self.now))
            .observations(addresses: ["10.0.0.2"], shareDirectory: share.root, imagePath: "web01.qcow2")
        var evidence = ImageEvidence(handles: [], grantAddresses: ["10.0.0.2"], sessions: [], localAddresses: ["10.0.0.1"])
        evidence.heartbeats = observations
        evidence.localHostID = "host-local"
        let judged = HeartbeatJudgement(freshSeconds: 30).judge(holders: ["10.0.0.2"], evidence: evidence)
        #expect(judged.contains { $0.status == .alive && $0.hostID == "host-zz" }, "\(judged.map(\.note))")
    }

    @Test("two hosts with one host_id: neither removes the other's address entries, each writer reports the collision, readers see both")
    func sameHostID() throws {
        let share = try ScratchShare()
        let writer = HeartbeatWriter()
        let a = sampleRecord(host: "cloned", addresses: ["10.0.0.1"], writtenAt: Self.now)
        let b = sampleRecord(host: "cloned", addresses: ["10.0.0.2"], writtenAt: Self.now)
        var lastA = try writer.write(a, shareRoot: share.root, now: Self.now).lastWrite
        var lastB: HeartbeatWriter.LastWrite?
        for beat in 1...3 {
            let time = Self.now + Double(beat) * 10
            let wroteB = try writer.write(
                sampleRecord(host: "cloned", addresses: ["10.0.0.2"], writtenAt: time), shareRoot: share.root, previous: lastB, now: time)
            #expect(wroteB.collision?.addresses == ["10.0.0.1"], "B must see A's record as a collision")
            lastB = wroteB.lastWrite
            let wroteA = try writer.write(
                sampleRecord(host: "cloned", addresses: ["10.0.0.1"], writtenAt: time + 1), shareRoot: share.root, previous: lastA, now: time + 1)
            #expect(wroteA.collision?.addresses == ["10.0.0.2"], "A must see B's record as a collision")
            lastA = wroteA.lastWrite
        }
        _ = b
        let reader = HeartbeatReader()
        for address in ["10.0.0.1", "10.0.0.2"] {
            guard case .record(let record, _, _) = reader.records(forAddress: address, shareRoot: share.root).first else {
                Issue.record("the entry of \(address) was removed")
                return
            }
            #expect(record.addresses == [address])
        }
        // Both records with the host_id, found under every address (what `holders` reads).
        let own = reader.records(hostID: "cloned", underEveryAddressOf: share.root)
        #expect(own.count == 2)
    }

    @Test("an address this host dropped: its old entry is removed only while it still holds this writer's bytes")
    func oldAddressOnlyOurBytes() throws {
        let share = try ScratchShare()
        let writer = HeartbeatWriter()
        // Cloned configuration: both list the NAT address 192.0.2.1; B wrote it last.
        let first = try writer.write(sampleRecord(host: "cloned", addresses: ["10.0.0.1", "192.0.2.1"]), shareRoot: share.root)
        try writer.write(sampleRecord(host: "cloned", addresses: ["10.0.0.2", "192.0.2.1"], writtenAt: Self.now + 5), shareRoot: share.root)
        // A no longer lists the NAT address: B's entry there stays.
        let again = try writer.write(
            sampleRecord(host: "cloned", addresses: ["10.0.0.1"], writtenAt: Self.now + 10), shareRoot: share.root, previous: first.lastWrite)
        #expect(again.removed.isEmpty)
        #expect(FileManager.default.fileExists(atPath: share.path(HeartbeatLayout.addressDirectory("192.0.2.1") + ["cloned.json"])))
        // Without anyone else's write in between, the old entry goes.
        let moved = try writer.write(
            sampleRecord(host: "cloned", addresses: ["10.0.0.7"], writtenAt: Self.now + 20), shareRoot: share.root, previous: again.lastWrite)
        #expect(moved.removed == ["10.0.0.1"])
    }

    @Test("this host's own record found again (a restarted service, an unchanged address) is no collision")
    func ownRecordIsNoCollision() throws {
        let share = try ScratchShare()
        let writer = HeartbeatWriter()
        try writer.write(sampleRecord(host: "host-a", addresses: ["10.0.0.1"]), shareRoot: share.root, now: Self.now)
        let again = try writer.write(sampleRecord(host: "host-a", addresses: ["10.0.0.1"], writtenAt: Self.now + 10), shareRoot: share.root, now: Self.now + 10)
        #expect(again.collision == nil)
    }
}
