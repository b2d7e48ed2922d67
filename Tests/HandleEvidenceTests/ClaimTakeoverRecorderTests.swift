@testable import HandleEvidence
@testable import StaleHandleCleanup
import DiskImages
import HostHeartbeat
import LockHygiene
import Logging
import SmbvolShares
import Testing

@Suite("takeover records for claims taken over")
struct ClaimTakeoverRecorderTests {
    func image(fileNumber: String? = "3001") -> ImageInspection {
        ImageInspection(
            image: LocatedImage(
                target: "vda", image: "/mnt/vms/web01.qcow2", isBackingFile: false,
                share: Share(name: "vms", export: try! SMBExport(parsing: "//srv/vms"), mountPoint: "/mnt/vms", credentials: nil, options: []),
                relativePath: "web01.qcow2", access: .exclusive),
            clusterPath: "/vms/web01.qcow2", fileNumber: fileNumber, decisions: nil)
    }

    func claim(_ host: String) -> HolderClaimFact {
        HolderClaimFact(
            hostID: host, hostname: "kvm-" + host, addresses: ["203.0.113.2"], domainName: "web01", domainUUID: "99999999-2222-3333-4444-555555555555",
            writtenAt: "2026-12-07T00:00:00Z", ageSeconds: 300)
    }

    @Test("one record per claimed host, naming its host_id, addresses and domain, with no closed handle")
    func records() throws {
        var recorder = ShareTakeoverRecorder(hostID: "host-a", hostname: "kvm-a", localAddresses: ["203.0.113.1"], logger: Logger(label: "test"))
        recorder.now = { 1_796_000_100 }
        let taken = ClaimTakeover(domainName: "web01", domainUUID: "11111111-2222-3333-4444-555555555555", image: image(), claims: [claim("host-b"), claim("host-b"), claim("host-c")])
        let records = try recorder.records(for: taken)
        #expect(records.map(\.oldHolder.hostID) == ["host-b", "host-c"])
        #expect(records.allSatisfy { $0.closedHandles.isEmpty && $0.fileNumber == "3001" && $0.newHolder.hostID == "host-a" })
        #expect(records.first?.oldHolder.domain?.name == "web01")
        #expect(records.first?.oldHolder.addresses == ["203.0.113.2"])
        // No file number (the cluster has no such file): cannot be described.
        #expect(throws: (any Error).self) {
            try recorder.records(for: ClaimTakeover(domainName: "web01", domainUUID: "u", image: image(fileNumber: nil), claims: [claim("host-b")]))
        }
    }
}
