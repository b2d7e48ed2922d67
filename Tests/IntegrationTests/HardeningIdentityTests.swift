import Foundation
import Testing

/// Hardening (identity): an image is the cluster's file, not a spelling of its path,
/// and nothing the cluster answers is trusted to be on the file that was asked about. Each
/// case here closed a live holder's handle before.
@Suite("hardening: image identity and filters", .serialized)
struct HardeningIdentityTests {
    /// This host is 10.0.0.13 (local_addresses); a live session of svc-kvm from it.
    static let localHost = #"local_addresses = ["10.0.0.13"]"#
    static let liveLocalHandle = #"[{"path": "/vmstore/web01/disk0.qcow2", "location": "7.1.1", "owner": "1001", "client_address": "10.0.0.13", "num_byte_range_locks": 2}]"#
    static let liveLocalSession = #"[{"originator": "10.0.0.13", "auth_id": "1001", "idle_seconds": 3}]"#
    static let files = #"[{"path": "/vmstore/web01/disk0.qcow2", "id": "3001", "links": ["/vmstore/web02/link.qcow2"]}, {"path": "/vmstore/web02/disk0.qcow2", "id": "3002"}]"#

    /// Domain A starts on a clean image; then its qemu holds the image from this host.
    func startFirstDomain(_ fixture: HardeningFixture) throws {
        let first = fixture.hook("web01", "prepare", xml: fixture.domainXML(uuid: HardeningFixture.uuidA, image: fixture.mountPoint + "/web01/disk0.qcow2"))
        #expect(first.status == 0, "\(first.stderr)")
        let stored = try String(contentsOfFile: fixture.mounts.stateDirectory + "/locks.json", encoding: .utf8)
        #expect(stored.contains(#""file_number" : "3001""#), "the lock records the image's file number: \(stored)")
        try fixture.simulator?.addHandles(Self.liveLocalHandle)
        try fixture.simulator?.addSessions(Self.liveLocalSession)
    }

    @Test("another spelling of the same image (./, //) in a second domain: this host's live handle is kept and the start refused", arguments: ["/web01/./disk0.qcow2", "//web01//disk0.qcow2"])
    func otherSpelling(_ spelling: String) throws {
        let fixture = try HardeningFixture(scenario: HardeningFixture.scenario(files: Self.files), topLevel: Self.localHost)
        try startFirstDomain(fixture)
        let second = fixture.hook("web01b", "prepare", xml: fixture.domainXML(name: "web01b", uuid: HardeningFixture.uuidB, image: fixture.mountPoint + spelling))
        #expect(second.status == 1, "\(second.stderr)")
        #expect(second.stderr.contains("local domain web01"), "\(second.stderr)")
        #expect(try fixture.closed().isEmpty)
    }

    @Test("a hard link the cluster resolves to the same file number: recognised, nothing closed")
    func hardLink() throws {
        let fixture = try HardeningFixture(scenario: HardeningFixture.scenario(files: Self.files), topLevel: Self.localHost)
        try startFirstDomain(fixture)
        let second = fixture.hook("web02", "prepare", xml: fixture.domainXML(name: "web02", uuid: HardeningFixture.uuidB, image: fixture.mountPoint + "/web02/link.qcow2"))
        #expect(second.status == 1, "\(second.stderr)")
        #expect(try fixture.closed().isEmpty)
        let check = fixture.smbvol(["check", "--xml", try Self.write(fixture.domainXML(name: "web02", uuid: HardeningFixture.uuidB, image: fixture.mountPoint + "/web02/link.qcow2"), in: fixture)])
        #expect(check.status == 3, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("would refuse"), "\(check.stdout)")
    }

    @Test("an attachment record written before file numbers were recorded still loads, and still protects the image (path, then the cluster's file number)")
    func oldRecord() throws {
        let fixture = try HardeningFixture(scenario: HardeningFixture.scenario(files: Self.files, sessions: Self.liveLocalSession, handles: Self.liveLocalHandle), topLevel: Self.localHost)
        let mountPoint = fixture.mountPoint
        try FileManager.default.createDirectory(atPath: fixture.mounts.stateDirectory, withIntermediateDirectories: true)
        // The format of earlier releases: no file_number, no cluster_path.
        try """
            {"version": 1, "locks": [{"id": "00112233445566aa", "share": "vmstore", "mount_point": "\(mountPoint)",
              "domain_uuid": "\(HardeningFixture.uuidA)", "domain_name": "web01", "disk": "vda",
              "image": "\(mountPoint)/web01/disk0.qcow2", "reason": "domain web01 disk vda", "context": "hook",
              "created_at": "2026-01-31T12:00:00Z"}]}
            """.write(toFile: fixture.mounts.stateDirectory + "/locks.json", atomically: true, encoding: .utf8)
        #expect(try fixture.mounts.locks().count == 1)
        for image in ["/web01/./disk0.qcow2", "/web02/link.qcow2"] {
            let second = fixture.hook("web02", "prepare", xml: fixture.domainXML(name: "web02", uuid: HardeningFixture.uuidB, image: mountPoint + image))
            #expect(second.status == 1, "\(image): \(second.stderr)")
            #expect(second.stderr.contains("local domain web01"), "\(image): \(second.stderr)")
        }
        #expect(try fixture.closed().isEmpty)
        // handles close --stale-only by the other path: the same rule, and one "refused:".
        let close = fixture.smbvol(["handles", "close", "--path", "/vmstore/web02/link.qcow2", "--stale-only", "--yes"] + fixture.clusterFlags)
        #expect(close.status == 3, "\(close.stdout)\(close.stderr)")
        #expect(close.stdout.contains("refused: "), "\(close.stdout)")
        #expect(!close.stdout.contains("refused: refused:"), "\(close.stdout)")
        #expect(try fixture.closed().isEmpty)
    }

    /// F = web01's image has a stale-looking handle; web02's image has one too, from a dead host.
    static let twoFiles = #"[{"path": "/vmstore/web01/disk0.qcow2", "location": "7.1.1", "owner": "1001", "client_address": "10.0.0.99", "num_byte_range_locks": 1}, {"path": "/vmstore/web02/disk0.qcow2", "location": "7.2.2", "owner": "1002", "client_address": "10.0.0.98", "num_byte_range_locks": 1}]"#

    @Test("a cluster that ignores a listing's filter: entries of other files or identities are dropped with a warning, nothing is closed", arguments: ["/v1/smb/files/", "/v1/files/", "/v1/smb/sessions/"])
    func ignoredFilter(_ prefix: String) throws {
        let sessions = #"[{"originator": "10.0.0.50", "auth_id": "1002", "idle_seconds": 3}]"#
        let fault = #"[{"kind": "ignore_filter", "path_prefix": "\#(prefix)"}]"#
        let fixture = try HardeningFixture(
            scenario: HardeningFixture.scenario(files: Self.files, sessions: sessions, handles: Self.twoFiles, faults: fault))
        let start = fixture.hook("web01", "prepare", xml: fixture.domainXML(image: fixture.mountPoint + "/web01/disk0.qcow2"))
        #expect(start.status == 0, "\(start.stderr)")
        #expect(try fixture.closed().isEmpty, "\(prefix)")
        #expect(fixture.syslog.lines.contains { $0.contains("does not match its filter") }, "\(fixture.syslog.lines)")
    }

    @Test("handles close --path on a cluster that ignores file_number closes only the file's own handle")
    func closeByPathIgnoredFilter() throws {
        let fault = #"[{"kind": "ignore_filter", "path_prefix": "/v1/smb/files/"}]"#
        let fixture = try HardeningFixture(scenario: HardeningFixture.scenario(files: Self.files, handles: Self.twoFiles, faults: fault))
        let close = fixture.smbvol(["handles", "close", "--path", "/vmstore/web01/disk0.qcow2", "--yes"] + fixture.clusterFlags)
        #expect(try fixture.closed() == ["7.1.1"], "\(close.stdout)\(close.stderr)")
        #expect(close.stderr.contains("of other files"), "\(close.stderr)")
    }

    static func write(_ text: String, in fixture: HardeningFixture) throws -> String {
        let path = fixture.mounts.directory + "/domain-\(UUID().uuidString.prefix(6)).xml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
