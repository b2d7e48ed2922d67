import Foundation
import Testing

/// Hot-attach, detach and reconcile through the built binary, in a private mount namespace.
@Suite("smbvol attach, detach and reconcile", .serialized)
struct AttachReconcileTests {
    let uuid = "0c9a3b1e-5d2f-4a6b-9c8d-7e6f5a4b3c2d"

    @Test("attach --share --path: closes the stale handle, records the lock, prints the image path; detach releases")
    func attachAndDetach() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let attach = fixture.mounts.smbvol(["attach", "--domain", uuid, "--disk", "vdb", "--share", "vmstore", "--path", "web01/disk0.qcow2", "--json"])
        #expect(attach.status == 0, "\(attach.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(attach.stdout.utf8)) as? [String: Any]
        #expect(object?["image"] as? String == fixture.mountPoint + "/web01/disk0.qcow2")
        #expect(object?["disk"] as? String == "vdb")
        #expect(object?["share"] as? String == "vmstore")
        #expect((object?["lock_id"] as? String)?.count == 16)
        #expect(try fixture.simulator.state().closedLocations == ["7.1.1"])
        #expect(fixture.isMounted)

        let detach = fixture.mounts.smbvol(["detach", "--domain", uuid, "--disk", "vdb"])
        #expect(detach.status == 0, "\(detach.stderr)")
        #expect(detach.stdout.contains("unmounted"))
        #expect(try fixture.mounts.locks().isEmpty)
        #expect(!fixture.isMounted)
        #expect(fixture.mounts.smbvol(["detach", "--domain", uuid, "--disk", "vdb"]).status == 1)
    }

    @Test("attach with a live holder: exit 3, nothing closed, nothing kept")
    func attachRefused() throws {
        let fixture = try HookFixture(scenario: "live.json")
        let attach = fixture.mounts.smbvol(["attach", "--domain", uuid, "--disk", "vdb", "--share", "vmstore", "--path", "web01/disk0.qcow2"])
        #expect(attach.status == 3)
        #expect(attach.stderr.contains("10.0.0.21"), "\(attach.stderr)")
        #expect(try fixture.simulator.state().closedLocations.isEmpty)
        #expect(try fixture.mounts.locks().isEmpty)
        #expect(!fixture.isMounted)
    }

    @Test("attach --connection-info: the password goes to a temporary 0600 file, never to argv; gone afterwards")
    func attachConnectionInfo() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let info = fixture.mounts.directory + "/connection-info.json"
        try fixture.mounts.samba.setPassword("nova", "Inf0-S3cret")
        try #"{"driver_volume_type": "smbfs", "data": {"export": "//srv/vmstore", "name": "web02/disk0.qcow2", "format": "qcow2", "options": "-o vers=3.1.1,username=nova,password=Inf0-S3cret"}}"#
            .write(toFile: info, atomically: true, encoding: .utf8)
        let attach = fixture.mounts.smbvol(["attach", "--domain", uuid, "--disk", "vdc", "--connection-info", info])
        #expect(attach.status == 0, "\(attach.stderr)")
        #expect(attach.stdout.hasSuffix("/web02/disk0.qcow2\n"), "\(attach.stdout)")
        let mountLog = fixture.mounts.logLines("mount-calls.log").joined(separator: "\n")
        #expect(mountLog.contains("user=nova,pass=<redacted:11>"), "\(mountLog)")
        #expect(!mountLog.contains("Inf0-S3cret"))
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: fixture.mounts.stateDirectory + "/credentials")) ?? []
        #expect(leftovers.isEmpty, "\(leftovers)")
        #expect(try fixture.mounts.locks().contains { $0["disk"] as? String == "vdc" })
    }

    @Test("reconcile drops locks of domains not running, keeps operator locks, unmounts what nobody holds")
    func reconcile() throws {
        let fixture = try HookFixture(scenario: "stale.json")
        let running = "11111111-2222-3333-4444-555555555555"
        let gone = "99999999-8888-7777-6666-555555555555"
        for (domain, disk, path) in [(running, "vda", "web01/disk0.qcow2"), (gone, "vdb", "web02/disk0.qcow2")] {
            let result = fixture.mounts.smbvol(["attach", "--domain", domain, "--disk", disk, "--share", "vmstore", "--path", path])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let operatorLock = fixture.mounts.smbvol(["lock", "add", "--share", "vmstore", "--reason", "backup window"])
        #expect(operatorLock.status == 0, "\(operatorLock.stderr)")
        // libvirt's test driver: one running domain with the first UUID, the second is unknown.
        let node = fixture.mounts.directory + "/node.xml"
        try """
            <node>
              <domain type='test'><name>web01</name><uuid>\(running)</uuid><memory>65536</memory>
                <os><type>hvm</type></os></domain>
            </node>
            """.write(toFile: node, atomically: true, encoding: .utf8)
        let uri = "test://" + node

        let dryRun = fixture.mounts.smbvol(["reconcile", "--connect", uri, "--dry-run"])
        #expect(dryRun.status == 0, "\(dryRun.stderr)")
        #expect(dryRun.stdout.contains("would drop"), "\(dryRun.stdout)")
        #expect(try fixture.mounts.locks().count == 3)

        let real = fixture.mounts.smbvol(["reconcile", "--connect", uri])
        #expect(real.status == 0, "\(real.stderr)")
        let locks = try fixture.mounts.locks()
        #expect(Set(locks.compactMap { $0["domain_uuid"] as? String }) == [running, ""] || locks.count == 2, "\(locks)")
        #expect(!locks.contains { $0["domain_uuid"] as? String == gone })
        #expect(locks.contains { $0["context"] as? String == "operator" })
        #expect(fixture.isMounted)

        // With every hook lock gone and the operator lock deleted, reconcile unmounts.
        for lock in locks { _ = fixture.mounts.smbvol(["lock", "delete", lock["id"] as? String ?? ""]) }
        let unknown = fixture.mounts.smbvol(["reconcile", "--connect", "test:///nonexistent/node.xml"])
        #expect(unknown.status == 1)
        // One line from smbvol (libxml2 may add its own warning for the test driver's missing file).
        #expect(unknown.stderr.split(separator: "\n").filter { $0.hasPrefix("smbvol:") }.count == 1, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("smbvol: error: libvirt"), "\(unknown.stderr)")
    }
}
