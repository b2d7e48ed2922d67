import AttachmentLocks
import QumuloClient
import SmbvolPresentation
import SmbvolSystem
@testable import SmbvolUseCases
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What an OutputWriter wrote to a temporary file.
func written(_ body: (OutputWriter) -> Void) throws -> String {
    var template = Array("/tmp/smbvol-presentation-XXXXXX".utf8CString)
    let descriptor = mkstemp(&template)
    try #require(descriptor >= 0)
    let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    defer {
        close(descriptor)
        unlink(path)
    }
    let output = OutputWriter(descriptor: descriptor, capacity: 16)
    body(output)
    output.flush()
    return String(decoding: try FileDescriptorIO.readFile(path: path, limit: 1 << 20), as: UTF8.self)
}

@Suite("renderers")
struct OutputRenderingTests {
    let handle = ListedHandle(
        location: "17", fileNumber: "42", owner: "500", ownerName: "svc\u{1B}[2J", path: "/vms/web01.qcow2", numByteRangeLocks: 2,
        clientAddresses: ["203.0.113.9", "203.0.113.10"])

    /// `handles` listed as `handles list` prints them (table or JSON).
    func listing(json: Bool, _ handles: [ListedHandle]) throws -> String {
        try written { output in
            let printer = HandlePrinter(json: json, output: output)
            printer.begin()
            handles.forEach(printer.print)
            printer.end(missing: [])
        }
    }

    var unknownClients: ListedHandle {
        var handle = handle
        handle.clientAddresses = nil
        return handle
    }

    @Test("handle listing as a table: padded columns, escaped values, unknown clients")
    func handleTable() throws {
        #expect(
            try listing(json: false, [handle, unknownClients]) == """
                LOCATION             OWNER                CLIENT                   BRL  PATH
                17                   svc\\u{1B}[2J              203.0.113.9,203.0.113.10 2    /vms/web01.qcow2
                17                   svc\\u{1B}[2J              unknown                  2    /vms/web01.qcow2

                """)
    }

    @Test("handle listing as JSON: one handle per line, null client addresses when unknown, missing evidence")
    func handleJSON() throws {
        #expect(
            try listing(json: true, [handle, unknownClients]) == """
                {"handles": [
                  {"location": "17", "file_number": "42", "owner": "500", "owner_name": "svc\\u001b[2J", "path": "/vms/web01.qcow2", "num_byte_range_locks": 2, "client_addresses": ["203.0.113.9", "203.0.113.10"]},
                  {"location": "17", "file_number": "42", "owner": "500", "owner_name": "svc\\u001b[2J", "path": "/vms/web01.qcow2", "num_byte_range_locks": 2, "client_addresses": null}
                ], "missing_evidence": []}

                """)
        #expect(try listing(json: true, []) == "{\"handles\": [], \"missing_evidence\": []}\n")
    }

    let lock = AttachmentLock(
        id: "3f2a", share: "vms", mountPoint: "/mnt/smbvol/vms", domainUUID: "6f1c", domainName: "web01", disk: "vdb", reason: "domain web01 disk vdb",
        context: .hook, createdAt: "2026-01-01T00:00:00Z")

    @Test("locks: a line with its age, and the JSON keys")
    func locks() throws {
        let created = try #require(UTCTimestamp.secondsSinceEpoch(iso8601: "2026-01-01T00:00:00Z"))
        #expect(ShareText.lockLines([lock], now: created + 7500) == ["vms  3f2a  hook  web01 vdb  2h5m  domain web01 disk vdb"])
        #expect(LockText.age(59) == "59s")
        #expect(LockText.age(3 * 86400 + 7200) == "3d2h")
        #expect(
            ShareText.locksDocument([lock])
                == #"{"locks": [{"id": "3f2a", "share": "vms", "domain_uuid": "6f1c", "domain_name": "web01", "disk": "vdb", "reason": "domain web01 disk vdb", "context": "hook", "created_at": "2026-01-01T00:00:00Z"}]}"#
                + "\n")
    }

    @Test("attach, detach, unmount and reconcile lines")
    func shareLines() {
        #expect(
            ShareText.attachDocument(domainUUID: "6f1c", disk: "vdb", image: "/mnt/smbvol/vms/a.qcow2", lock: nil)
                == #"{"domain_uuid": "6f1c", "disk": "vdb", "share": "", "mount_point": "", "image": "/mnt/smbvol/vms/a.qcow2", "lock_id": ""}"# + "\n")
        var release = ReleaseReport()
        release.removedLocks = [lock]
        release.unmountedShares = ["vms"]
        #expect(ShareText.detachLines(release) == ["released lock 3f2a (domain web01 disk vdb)", "unmounted vms"])
        #expect(ShareText.lockDeletedLines(lock, report: release) == ["deleted lock 3f2a on share vms", "unmounted share vms"])
        #expect(ShareText.unmountLine(.notMounted, share: "vms") == "share vms is not mounted")
        #expect(ShareText.unmountLine(.local(mountPoint: "/srv/vms"), share: "vms") == "share vms is local (/srv/vms): nothing to unmount")
        var report = Reconcile.Report()
        report.steps = [.droppedLock(id: "3f2a", reason: "r", domainUUID: "6f1c"), .unmountingUnheld(share: "vms", mountPoint: "/mnt/smbvol/vms")]
        #expect(
            ShareText.reconcileLines(report, dryRun: true) == [
                "would drop lock 3f2a: r (domain 6f1c is not active in libvirt)", "would unmount vms at /mnt/smbvol/vms: no lock holds it",
            ])
        #expect(ShareText.reconcileLines(report, dryRun: false)[0].hasPrefix("dropped lock 3f2a"))
    }

    @Test("holders: an unmounted share, a share that could not be read, the JSON")
    func holders() {
        var hung = ShareHolders(share: "vms", directory: "/mnt/smbvol/vms", mounted: true)
        hung.error = "the share does not answer"
        let unmounted = ShareHolders(share: "iso", directory: "/mnt/smbvol/iso", mounted: false)
        #expect(HoldersText.lines(unmounted) == ["share iso (/mnt/smbvol/iso): not mounted; no records read"])
        #expect(HoldersText.lines(hung) == ["share vms (/mnt/smbvol/vms): the share does not answer"])
        #expect(HoldersText.warnings([unmounted, hung]) == ["share vms: the share does not answer"])
        #expect(
            HoldersText.document([unmounted])
                == #"{"shares": [{"share": "iso", "directory": "/mnt/smbvol/iso", "mounted": false, "error": null, "hosts": [], "unusable": []}]}"# + "\n")
    }

    @Test("fence: the agent's lines, the fence and unfence documents")
    func fence() {
        #expect(FenceText.agentLines(.poweredOff) == ["Success: Powered OFF"])
        #expect(FenceText.agentLines(.statusOff) == ["Status: OFF"])
        #expect(FenceText.agentLines(.passed).isEmpty)
        #expect(FenceText.listLines([], shareCount: 2, clusterName: "qumulo1") == ["no host is fenced on the 2 share(s) of cluster qumulo1"])
        let target = FenceTarget(host: "kvm2", addresses: ["203.0.113.20", "203.0.113.2"], source: "heartbeat records")
        #expect(
            FenceText.unfenceDocument(target, dryRun: true, changedShares: ["vms"])
                == #"{"unfence": {"host": "kvm2", "addresses": ["203.0.113.2", "203.0.113.20"], "source": "heartbeat records", "still_beats_on": [], "dry_run": true, "changed_shares": ["vms"]}}"#
                + "\n")
    }

    @Test("the host_id collision warning heartbeat and holders share")
    func collision() {
        #expect(
            HeartbeatText.collision(hostname: "kvm9", addresses: ["203.0.113.9", "203.0.113.10"], hostID: "abc")
                == "HOST_ID COLLISION: host kvm9 at 203.0.113.9, 203.0.113.10 writes records with this host's host_id abc (cloned /etc/machine-id?); give one of them a distinct host_id in smbvol.toml")
    }
}
