import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Hardening (input): ambiguous share names, hostile
/// strings in output and logs, the XML reader's cost and the watchdog's verdict, bounds on
/// every operator input, and the XML details.
@Suite("hardening: inputs, output escaping, bounds", .serialized)
struct HardeningInputTests {
    @Test("two cluster shares answer to the share's name (case, tenant): an error naming both, nothing cached", arguments: ["VMStore", "vmstore"])
    func ambiguousShareRoot(_ secondName: String) throws {
        let shares = #"[{"id": "1", "name": "vmstore", "fs_path": "/vmstore"}, {"id": "2", "name": "\#(secondName)", "fs_path": "/tenant2/vmstore", "tenant_id": 2}]"#
        let fixture = try HardeningFixture(scenario: HardeningFixture.scenario(shares: shares), onClusterError: "continue", shareLines: "")
        let start = fixture.hook("web01", "prepare", xml: fixture.domainXML(image: fixture.mountPoint + "/web01/disk0.qcow2"))
        #expect(start.status == 1, "\(start.stderr)")
        #expect(start.stderr.contains("/tenant2/vmstore") && start.stderr.contains("fs_path /vmstore") && start.stderr.contains("set fs_path"), "\(start.stderr)")
        let cache = (try? String(contentsOfFile: fixture.mounts.stateDirectory + "/share-roots.json", encoding: .utf8)) ?? ""
        #expect(!cache.contains("vmstore"), "\(cache)")
        #expect(try fixture.mounts.locks().isEmpty)
    }

    static let hostileName = #"svc\r\nsmbvol: closed 9.9.9 \u001b[31mRED\u009b2J"#
    static let hostileAddress = #"10.0.0.21\r\nFORGED\u2028line"#
    static let hostileLocation = #"7.1.9\u001b]0;pwned\u0007"#

    static var hostileScenario: String {
        HardeningFixture.scenario(
            sessions: #"[{"originator": "\#(hostileAddress)", "auth_id": "1001", "idle_seconds": 3}]"#,
            handles: #"[{"path": "/vmstore/web01/disk0.qcow2", "location": "\#(hostileLocation)", "owner": "1001", "client_address": "\#(hostileAddress)", "num_byte_range_locks": 2}]"#,
            identities: #"[{"auth_id": "1001", "name": "\#(hostileName)"}]"#)
    }

    static func forgesNoLine(_ text: String) -> Bool {
        HardeningFixture.isInert(text)
            && !text.split(separator: "\n").contains { $0.hasPrefix("FORGED") || $0.hasPrefix("smbvol: closed") || $0.hasPrefix("line") }
    }

    @Test("CR LF, escape sequences and line separators from the cluster and the XML reach no line of output or log unescaped")
    func hostileStrings() throws {
        let fixture = try HardeningFixture(scenario: Self.hostileScenario)
        let xml = fixture.domainXML(name: "web01&#13;&#10;smbvol: forged", image: fixture.mountPoint + "/web01/disk0.qcow2")
        let start = fixture.hook("web01", "prepare", xml: xml)
        #expect(start.status == 1, "\(start.stderr)")
        #expect(start.stderr.split(separator: "\n").count <= 2, "\(start.stderr)")
        #expect(Self.forgesNoLine(start.stderr), "\(start.stderr.debugDescription)")
        #expect(!start.stderr.split(separator: "\n").contains { $0.hasPrefix("smbvol: forged") })

        let file = fixture.mounts.directory + "/hostile.xml"
        try xml.write(toFile: file, atomically: true, encoding: .utf8)
        let check = fixture.smbvol(["check", "--xml", file])
        #expect(check.status == 3, "\(check.stdout)\(check.stderr)")
        #expect(Self.forgesNoLine(check.stdout), "\(check.stdout.debugDescription)")
        #expect(check.stdout.contains("\\u{1B}"), "escapes are visible: \(check.stdout.debugDescription)")

        let list = fixture.smbvol(["handles", "list", "--path", "/vmstore/web01/disk0.qcow2"] + fixture.clusterFlags)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(Self.forgesNoLine(list.stdout), "\(list.stdout.debugDescription)")
        #expect(list.stdout.split(separator: "\n").count == 2, "header and one handle: \(list.stdout.debugDescription)")

        let audit = fixture.syslog.lines
        #expect(audit.contains { $0.contains("event=refuse") }, "\(audit)")
        for line in audit {
            #expect(HardeningFixture.isInert(line) && !line.contains("\n"), "\(line.debugDescription)")
        }
    }

    @Test("100 000 attributes (1 MB) are read in linear time: the start completes with its mount and lock, far inside the deadline")
    func manyAttributes() throws {
        let fixture = try HardeningFixture(scenario: HardeningFixture.scenario(), onClusterError: "continue", deadlineSeconds: 5)
        let attributes = (0..<100_000).map { "a\($0)='x'" }.joined(separator: " ")
        let xml = fixture.domainXML(image: fixture.mountPoint + "/web01/disk0.qcow2").replacingOccurrences(of: "<domain type='kvm'>", with: "<domain type='kvm' \(attributes)>")
        let start = fixture.hook("web01", "prepare", xml: xml, timeout: .seconds(30))
        #expect(start.status == 0, "\(start.stderr)")
        #expect(try fixture.mounts.locks().count == 1, "the start that reports success has its lock")
    }

    @Test("a prepare cut off by the watchdog before its mount and lock are recorded fails, even with on_cluster_error = continue")
    func watchdogNeverReportsSuccessEarly() throws {
        let fixture = try HardeningFixture(scenario: HardeningFixture.scenario(), onClusterError: "continue", deadlineSeconds: 0.05)
        let filler = "<!--" + String(repeating: "x", count: 60 * 1024 * 1024) + "-->"
        let xml = fixture.domainXML(image: fixture.mountPoint + "/web01/disk0.qcow2").replacingOccurrences(of: "<devices>", with: filler + "<devices>")
        let start = fixture.hook("web01", "prepare", xml: xml, timeout: .seconds(60))
        #expect(start.status == 1, "\(start.stderr)")
        #expect(start.stderr.contains("did not finish within deadline_seconds"), "\(start.stderr)")
        #expect(try fixture.mounts.locks().isEmpty)
    }

    @Test("a FIFO in shares.d (a writer that never comes): release and reconnect exit 0, a start fails with one line — none hangs")
    func fifoInSharesDirectory() throws {
        let fixture = try HardeningFixture(scenario: HardeningFixture.scenario(), deadlineSeconds: 2)
        let sharesDirectory = (fixture.mounts.configPath as NSString).deletingLastPathComponent + "/shares.d"
        try FileManager.default.createDirectory(atPath: sharesDirectory, withIntermediateDirectories: true)
        #expect(mkfifo(sharesDirectory + "/stuck.toml", 0o600) == 0)
        let xml = fixture.domainXML(image: fixture.mountPoint + "/web01/disk0.qcow2")
        for operation in ["release", "reconnect"] {
            let run = fixture.hook("web01", operation, operation == "release" ? "end" : "begin", xml: xml, timeout: .seconds(20))
            #expect(run.status == 0, "\(operation): \(run.stderr)")
            #expect(run.stdout.isEmpty)
        }
        let start = fixture.hook("web01", "prepare", xml: xml, timeout: .seconds(20))
        #expect(start.status == 1)
        #expect(start.stderr.contains("stuck.toml") && start.stderr.contains("not a regular file"), "\(start.stderr)")
        #expect(start.stderr.split(separator: "\n").count == 1, "\(start.stderr)")
    }

    @Test("state_dir writable by others or owned by another user: a start fails with the one-line fix; a forged migration mark is never trusted")
    func untrustedStateDirectory() throws {
        let fixture = try HardeningFixture(scenario: HardeningFixture.scenario())
        let state = fixture.mounts.stateDirectory
        let xml = fixture.domainXML(image: fixture.mountPoint + "/web01/disk0.qcow2")
        try FileManager.default.createDirectory(atPath: state + "/migrations", withIntermediateDirectories: true)
        // A forged migration mark for web01 (it would turn a refusal into a start).
        try "\(Date().timeIntervalSince1970)".write(toFile: state + "/migrations/" + HardeningFixture.uuidA, atomically: true, encoding: .utf8)
        for (label, change) in [
            ("group/other-writable state_dir", { chmod(state, 0o777) == 0 }),
            ("migrations owned by another user", { chmod(state, 0o755) == 0 && chown(state + "/migrations", 65534, 65534) == 0 }),
            ("a mark writable by others", {
                chown(state + "/migrations", 0, 0) == 0 && chmod(state + "/migrations/" + HardeningFixture.uuidA, 0o666) == 0
            }),
        ] as [(String, () -> Bool)] {
            #expect(change(), "\(label)")
            let start = fixture.hook("web01", "prepare", xml: xml, timeout: .seconds(20))
            #expect(start.status == 1, "\(label): \(start.stderr)")
            #expect(start.stderr.contains("could forge smbvol's records") && start.stderr.contains("chmod go-w"), "\(label): \(start.stderr)")
            #expect(!FileManager.default.fileExists(atPath: state + "/locks.json"), "\(label): nothing recorded")
            let release = fixture.hook("web01", "release", "end", xml: xml, timeout: .seconds(20))
            #expect(release.status == 0, "\(label): release must exit 0")
            let mounts = fixture.smbvol(["mounts"], timeout: .seconds(20))
            #expect(mounts.status == 1 && mounts.stderr.contains("chown root:root"), "\(label): \(mounts.stderr)")
        }
    }

    @Test("endless inputs are capped with a clear error: check --xml /dev/zero, attach --connection-info /dev/zero")
    func endlessFiles() throws {
        let fixture = try HardeningFixture(scenario: nil)
        let check = fixture.smbvol(["check", "--xml", "/dev/zero"], timeout: .seconds(30))
        #expect(check.status == 1, "\(check.stderr)")
        #expect(check.stderr.contains("/dev/zero") && check.stderr.contains("larger than"), "\(check.stderr)")
        let attach = fixture.smbvol(["attach", "--domain", HardeningFixture.uuidA, "--disk", "vdb", "--connection-info", "/dev/zero"], timeout: .seconds(30))
        #expect(attach.status == 1, "\(attach.stderr)")
        #expect(attach.stderr.contains("larger than"), "\(attach.stderr)")
    }

    @Test("handles list against endless distinct next links ends at command_deadline_seconds with one clear line")
    func endlessPaging() throws {
        let fault = #"[{"kind": "endless_next", "path_prefix": "/v1/smb/files/"}]"#
        let fixture = try HardeningFixture(scenario: HardeningFixture.scenario(faults: fault), topLevel: "command_deadline_seconds = 3")
        let started = ContinuousClock.now
        let list = fixture.smbvol(["handles", "list", "--json"] + fixture.clusterFlags, timeout: .seconds(60))
        #expect(list.status == 1, "\(list.stderr.suffix(300))")
        #expect(list.stderr.contains("command_deadline_seconds = 3"), "\(list.stderr.suffix(300))")
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test("domain XML details: a share hint contradicting the longest match, fullwidth digits in the UUID, a repeated <uuid>, invalid UTF-8")
    func xmlDetails() throws {
        let outer = "/srv/smbvol-hardening-\(UUID().uuidString.prefix(6))"
        let fixture = try HardeningFixture(
            scenario: nil, shareLines: "mount_point = \"\(outer)\"",
            tables: "[share.inner]\nexport = \"//srv/inner\"\nmount_point = \"\(outer)/inner\"\n")
        let hinted = fixture.domainXML(
            image: outer + "/inner/x.qcow2",
            metadata: "<metadata><smbvol:volumes xmlns:smbvol='https://smbvol.example/xmlns/volumes/1'><smbvol:volume target='vda' share='vmstore'/></smbvol:volumes></metadata>")
        let file = fixture.mounts.directory + "/hinted.xml"
        try hinted.write(toFile: file, atomically: true, encoding: .utf8)
        let check = fixture.smbvol(["check", "--xml", file])
        #expect(check.status == 1, "\(check.stdout)\(check.stderr)")
        #expect(check.stderr.contains("lies in share inner"), "\(check.stderr)")

        let fullwidth = fixture.domainXML(uuid: "６f1c2a9e-3b4d-4e5f-8a6b-7c8d9e0f1a2b", image: outer + "/x.qcow2")
        let uuidResult = fixture.hook("web01", "prepare", xml: fullwidth)
        #expect(uuidResult.status == 1 && uuidResult.stderr.contains("no valid <uuid>"), "\(uuidResult.stderr)")

        let twice = fixture.domainXML(image: outer + "/x.qcow2").replacingOccurrences(of: "</name>", with: "</name><uuid>\(HardeningFixture.uuidB)</uuid>")
        let twiceResult = fixture.hook("web01", "prepare", xml: twice)
        #expect(twiceResult.status == 1 && twiceResult.stderr.contains("more than one <uuid>"), "\(twiceResult.stderr)")

        var bytes = Array(fixture.domainXML(image: outer + "/x.qcow2").utf8)
        if let index = bytes.firstIndex(of: UInt8(ascii: "w")) { bytes[index] = 0xFF }
        let invalid = fixture.mounts.directory + "/invalid.xml"
        try Data(bytes).write(to: URL(fileURLWithPath: invalid))
        let invalidResult = fixture.smbvol(["check", "--xml", invalid])
        #expect(invalidResult.status == 1 && invalidResult.stderr.contains("not UTF-8"), "\(invalidResult.stderr)")
    }

    @Test("a password_file that is a symlink: the advice names the file that is checked, not the link")
    func passwordFileSymlink() throws {
        let fixture = try HardeningFixture(scenario: HardeningFixture.scenario())
        let target = fixture.mounts.directory + "/pw-target"
        let link = fixture.mounts.directory + "/pw-link"
        try "hook-password\n".write(toFile: target, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: target)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let config = try String(contentsOfFile: fixture.mounts.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: fixture.passwordFile, with: link).write(toFile: fixture.mounts.configPath, atomically: true, encoding: .utf8)
        let list = fixture.smbvol(["handles", "list", "--path", "/vmstore/web01/disk0.qcow2"] + fixture.clusterFlags)
        #expect(list.status == 1, "\(list.stderr)")
        #expect(list.stderr.contains("chmod 600 \(HardeningFixture.realPath(target))"), "\(list.stderr)")
        #expect(!list.stderr.contains("chmod 600 \(link)"), "\(list.stderr)")
    }
}
