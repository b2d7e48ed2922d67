import AttachmentLocks
import HostHeartbeat
import SmbvolSystem
import SmbvolUseCases
import Testing

@Suite("Takeover judgement input from an attachment lock")
struct LocalImageUseTests {
    @Test("dated by recorded_at (to the end of its microsecond), else by created_at (to the end of its second)")
    func dating() {
        var lock = AttachmentLock(
            id: "b1", share: "vmstore", mountPoint: "/srv/vmstore", domainUUID: "uuid-1", domainName: "web01", disk: "vda",
            image: "/srv/vmstore/web01.qcow2", reason: "domain web01 disk vda", context: .hook,
            createdAt: UTCTimestamp.iso8601(secondsSinceEpoch: 1_795_000_000), fileNumber: "3001",
            recordedAt: UTCTimestamp.preciseISO8601(secondsSinceEpoch: 1_796_000_000))
        let recorded = LocalImageUse(lock: lock)
        #expect(recorded.lockID == "b1" && recorded.fileNumber == "3001")
        #expect(recorded.since == 1_796_000_000.000_001)
        #expect(recorded.sinceText == lock.recordedAt)
        lock.recordedAt = nil
        let created = LocalImageUse(lock: lock)
        #expect(created.since == 1_795_000_001)
        #expect(created.sinceText == lock.createdAt)
    }
}
