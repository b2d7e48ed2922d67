import Foundation
import HostHeartbeat
import Testing

#if canImport(Glibc)
import Glibc
#endif

func sampleClaim(
    host: String = "host-b", addresses: [String] = ["203.0.113.2"], imagePath: String = "vm/web01.qcow2", writtenAt: Double = 1_796_000_000
) -> HolderClaim {
    HolderClaim(
        hostID: host, hostname: "kvm-" + host, addresses: addresses, domainName: "web01", domainUUID: "11111111-2222-3333-4444-555555555555",
        imagePath: imagePath, writtenAt: writtenAt, intervalSeconds: 10)
}

@Suite("Holder claims: key, codec, store")
struct HolderClaimTests {
    @Test("image key: SHA-256 of the normalized path below the share, 64 hex digits, whatever the spelling")
    func imageKey() {
        // FIPS 180-4's example: "abc".
        #expect(HeartbeatLayout.imageKey(imagePath: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let key = HeartbeatLayout.imageKey(imagePath: "vm/web01.qcow2")
        #expect(key.count == 64 && key.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(HeartbeatLayout.imageKey(imagePath: "./vm//web01.qcow2") == key)
        #expect(HeartbeatLayout.imageKey(imagePath: "/vm/web01.qcow2") == key)
        #expect(HeartbeatLayout.imageKey(imagePath: "vm/web02.qcow2") != key)
        // A long path still names a short directory.
        #expect(HeartbeatLayout.imageKey(imagePath: String(repeating: "d/", count: 1000) + "x").count == 64)
        #expect(HeartbeatLayout.claimDirectory(imagePath: "vm/web01.qcow2") == [".smbvol", "images", key])
    }

    @Test("codec: round trip with the documented field names; the writer publishes only what reads back whole")
    func roundTrip() throws {
        let claim = sampleClaim()
        let published = try claim.publishable()
        #expect(published.dropped.isEmpty)
        #expect(try HolderClaim.decode(published.bytes) == claim)
        let text = String(decoding: published.bytes, as: UTF8.self)
        for key in ["\"format\":\"smbvol-claim\"", "\"host_id\":\"host-b\"", "\"image_path\":\"vm/web01.qcow2\"", "\"written_at\":\"2026-", "\"domain\":{", "\"interval_seconds\":10"] {
            #expect(text.contains(key), "\(key) in \(text)")
        }
        // A bad address is left out by the writer (and said), the rest published.
        var mixed = claim
        mixed.addresses = ["203.0.113.2", "bad address;"]
        let partly = try mixed.publishable()
        #expect(partly.claim.addresses == ["203.0.113.2"])
        #expect(partly.dropped.count == 1)
        // Nothing to publish without an address or with a path out of the share.
        var none = claim
        none.addresses = []
        #expect(throws: HolderClaimError.self) { try none.publishable() }
        var escaping = claim
        escaping.imagePath = "../etc/passwd"
        #expect(throws: HolderClaimError.self) { try escaping.publishable() }
    }

    @Test("codec: malformed claims are refused with a reason", arguments: [
        ("FORMAT", "format"), ("VERSION", "version"), ("HOSTID", "host_id"), ("PATH", "image_path"), ("TIME", "written_at"),
        ("INTERVAL", "interval_seconds"), ("ADDRESSES", "addresses"), ("UNKNOWN", "unknown key"), ("UUID", "UUID"),
    ])
    func malformed(mutation: String, expected: String) throws {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(try sampleClaim().encoded())) as? [String: Any])
        switch mutation {
        case "FORMAT": object["format"] = "smbvol-heartbeat"
        case "VERSION": object["version"] = 2
        case "HOSTID": object["host_id"] = "../x"
        case "PATH": object["image_path"] = "vm//web01.qcow2"
        case "TIME": object["written_at"] = "yesterday"
        case "INTERVAL": object["interval_seconds"] = -1
        case "ADDRESSES": object["addresses"] = ["not an address!"]
        case "UNKNOWN": object["extra"] = 1
        case "UUID": object["domain"] = ["name": "web01", "uuid": ""]
        default: break
        }
        do {
            _ = try HolderClaim.decode(Array(try JSONSerialization.data(withJSONObject: object)))
            Issue.record("decoded \(mutation)")
        } catch let error as HolderClaimError {
            #expect(error.description.contains(expected), "\(error)")
        }
        #expect(throws: HolderClaimError.self) { try HolderClaim.decode(Array("{".utf8)) }
        #expect(throws: HolderClaimError.self) { try HolderClaim.decode([UInt8](repeating: 32, count: HolderClaim.maximumBytes + 1)) }
    }

    @Test("store: one file per host under the image's key; read back; removed (own file only)")
    func store() throws {
        let share = try ScratchShare()
        let store = HolderClaimStore()
        let (_, file) = try store.write(sampleClaim(), shareRoot: share.root)
        #expect(file == ".smbvol/images/\(HeartbeatLayout.imageKey(imagePath: "vm/web01.qcow2"))/host-b.json")
        try store.write(sampleClaim(host: "host-c", addresses: ["203.0.113.3"]), shareRoot: share.root)
        let (entries, notRead) = store.claims(imagePath: "vm//web01.qcow2", shareRoot: share.root)
        #expect(notRead == 0)
        #expect(entries.count == 2)
        #expect(entries.contains(.claim(sampleClaim(), file: file, dropped: [])))
        #expect(store.claims(imagePath: "vm/other.qcow2", shareRoot: share.root).entries.isEmpty)
        try store.remove(hostID: "host-b", imagePath: "vm/web01.qcow2", shareRoot: share.root)
        let left = store.claims(imagePath: "vm/web01.qcow2", shareRoot: share.root).entries
        #expect(left.count == 1)
        #expect(left.allSatisfy { entry in
            if case .claim(let claim, _, _) = entry { return claim.hostID == "host-c" }
            return false
        })
        // Removing what is not there is no error.
        try store.remove(hostID: "host-b", imagePath: "vm/web01.qcow2", shareRoot: share.root)
    }

    @Test("sweep: other hosts' claims old by file time and written_at go; fresh ones and this host's own stay")
    func sweep() throws {
        let share = try ScratchShare()
        let store = HolderClaimStore()
        let now = Date().timeIntervalSince1970
        try store.write(sampleClaim(host: "host-a", writtenAt: now - 200_000), shareRoot: share.root)
        try store.write(sampleClaim(host: "host-b", writtenAt: now - 200_000), shareRoot: share.root)
        try store.write(sampleClaim(host: "host-c", writtenAt: now + 90_000), shareRoot: share.root)
        // Files just written: nothing is old by its file time yet.
        #expect(store.sweep(imagePath: "vm/web01.qcow2", hostID: "host-a", shareRoot: share.root, now: now, olderThanSeconds: 86_400).isEmpty)
        // A day and more later: host B's old claim goes; host C's (its written_at recent by then) and host A's own stay.
        let removed = store.sweep(imagePath: "vm/web01.qcow2", hostID: "host-a", shareRoot: share.root, now: now + 100_000, olderThanSeconds: 86_400)
        #expect(removed.map { String($0.split(separator: "/").last ?? "") } == ["host-b.json"])
        let left = store.claims(imagePath: "vm/web01.qcow2", shareRoot: share.root).entries.count
        #expect(left == 2)
    }

    @Test("reader: a bad, symlinked, misnamed or other-image file is ignored alone, with the reason; the good claim stands")
    func robustness() throws {
        let share = try ScratchShare()
        let store = HolderClaimStore()
        let directory = HeartbeatLayout.claimDirectory(imagePath: "vm/web01.qcow2")
        try store.write(sampleClaim(), shareRoot: share.root)
        try share.put(directory + ["junk.json"], Array("{".utf8))
        try share.put(directory + ["host-x.json"], try sampleClaim().encoded())  // host-b's claim under host-x's name
        try share.put(directory + ["host-y.json"], try sampleClaim(host: "host-y", imagePath: "vm/other.qcow2").encoded())
        try share.put(directory + ["host-z.json"], [UInt8](repeating: 32, count: HolderClaim.maximumBytes + 10))
        try share.put(["elsewhere.json"], try sampleClaim(host: "host-s").encoded())
        try FileManager.default.createSymbolicLink(atPath: share.path(directory + ["host-s.json"]), withDestinationPath: share.path(["elsewhere.json"]))
        try share.put(directory + [".host-q.json.tmp-1234"], try sampleClaim(host: "host-q").encoded())
        let (entries, _) = store.claims(imagePath: "vm/web01.qcow2", shareRoot: share.root)
        let claims = entries.compactMap { entry -> String? in
            if case .claim(let claim, _, _) = entry { return claim.hostID }
            return nil
        }
        #expect(claims == ["host-b"])
        let unusable = entries.compactMap { entry -> (String, String)? in
            if case .unusable(let file, let reason) = entry { return (String(file.split(separator: "/").last ?? ""), reason) }
            return nil
        }
        let reasons = Dictionary(unusable, uniquingKeysWith: { first, _ in first })
        #expect(reasons["junk.json"]?.contains("malformed") == true)
        #expect(reasons["host-x.json"]?.contains("named for host host-x") == true)
        #expect(reasons["host-y.json"]?.contains("vm/other.qcow2") == true)
        #expect(reasons["host-z.json"] != nil)
        #expect(reasons["host-s.json"] != nil, "a symlinked claim is never followed: \(reasons)")
        #expect(reasons.count == 5, "a writer's temporary is no claim: \(reasons)")
    }
}

extension HolderClaimTests {
    @Test("image key: SMB names are case-insensitive — a claim written as VM/Web01.qcow2 is found for vm/web01.qcow2 (and removed by it)")
    func caseInsensitiveKey() throws {
        #expect(HeartbeatLayout.imageKey(imagePath: "VM/Web01.qcow2") == HeartbeatLayout.imageKey(imagePath: "vm/web01.qcow2"))
        let share = try ScratchShare()
        let store = HolderClaimStore()
        try store.write(sampleClaim(imagePath: "VM/Web01.qcow2"), shareRoot: share.root)
        let (entries, notRead) = store.claims(imagePath: "vm/web01.qcow2", shareRoot: share.root)
        #expect(notRead == 0)
        #expect(entries.count == 1)
        guard case .claim(let claim, _, _)? = entries.first else {
            Issue.record("the claim of host-b on VM/Web01.qcow2 was not found for vm/web01.qcow2: \(entries)")
            return
        }
        #expect(claim.hostID == "host-b")
        try store.remove(hostID: "host-b", imagePath: "vm/WEB01.qcow2", shareRoot: share.root)
        #expect(store.claims(imagePath: "VM/Web01.qcow2", shareRoot: share.root).entries.isEmpty)
    }

    @Test("reader: files dated later crowd the live claim out of the newest 32 — what is left unread is .unread (missing evidence), not merely ignored")
    func crowdedDirectory() throws {
        let share = try ScratchShare()
        let store = HolderClaimStore()
        let directory = HeartbeatLayout.claimDirectory(imagePath: "vm/web01.qcow2")
        try store.write(sampleClaim(), shareRoot: share.root)
        let future = Date().addingTimeInterval(3600)
        for index in 0..<HolderClaimStore.maximumClaimsRead {
            try share.put(directory + ["junk-\(index).json"], Array("{".utf8))
            try FileManager.default.setAttributes([.modificationDate: future], ofItemAtPath: share.path(directory + ["junk-\(index).json"]))
        }
        let (entries, notRead) = store.claims(imagePath: "vm/web01.qcow2", shareRoot: share.root)
        #expect(notRead == 1)
        #expect(!entries.contains { if case .claim = $0 { return true } else { return false } }, "host-b's claim is the oldest: not read")
        #expect(entries.contains { if case .unread(_, let reason) = $0 { return reason.contains("not read") } else { return false } }, "\(entries)")
    }

    @Test("reader: a directory or FIFO squatting a host's claim name (its rewrites fail), or an unlistable claim directory: .unread, not ignored")
    func squattedName() throws {
        let share = try ScratchShare()
        let store = HolderClaimStore()
        let directory = HeartbeatLayout.claimDirectory(imagePath: "vm/web01.qcow2")
        try FileManager.default.createDirectory(atPath: share.path(directory + ["host-b.json"]), withIntermediateDirectories: true)
        #expect(mkfifo(share.path(directory + ["host-c.json"]), 0o644) == 0)
        // host-b cannot publish its claim any more: the rename onto a directory fails.
        #expect(throws: (any Error).self) { try store.write(sampleClaim(), shareRoot: share.root) }
        let (entries, notRead) = store.claims(imagePath: "vm/web01.qcow2", shareRoot: share.root)
        #expect(notRead == 2)
        let unread = entries.compactMap { entry -> String? in
            if case .unread(let file, _) = entry { return String(file.split(separator: "/").last ?? "") }
            return nil
        }
        #expect(Set(unread) == ["host-b.json", "host-c.json"], "\(entries)")
        // The image's claim directory is a file: nobody can claim the image; nothing is known.
        let other = HeartbeatLayout.claimDirectory(imagePath: "vm/web02.qcow2")
        try share.put(other, Array("x".utf8))
        let blocked = store.claims(imagePath: "vm/web02.qcow2", shareRoot: share.root)
        #expect(blocked.notRead == 1)
        #expect(blocked.entries.allSatisfy { if case .unread = $0 { return true } else { return false } }, "\(blocked.entries)")
    }
}

@Suite("Takeover records of a claim taken over (no handle closed)")
struct ClaimTakeoverRecordTests {
    func claimTakeover() -> TakeoverRecord {
        TakeoverRecord(
            imagePath: "web01/disk0.qcow2", fileNumber: "3001", newHolder: .init(hostID: "host-a", hostname: "kvm-a", addresses: ["203.0.113.1"]),
            domainName: "web01", domainUUID: "11111111-2222-3333-4444-555555555555", takenAt: 1_796_000_100,
            oldHolder: .init(
                hostID: "host-b", hostname: "kvm-b", addresses: ["203.0.113.2"], domain: .init(name: "web01", uuid: "99999999-2222-3333-4444-555555555555")),
            closedHandles: [])
    }

    @Test("codec: no closed handle, the old holder named by host_id and domain; reads back equal")
    func codec() throws {
        let record = claimTakeover()
        let bytes = try record.encoded()
        #expect(try TakeoverRecord.decode(bytes) == record)
        #expect(String(decoding: bytes, as: UTF8.self).contains("\"closed_handles\":[]"))
        #expect(record.summary.contains("its stale claim"))
    }

    @Test("judgement: the old holder's handle gone, or held again beside the new holder: stop; held alone: warn, judged again later")
    func judgement() {
        let record = claimTakeover()
        let lock = sampleUse()
        func judge(_ status: OwnHandleStatus) -> TakeoverJudgement.Verdict {
            TakeoverJudgement.judge(record, use: lock, localHostID: "host-b", localAddresses: ["203.0.113.2"], now: 1_796_000_200, ownHandle: { status })
        }
        guard case .stop = judge(.gone) else { Issue.record("gone: \(judge(.gone))"); return }
        guard case .stop = judge(.stillHeld(addresses: ["203.0.113.2"], otherHolders: ["203.0.113.1"])) else {
            Issue.record("beside the new holder"); return
        }
        guard case .warn(let reason) = judge(.stillHeld(addresses: ["203.0.113.2"])) else { Issue.record("held alone"); return }
        #expect(reason.contains("does not hold it yet"), "\(reason)")
    }
}
