@testable import DiskImages
import DomainXML
@testable import HandleEvidence
@testable import StaleHandleCleanup
import LockHygiene
import SmbvolShares
import SmbvolPresentation
import Testing

@Suite("check's report")
struct CheckReportTests {
    let domain = DomainDefinition(name: "web01", uuid: "6f1c2a3b-0000-4000-8000-000000000001", disks: [])

    func image(decisions: ImageDecisions?) throws -> ImageInspection {
        let share = Share(name: "vms", export: try SMBExport(parsing: "//qumulo1/vms"), mountPoint: "/mnt/smbvol/vms", credentials: nil, options: [])
        return ImageInspection(
            image: LocatedImage(
                target: "vda", image: "/mnt/smbvol/vms/web01.qcow2", isBackingFile: false, share: share, relativePath: "web01.qcow2",
                access: .exclusive),
            clusterPath: "/vms/web01.qcow2", fileNumber: "42", decisions: decisions)
    }

    func staleHandle(note: String = "no record lists 203.0.113.9", collision: Bool = false) -> HandleDecision {
        var decision = HandleDecision(
            handle: HandleFacts(location: "loc-1", ownerAuthId: "500", ownerName: "svc\r\nforged line"), classification: .stale, action: .close,
            reason: "no session from 203.0.113.9", clientAddresses: ["203.0.113.9"], idleSeconds: 600)
        decision.heartbeats = [HolderHeartbeat(address: "203.0.113.9", status: .noRecord, note: note, collision: collision)]
        return decision
    }

    func report(_ images: [ImageInspection], operation: HygieneOperation = .start, mounted: Bool = true) -> CheckReport {
        CheckReport(
            inspection: DomainInspection(
                domainName: domain.name, domainUUID: domain.uuid, policy: HygienePolicy(operation: operation), images: images,
                unmanagedDisks: [UnmanagedDisk(target: "vdb", source: "/var/lib/other.img")], failure: nil),
            domain: domain, mounted: ["vms": mounted])
    }

    @Test("text: a line per disk, image and handle; a value from the cluster cannot start a line")
    func text() throws {
        let decisions = ImageDecisions(decisions: [staleHandle()], verdict: .proceed, summary: "1 stale")
        let text = report([try image(decisions: decisions)]).text()
        #expect(
            text == """
                domain web01 (6f1c2a3b-0000-4000-8000-000000000001): start check; nothing is mounted or closed
                disk vda: share vms, mounted at /mnt/smbvol/vms
                  image /mnt/smbvol/vms/web01.qcow2 → cluster path /vms/web01.qcow2
                  handle loc-1 owner svc forged line client 203.0.113.9 idle 10 min 0 s: would close — no session from 203.0.113.9
                    heartbeat no record lists 203.0.113.9
                disk vdb: /var/lib/other.img is on no configured share (ignored)
                verdict: proceed — the start would proceed after closing 1 stale handle(s)

                """)
    }

    @Test("verdict line: a refusal names the refusing disks")
    func refusal() throws {
        let decisions = ImageDecisions(decisions: [], verdict: .refuse, summary: "a live holder")
        let report = report([try image(decisions: decisions)], operation: .migration, mounted: false)
        #expect(report.verdictLine == "verdict: refuse — the incoming migration would be refused (vda: a live holder)")
        #expect(report.text().contains("disk vda: share vms, would mount at /mnt/smbvol/vms\n  image"))
        #expect(report.text().contains("  no handles open\n"))
    }

    @Test("JSON: the keys outside tools rely on, unmanaged disks with null share")
    func json() throws {
        let decisions = ImageDecisions(decisions: [staleHandle()], verdict: .proceed, summary: "")
        let json = report([try image(decisions: decisions)]).json()
        #expect(json.hasPrefix(#"{"domain": {"name": "web01", "uuid": "6f1c2a3b-0000-4000-8000-000000000001"}, "verdict": "proceed", "disks": ["#))
        #expect(json.contains(#""handles": [{"location": "loc-1", "owner": "svc\r\nforged line", "client_addresses": ["203.0.113.9"], "decision": "close""#))
        #expect(json.contains(#"{"target": "vdb", "image": "/var/lib/other.img", "share": null, "cluster_path": null, "handles": []}"#))
        #expect(json.hasSuffix(#""errors": []}"# + "\n"))
    }

    @Test("heartbeat warnings: collisions only, each note once")
    func heartbeatWarnings() throws {
        let decisions = ImageDecisions(
            decisions: [staleHandle(note: "collision on 203.0.113.9", collision: true), staleHandle(note: "collision on 203.0.113.9", collision: true), staleHandle()],
            verdict: .proceed, summary: "")
        #expect(report([try image(decisions: decisions)]).heartbeatWarnings == ["heartbeat collision on 203.0.113.9"])
    }
}
