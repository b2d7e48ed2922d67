import Foundation
import HostHeartbeat
import SmbvolSystem
import Testing

func sampleTakeover(
    fileNumber: String = "3001", newHost: String = "host-a", newAddresses: [String] = ["203.0.113.1"], oldHost: String? = "host-b",
    oldAddresses: [String] = ["203.0.113.2"], takenAt: Double = 1_796_000_100
) -> TakeoverRecord {
    TakeoverRecord(
        imagePath: "web01/disk0.qcow2", fileNumber: fileNumber, newHolder: .init(hostID: newHost, hostname: "kvm-a", addresses: newAddresses),
        domainName: "web01", domainUUID: "11111111-2222-3333-4444-555555555555", takenAt: takenAt,
        oldHolder: .init(hostID: oldHost, addresses: oldAddresses), closedHandles: ["1.0.2"])
}

/// Host B's use of the image, its lock recorded at 1_796_000_000 (before the sample takeover);
/// without `recordedAt`, dated by the lock's `createdAt` (1_795_000_000, to the end of its second).
func sampleUse(fileNumber: String? = "3001", recordedAt: Double? = 1_796_000_000) -> LocalImageUse {
    let created = UTCTimestamp.iso8601(secondsSinceEpoch: 1_795_000_000)
    return LocalImageUse(
        lockID: "b1", fileNumber: fileNumber, since: recordedAt.map { $0 + 0.000_001 } ?? 1_795_000_001,
        sinceText: recordedAt.map { UTCTimestamp.preciseISO8601(secondsSinceEpoch: $0) } ?? created)
}

@Suite("Takeover record codec and store")
struct TakeoverRecordTests {
    @Test("round trip: what is written reads back equal, with the field names the README gives")
    func roundTrip() throws {
        let record = sampleTakeover(takenAt: 1_796_000_100.123456)
        let bytes = try record.encoded()
        #expect(try TakeoverRecord.decode(bytes) == record)
        let text = String(decoding: bytes, as: UTF8.self)
        for key in ["\"new_holder\"", "\"old_holder\"", "\"closed_handles\"", "\"file_number\"", "\"taken_at\":\"2026-", "\"format\":\"smbvol-takeover\""] {
            #expect(text.contains(key), "\(key) in \(text)")
        }
        // Any instant reads back equal (the writer refuses what does not).
        for step in 0..<2000 {
            let instant = 1_796_000_000 + Double(step) * 0.000_731 + Double(step % 7) / 3
            #expect(try TakeoverRecord.decode(try sampleTakeover(takenAt: instant).encoded()) == sampleTakeover(takenAt: instant))
        }
        let unknownOld = sampleTakeover(oldHost: nil)
        #expect(try TakeoverRecord.decode(try unknownOld.encoded()).oldHolder.hostID == nil)
    }

    @Test("malformed records are refused with a reason", arguments: [
        ("{", "not JSON"),
        (#"{"format":"smbvol-heartbeat","version":1}"#, "not JSON"),
        ("FORMAT", "format"),
        ("VERSION", "version"),
        ("PATH", "image path"),
        ("HOSTID", "host_id"),
        ("ADDRESS", "not an address"),
        ("TIME", "taken_at"),
        ("HANDLES", "closed_handles"),
        ("NOOLD", "not named"),
    ])
    func malformed(mutation: String, expected: String) throws {
        let good = try #require(try JSONSerialization.jsonObject(with: Data(try sampleTakeover().encoded())) as? [String: Any])
        var object = good
        var bytes: [UInt8]
        switch mutation {
        case "FORMAT": object["format"] = "smbvol-other"
        case "VERSION": object["version"] = 2
        case "PATH": object["image"] = ["path": "../etc/passwd", "file_number": "3001"]
        case "HOSTID": object["new_holder"] = ["host_id": "../x", "addresses": ["203.0.113.1"]]
        case "ADDRESS": object["old_holder"] = ["host_id": "host-b", "addresses": ["203.0.113.2; rm -rf /"]]
        case "TIME": object["taken_at"] = "yesterday"
        case "HANDLES":
            // Empty is a claim taken over, which names the old holder by host_id.
            object["closed_handles"] = [String]()
            object["old_holder"] = ["addresses": ["203.0.113.2"]]
        case "NOOLD": object["old_holder"] = ["addresses": [String]()]
        default: break
        }
        if mutation.hasPrefix("{") {
            bytes = Array(mutation.utf8)
        } else {
            bytes = Array(try JSONSerialization.data(withJSONObject: object))
        }
        do {
            _ = try TakeoverRecord.decode(bytes)
            Issue.record("decoded \(mutation)")
        } catch let error as TakeoverRecordError {
            #expect(error.description.contains(expected), "\(error)")
        }
    }

    @Test("store: written under the file number, read back; unusable files named; a record filed under another number refused; swept by age")
    func store() throws {
        let share = try ScratchShare()
        let store = TakeoverStore()
        let file = try store.write(sampleTakeover(), shareRoot: share.root)
        #expect(file.hasPrefix(".smbvol/takeovers/3001/host-a-1796000100-"))
        try share.put(TakeoverStore.imageDirectory(fileNumber: "3001") + ["junk.json"], Array("{".utf8))
        try share.put(TakeoverStore.imageDirectory(fileNumber: "3001") + ["other.json"], try sampleTakeover(fileNumber: "4001").encoded())
        let entries = store.records(fileNumber: "3001", shareRoot: share.root)
        #expect(entries.count == 3)
        #expect(entries.contains(.record(sampleTakeover(), file: file)))
        #expect(entries.contains { if case .unusable(let f, let r) = $0 { return f.hasSuffix("junk.json") && r.contains("malformed") } else { return false } })
        #expect(entries.contains { if case .unusable(let f, let r) = $0 { return f.hasSuffix("other.json") && r.contains("4001") } else { return false } })
        #expect(store.records(fileNumber: "9999", shareRoot: share.root).isEmpty)
        // Nothing is old yet: nothing swept. Eight days on, everything is.
        #expect(store.sweep(fileNumber: "3001", shareRoot: share.root, now: Date().timeIntervalSince1970).isEmpty)
        #expect(store.sweep(fileNumber: "3001", shareRoot: share.root, now: Date().timeIntervalSince1970 + 8 * 86_400).count == 3)
    }
}

@Suite("Takeover judgement: who may stop a domain")
struct TakeoverJudgementTests {
    static let local: Set<String> = ["203.0.113.2"]
    static let now: Double = 1_796_000_200

    func judge(_ record: TakeoverRecord, lock: LocalImageUse = sampleUse(), hostID: String = "host-b", own: OwnHandleStatus = .gone)
        -> (TakeoverJudgement.Verdict, asked: Bool)
    {
        var asked = false
        let verdict = TakeoverJudgement.judge(record, use: lock, localHostID: hostID, localAddresses: Self.local, now: Self.now) {
            asked = true
            return own
        }
        return (verdict, asked)
    }

    @Test("a record newer than the lock, own handle gone per the cluster: stop")
    func stops() {
        let (verdict, asked) = judge(sampleTakeover())
        #expect(asked)
        guard case .stop = verdict else { Issue.record("\(verdict)"); return }
        // The old holder named only by address (its heartbeat record unknown) is still this host.
        guard case .stop = judge(sampleTakeover(oldHost: nil)).0 else { Issue.record("by address"); return }
    }

    @Test("this host still holds its handle, or the cluster cannot be asked: warn, never stop")
    func clusterSaysNo() {
        let held = judge(sampleTakeover(), own: .stillHeld(addresses: ["203.0.113.2"]))
        guard case .warn(let reason) = held.0 else { Issue.record("\(held.0)"); return }
        #expect(reason.contains("still holds"))
        let unknown = judge(sampleTakeover(), own: .unknown("connection refused"))
        guard case .warn(let why) = unknown.0 else { Issue.record("\(unknown.0)"); return }
        #expect(why.contains("connection refused"))
    }

    @Test("this host's client reopened the image after the takeover, beside the new holder: stop; beside another address only: warn")
    func reopenedBesideNewHolder() {
        let reopened = judge(sampleTakeover(), own: .stillHeld(addresses: ["203.0.113.2"], otherHolders: ["203.0.113.1"]))
        guard case .stop(let reason) = reopened.0 else { Issue.record("\(reopened.0)"); return }
        #expect(reason.contains("reopened") && reason.contains("203.0.113.1"), "\(reason)")
        // A record whose new holder does not hold the file (forged, or the holder gone again).
        let elsewhere = judge(sampleTakeover(), own: .stillHeld(addresses: ["203.0.113.2"], otherHolders: ["203.0.113.77"]))
        guard case .warn = elsewhere.0 else { Issue.record("\(elsewhere.0)"); return }
    }

    @Test("a record older than the domain's lock (recorded_at, else created_at): warn without asking the cluster")
    func olderThanLock() {
        let (verdict, asked) = judge(sampleTakeover(takenAt: 1_795_999_999))
        guard case .warn(let reason) = verdict else { Issue.record("\(verdict)"); return }
        #expect(reason.contains("older than"))
        #expect(!asked)
        // Without recorded_at, created_at dates the lock.
        guard case .warn = judge(sampleTakeover(takenAt: 1_794_000_000), lock: sampleUse(recordedAt: nil)).0 else { Issue.record("created_at"); return }
        guard case .stop = judge(sampleTakeover(takenAt: 1_795_000_002), lock: sampleUse(recordedAt: nil)).0 else { Issue.record("after created_at"); return }
    }

    @Test("a forged record for an image this host does not use, or about another old holder: ignored, cluster not asked")
    func forged() {
        for (record, lock) in [
            (sampleTakeover(fileNumber: "4001"), sampleUse()),
            (sampleTakeover(), sampleUse(fileNumber: nil)),
            (sampleTakeover(oldHost: "host-c", oldAddresses: ["203.0.113.3"]), sampleUse()),
        ] {
            let (verdict, asked) = judge(record, lock: lock)
            guard case .ignore = verdict else { Issue.record("\(verdict)"); continue }
            #expect(!asked)
        }
    }

    @Test("a record naming this host as the new holder (its host_id): ignored; a new holder merely sharing an address is judged")
    func ownTakeover() {
        let (verdict, asked) = judge(sampleTakeover(newHost: "host-b"))
        guard case .ignore(let reason) = verdict else { Issue.record("\(verdict)"); return }
        #expect(reason.contains("new holder"))
        #expect(!asked)
        // Two hosts on one machine (or behind one NAT) share interface addresses: host_id decides.
        guard case .stop = judge(sampleTakeover(newAddresses: ["203.0.113.2", "203.0.113.1"])).0 else { Issue.record("shared address"); return }
    }

    @Test("a record dated in the future: warn")
    func future() {
        guard case .warn(let reason) = judge(sampleTakeover(takenAt: Self.now + 3600)).0 else { Issue.record("future"); return }
        #expect(reason.contains("future"))
    }
}
