import Foundation
import Synchronization
import HandleEvidence
import HostHeartbeat
import LockHygiene
import SmbvolSystem
import Testing

/// The writer and reader on a real directory: atomic replacement, no symlink followed, bounded
/// reads, and a decision that opens only the records of its holder addresses.
@Suite("Heartbeat files on a share")
struct HeartbeatFilesTests {
    @Test("the writer lays out hosts/ and by-address/, the reader reads them back; dropped addresses are removed")
    func writeAndRead() throws {
        let share = try ScratchShare()
        let writer = HeartbeatWriter()
        let first = try writer.write(sampleRecord(addresses: ["10.0.0.2", "fe80::2"]), shareRoot: share.root)
        #expect(FileManager.default.fileExists(atPath: share.path([".smbvol", "hosts", "host-b.json"])))
        #expect(FileManager.default.fileExists(atPath: share.path([".smbvol", "by-address", "fe80--2", "host-b.json"])))
        let reader = HeartbeatReader()
        #expect(reader.records(forAddress: "10.0.0.2", shareRoot: share.root).count == 1)
        guard case .record(let record, _, _) = reader.records(forAddress: "fe80::2", shareRoot: share.root).first else {
            Issue.record("no record for fe80::2")
            return
        }
        #expect(record.addresses == ["10.0.0.2", "fe80::2"])
        #expect(reader.records(forAddress: "10.0.0.9", shareRoot: share.root).isEmpty)

        let second = try writer.write(sampleRecord(addresses: ["10.0.0.2"], writtenAt: 1_796_000_010), shareRoot: share.root, previous: first.lastWrite)
        #expect(second.removed == ["fe80::2"])
        #expect(reader.records(forAddress: "fe80::2", shareRoot: share.root).isEmpty)
        // No temporaries left behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: share.path([".smbvol", "hosts"]))
        #expect(names == ["host-b.json"])
    }

    @Test("a symlinked .smbvol or record is never followed: the writer fails, the reader reports it")
    func symlinks() throws {
        let share = try ScratchShare()
        let elsewhere = try ScratchShare()
        try FileManager.default.createSymbolicLink(atPath: share.path([".smbvol"]), withDestinationPath: elsewhere.root)
        #expect {
            try HeartbeatWriter().write(sampleRecord(), shareRoot: share.root)
        } throws: { "\($0)".contains("symbolic link") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.root).isEmpty)

        let second = try ScratchShare()
        try FileManager.default.createDirectory(atPath: second.path([".smbvol", "by-address", "10.0.0.2"]), withIntermediateDirectories: true)
        try Data(try sampleRecord().encoded()).write(to: URL(fileURLWithPath: elsewhere.path(["real.json"])))
        try FileManager.default.createSymbolicLink(
            atPath: second.path([".smbvol", "by-address", "10.0.0.2", "host-b.json"]), withDestinationPath: elsewhere.path(["real.json"]))
        let entries = HeartbeatReader().records(forAddress: "10.0.0.2", shareRoot: second.root)
        #expect(entries.count == 1)
        guard case .unusable(_, let reason) = entries.first else {
            Issue.record("a symlinked record was read: \(entries)")
            return
        }
        #expect(reason.contains("symbolic link"))
    }

    @Test("huge, corrupt, misnamed and non-regular records are unusable, never fatal")
    func unusableRecords() throws {
        let share = try ScratchShare()
        let directory = HeartbeatLayout.addressDirectory("10.0.0.2")
        try share.put(directory + ["huge.json"], [UInt8](repeating: 0x7B, count: HeartbeatRecord.maximumBytes + 10))
        try share.put(directory + ["corrupt.json"], Array("{\"format\": \"smbvol-heartbeat\", ".utf8))
        try share.put(directory + ["other.json"], try sampleRecord(host: "host-c").encoded())
        try share.put(directory + [".host-b.json.tmp-abc"], Array("partial".utf8))
        #expect(mkfifo(share.path(directory + ["fifo.json"]), 0o644) == 0)
        let entries = HeartbeatReader().records(forAddress: "10.0.0.2", shareRoot: share.root)
        let reasons = entries.compactMap { entry -> String? in
            if case .unusable(let file, let reason) = entry { return file + ": " + reason }
            return nil
        }
        #expect(reasons.count == 4, "\(entries)")
        #expect(reasons.contains { $0.contains("huge.json") && $0.contains("larger than") })
        #expect(reasons.contains { $0.contains("corrupt.json") && $0.contains("malformed") })
        #expect(reasons.contains { $0.contains("other.json") && $0.contains("host-c") })
        #expect(reasons.contains { $0.contains("fifo.json") && $0.contains("not a regular file") })
    }

    @Test("a decision reads only its holders' records: 500 hosts on the share, one file opened")
    func readsOnlyWhatItNeeds() throws {
        let share = try ScratchShare()
        // Raw syscalls and plain interpolation: Foundation per file is slow in debug builds. The
        // text is what the writer produces (checked against `encoded()` for one host below).
        func body(_ index: Int, _ address: String) -> String {
            "{\"addresses\":[\"\(address)\"],\"format\":\"smbvol-heartbeat\",\"host_id\":\"host-\(index)\",\"hostname\":\"kvm-host-\(index)\","
                + "\"images\":[{\"domain_name\":\"web01\",\"domain_uuid\":\"11111111-2222-3333-4444-555555555555\",\"path\":\"web01.qcow2\"}],"
                + "\"interval_seconds\":10,\"version\":1,\"written_at\":\"2026-11-30T00:53:20Z\"}\n"
        }
        #expect(body(7, "10.0.0.2") == String(decoding: try sampleRecord(host: "host-7").encoded(), as: UTF8.self))
        for directory in [".smbvol", ".smbvol/hosts", ".smbvol/by-address"] { mkdir(share.path([directory]), 0o755) }
        // hosts/ only for a few: a decision never reads it (the fleet view does).
        for index in 0..<500 {
            let address = "10.1.\(index / 256).\(index % 256)"
            mkdir(share.path(HeartbeatLayout.addressDirectory(address)), 0o755)
            for path in [HeartbeatLayout.addressDirectory(address)] + (index % 100 == 0 ? [HeartbeatLayout.hostsDirectory] : []) {
                let file = fopen(share.path(path + ["host-\(index).json"]), "w")
                fputs(body(index, address), file)
                fclose(file)
            }
        }
        let counting = CountingFileSystem()
        let collector = HeartbeatEvidenceCollector(reader: HeartbeatReader(fileSystem: counting), clock: FixedClock(wall: 1_796_000_004))
        let observations = collector.observations(addresses: ["10.1.1.7"], shareDirectory: share.root, imagePath: "web01.qcow2")
        #expect(counting.reads.withLock { $0 } == [".smbvol/by-address/10.1.1.7/host-263.json"])
        #expect(counting.listings.withLock { $0 } == [".smbvol/by-address/10.1.1.7"])
        #expect(
            observations == [
                .record(
                    HeartbeatRecordFact(
                        address: "10.1.1.7", hostID: "host-263", hostname: "kvm-host-263", writtenAt: "2026-11-30T00:53:20Z", ageSeconds: 4,
                        domainsOnImage: ["web01"]))
            ])
        // An address nobody lists: one failed directory open, no read.
        _ = collector.observations(addresses: ["10.9.9.9"], shareDirectory: share.root, imagePath: "web01.qcow2")
        #expect(counting.reads.withLock { $0.count } == 1)
    }

    @Test("a record in an address directory that does not list that address proves nothing")
    func recordMustListTheAddress() throws {
        let share = try ScratchShare()
        try share.put(HeartbeatLayout.addressDirectory("10.0.0.5") + ["host-b.json"], try sampleRecord(addresses: ["10.0.0.2"]).encoded())
        let observations = HeartbeatEvidenceCollector(clock: FixedClock(wall: 1_796_000_000))
            .observations(addresses: ["10.0.0.5"], shareDirectory: share.root, imagePath: "web01.qcow2")
        guard case .unusable(_, let reason) = observations.first else {
            Issue.record("\(observations)")
            return
        }
        #expect(reason.contains("does not list 10.0.0.5"))
    }

    @Test("the sweep removes this host's leftover temporaries, and other hosts' files by age only: never a fresh one, whatever the count")
    func sweep() throws {
        let share = try ScratchShare()
        let now = 1_796_000_000.0
        let day = HeartbeatWriter.sweepAgeSeconds(freshSeconds: 30)
        let address = HeartbeatLayout.addressDirectory("10.0.0.2")
        func put(_ path: [String], _ bytes: [UInt8], modified: Double) throws {
            try share.put(path, bytes)
            var times = [timespec(tv_sec: Int(modified), tv_nsec: 0), timespec(tv_sec: Int(modified), tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, share.path(path), &times, 0) == 0)
        }
        try put(HeartbeatLayout.hostsDirectory + [".host-b.json.tmp-0123"], [1], modified: now - 120)
        try put(HeartbeatLayout.hostsDirectory + [".host-b.json.tmp-4567"], [1], modified: now - 5)
        try put(HeartbeatLayout.hostsDirectory + [".host-c.json.tmp-0123"], [1], modified: now - 120)
        // 40 fresh records of other hosts under our address: none is removed.
        for index in 0..<40 {
            try put(address + ["host-n\(index).json"], try sampleRecord(host: "host-n\(index)", writtenAt: now - 20).encoded(), modified: now - 20)
        }
        // Old by both clocks: removed. Old file, fresh content (a touched mtime): kept.
        try put(address + ["host-old.json"], try sampleRecord(host: "host-old", writtenAt: now - day - 10).encoded(), modified: now - day - 10)
        try put(address + ["host-touched.json"], try sampleRecord(host: "host-touched", writtenAt: now - 20).encoded(), modified: now - day - 10)
        try put(address + ["junk.json"], Array("junk".utf8), modified: now - day - 10)
        // Our own file is never swept, however old.
        try put(address + ["host-b.json"], try sampleRecord(writtenAt: now - day - 10).encoded(), modified: now - day - 10)
        let removed = HeartbeatWriter().sweep(hostID: "host-b", addresses: ["10.0.0.2"], shareRoot: share.root, now: now, olderThanSeconds: day)
        #expect(
            Set(removed) == [
                ".smbvol/hosts/.host-b.json.tmp-0123", ".smbvol/hosts/.host-b.json.tmp-4567", ".smbvol/by-address/10.0.0.2/host-old.json",
                ".smbvol/by-address/10.0.0.2/junk.json",
            ])
        let left = try FileManager.default.contentsOfDirectory(atPath: share.path(address))
        #expect(left.count == 42 && left.contains("host-touched.json") && left.contains("host-b.json"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: share.path(HeartbeatLayout.hostsDirectory)) == [".host-c.json.tmp-0123"])
    }
}

/// A wall clock that says what the test wants.
struct FixedClock: MonotonicClock {
    var wall: Double
    func now() -> MonotonicInstant { MonotonicInstant(nanoseconds: 0) }
    func sleep(for duration: Duration) {}
    func wallClockSeconds() -> Double { wall }
}
