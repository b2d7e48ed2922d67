import Foundation
import SmbvolTestSupport
import Testing

/// `smbvol check` against qumulo-sim over HTTPS: one scenario per row of the decision table
/// (Tests/Scenarios/check/), asserting verdict, decisions, exit status and request count, and
/// that nothing is closed.
@Suite("smbvol check against the simulator", .serialized)
struct CheckCommandTests {
    static let scenarios = TestBinaries.packageRoot + "/Tests/Scenarios/check/"

    /// A private HOME, a configuration with one local-path share (nothing is mounted), a state
    /// directory and a domain XML whose vda is on the share.
    final class CheckWorkspace {
        let root: String
        var share: String { root + "/share" }
        var state: String { root + "/state" }
        var config: String { root + "/smbvol.toml" }
        var domainXML: String { root + "/web01.xml" }
        var passwordFile: String { root + "/password" }
        /// The file on the share (cluster path /vms/web01.qcow2).
        var imageFile: String { share + "/web01.qcow2" }
        /// The path the domain names: the file itself, or an in-share symlink to it.
        let image: String

        init(shareable: Bool = false, fsPath: Bool = true, otherLocalDomain: Bool = false, aliasThroughSymlink: Bool = false) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("smbvol-check-\(UUID().uuidString)").path
            image = root + "/share/" + (aliasThroughSymlink ? "current.qcow2" : "web01.qcow2")
            for directory in [root, root + "/share", root + "/state"] {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            FileManager.default.createFile(atPath: root + "/share/web01.qcow2", contents: Data("QFI\u{fb}".utf8))
            if aliasThroughSymlink { try FileManager.default.createSymbolicLink(atPath: image, withDestinationPath: "web01.qcow2") }
            FileManager.default.createFile(atPath: passwordFile, contents: Data("secret".utf8), attributes: [.posixPermissions: 0o600])
            var file = SmbvolConfigurationFile([
                "state_dir": .string(state), "mount_base": .string(root + "/mnt"), "local_addresses": ["10.0.0.1"],
                "syslog_socket": .string(root + "/no-syslog"),
            ])
            file.policy["stale_after_seconds"] = 180
            file.share("vms", ["export": "//sim/vms", "fs_path": fsPath ? "/vms" : nil, "local_path": .string(share)])
            try file.write(in: root)
            let domain = TestDomainXML(
                name: "web01", uuid: "11111111-2222-3333-4444-555555555555", id: 4,
                disks: [.init(target: "vda", source: image, shareable: shareable), .cdrom()])
            try domain.xml.write(toFile: domainXML, atomically: true, encoding: .utf8)
            if otherLocalDomain {
                try """
                    {"version": 1, "locks": [{"id": "a1", "share": "vms", "mount_point": "\(share)", "domain_uuid": "99999999-2222-3333-4444-555555555555",
                    "domain_name": "web02", "disk": "vdb", "image": "\(image)", "reason": "domain web02 disk vdb", "context": "hook",
                    "created_at": "2026-01-01T00:00:00Z"}]}
                    """.write(toFile: state + "/locks.json", atomically: true, encoding: .utf8)
            }
        }

        var environment: [String: String] { ["HOME": root, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"] }
    }

    struct CheckRun {
        var status: Int32
        var stdout: String
        var stderr: String
        var requests: Int
        var json: [String: Any]

        var verdict: String? { json["verdict"] as? String }
        var disks: [[String: Any]] { json["disks"] as? [[String: Any]] ?? [] }
        /// location → decision, over every disk.
        var decisions: [String: String] {
            var result: [String: String] = [:]
            for disk in disks {
                for handle in disk["handles"] as? [[String: Any]] ?? [] {
                    if let location = handle["location"] as? String { result[location] = handle["decision"] as? String }
                }
            }
            return result
        }
        func reason(_ location: String) -> String {
            for disk in disks {
                for handle in disk["handles"] as? [[String: Any]] ?? [] where handle["location"] as? String == location {
                    return handle["reason"] as? String ?? ""
                }
            }
            return ""
        }
    }

    func check(
        _ scenario: String, _ extra: [String] = [], workspace given: CheckWorkspace? = nil, json: Bool = true,
        simulator existing: SimulatorProcess? = nil
    ) throws -> CheckRun {
        let workspace = try given ?? CheckWorkspace()
        let simulator = try existing ?? SimulatorProcess(scenarioFile: Self.scenarios + scenario + ".json")
        let cluster = ["--host", simulator.host, "--port", String(simulator.port)] + (simulator.caFile.map { ["--ca-file", $0] } ?? [])
        if existing == nil {
            let login = runProcess(
                TestBinaries.path("smbvol"), ["login", "--config", workspace.config, "--user", "admin", "--password-file", workspace.passwordFile] + cluster,
                environment: workspace.environment, timeout: .seconds(60))
            try #require(login.status == 0, "\(login.stderr)")
        }
        try simulator.resetRequests()
        let result = runProcess(
            TestBinaries.path("smbvol"),
            ["check", "--config", workspace.config, "--xml", workspace.domainXML] + (json ? ["--json"] : []) + extra + cluster,
            environment: workspace.environment, timeout: .seconds(120))
        let state = try simulator.state()
        #expect(state.closedLocations.isEmpty, "check must never close")
        let apiRequests = state.requests.filter { !$0.path.hasPrefix("/_sim") }
        #expect(!apiRequests.contains { $0.method != "GET" && !$0.path.hasPrefix("/v1/identity/find") }, "check only reads")
        let parsed = json ? (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] : nil
        return CheckRun(status: result.status, stdout: result.stdout, stderr: result.stderr, requests: apiRequests.count, json: parsed ?? [:])
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var scenario: String
        var extra: [String] = []
        var shareable = false
        var otherLocalDomain = false
        /// A local process (named like a qemu of guest web01) holds the image open.
        var localHolder = false
        /// The domain names the image through an in-share symlink.
        var aliasThroughSymlink = false
        var decisions: [String: String]
        var verdict: String
        var status: Int32
        var requests: Int
        var reasonFragment: (location: String, text: String)? = nil
        var testDescription: String { "\(scenario) \(extra.joined(separator: " "))" }
    }

    static let rows: [Row] = [
        // A holder with no session left costs one more request: the share listing, whose host
        // restrictions tell whether it is fenced.
        Row(scenario: "dead-host", decisions: ["1.0.1": "close"], verdict: "proceed", status: 0, requests: 7,
            reasonFragment: ("1.0.1", "10.0.0.3 has no session of svc-kvm")),
        Row(scenario: "idle-session", decisions: ["1.0.2": "close"], verdict: "proceed", status: 0, requests: 6,
            reasonFragment: ("1.0.2", "idle 15 min 0 s")),
        Row(scenario: "live-remote", decisions: ["1.0.3": "refuse"], verdict: "refuse", status: 3, requests: 6,
            reasonFragment: ("1.0.3", "stale in 168 s")),
        Row(scenario: "live-remote", extra: ["--migration"], decisions: ["1.0.3": "keep"], verdict: "proceed", status: 0, requests: 6,
            reasonFragment: ("1.0.3", "migration source")),
        Row(scenario: "live-remote", extra: ["--force"], decisions: ["1.0.3": "close"], verdict: "proceed", status: 0, requests: 6,
            reasonFragment: ("1.0.3", "--force")),
        Row(scenario: "local-other-domain", otherLocalDomain: true, decisions: ["1.0.4": "refuse"], verdict: "refuse", status: 3, requests: 6,
            reasonFragment: ("1.0.4", "web02")),
        Row(scenario: "local-leftover", decisions: ["1.0.5": "close"], verdict: "proceed", status: 0, requests: 6,
            reasonFragment: ("1.0.5", "leftover")),
        // The kernel wins in the direction of liveness: a local process holding the image open
        // makes this host's handle live though no record names it (a domain started before
        // smbvol was installed, a lock reconcile dropped, the running domain itself).
        Row(scenario: "local-leftover", localHolder: true, decisions: ["1.0.5": "refuse"], verdict: "refuse", status: 3, requests: 6,
            reasonFragment: ("1.0.5", "guest web01")),
        // The cluster sees this host by an address smbvol does not know (NAT, a VIP,
        // local_addresses incomplete): the session rules call the handle a dead foreign host's,
        // but a local process holds the image open. The kernel wins: refuse, never close.
        Row(scenario: "idle-session", localHolder: true, decisions: ["1.0.2": "refuse"], verdict: "refuse", status: 3, requests: 6,
            reasonFragment: ("1.0.2", "not one of this host's addresses")),
        Row(scenario: "local-leftover", localHolder: true, aliasThroughSymlink: true, decisions: ["1.0.5": "refuse"], verdict: "refuse",
            status: 3, requests: 6, reasonFragment: ("1.0.5", "open by local pid")),
        Row(scenario: "live-remote", aliasThroughSymlink: true, decisions: ["1.0.3": "refuse"], verdict: "refuse", status: 3, requests: 6,
            reasonFragment: ("1.0.3", "stale in 168 s")),
        Row(scenario: "migration-shared-account", extra: ["--migration"], decisions: ["1.0.6": "keep", "1.0.7": "keep"],
            verdict: "proceed", status: 0, requests: 6),
        Row(scenario: "migration-distinct-accounts", extra: ["--migration"], decisions: ["1.0.8": "keep", "1.0.10": "keep"],
            verdict: "proceed", status: 0, requests: 8, reasonFragment: ("1.0.10", "the migration source")),
        Row(scenario: "protected-client", extra: ["--keep-client", "10.0.0.50"], decisions: ["1.0.11": "refuse"], verdict: "refuse",
            status: 3, requests: 7, reasonFragment: ("1.0.11", "protected client 10.0.0.50")),
        Row(scenario: "protected-client", decisions: ["1.0.11": "close"], verdict: "proceed", status: 0, requests: 7),
        Row(scenario: "unattributable", decisions: ["1.0.12": "report"], verdict: "proceed", status: 0, requests: 6,
            reasonFragment: ("1.0.12", "no lock grants")),
        Row(scenario: "shareable-disk", shareable: true, decisions: ["1.0.13": "keep"], verdict: "proceed", status: 0, requests: 6,
            reasonFragment: ("1.0.13", "shareable disk")),
        Row(scenario: "no-handles", decisions: [:], verdict: "proceed", status: 0, requests: 2),
    ]

    /// Whether this host has a process whose open files the scan cannot identify.
    static let someDescriptorsUnidentifiable: Bool = {
        for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(pid) != nil && Int32(pid) != getpid() {
            for fd in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? [] {
                var status = stat()
                if stat("/proc/\(pid)/fd/\(fd)", &status) != 0 && errno != ENOENT && errno != ESRCH { return true }
            }
        }
        return false
    }()

    @Test("each decision-table row: verdict, decisions, exit status, request count; nothing closed", arguments: rows)
    func row(_ row: Row) throws {
        let workspace = try CheckWorkspace(
            shareable: row.shareable, otherLocalDomain: row.otherLocalDomain, aliasThroughSymlink: row.aliasThroughSymlink)
        let holder = row.localHolder ? try LocalImageHolder(opening: workspace.image, guest: "web01") : nil
        defer { holder?.stop() }
        let run = try check(row.scenario, row.extra, workspace: workspace)
        if let holder, let location = row.decisions.keys.first {
            #expect(run.reason(location).contains("pid \(holder.holderPID) (python3, guest web01)"), "\(run.reason(location))")
        }
        #expect(run.status == row.status, "\(run.stderr)")
        #expect(run.verdict == row.verdict)
        // Where some process's descriptors cannot be identified (no CAP_SYS_PTRACE over it: PID 1
        // of a sandbox), a leftover cannot be told from a hidden holder: reported, not closed.
        if row.scenario == "local-leftover", !row.localHolder, Self.someDescriptorsUnidentifiable {
            #expect(run.decisions == ["1.0.5": "report"], "\(run.stdout)")
            #expect(run.reason("1.0.5").contains("could not be read"), "\(run.reason("1.0.5"))")
            return
        }
        #expect(run.decisions == row.decisions, "\(run.stdout)")
        #expect(run.requests == row.requests)
        if let (location, text) = row.reasonFragment {
            #expect(run.reason(location).contains(text), "\(run.reason(location))")
        }
        let domain = run.json["domain"] as? [String: Any]
        #expect(domain?["name"] as? String == "web01")
        #expect(domain?["uuid"] as? String == "11111111-2222-3333-4444-555555555555")
        #expect((run.json["errors"] as? [Any])?.isEmpty == true)
        let vda = try #require(run.disks.first)
        #expect(vda["target"] as? String == "vda")
        #expect(vda["share"] as? String == "vms")
        #expect(vda["cluster_path"] as? String == "/vms/web01.qcow2")
        #expect(vda["image"] as? String == workspace.image)
        let cdrom = try #require(run.disks.last)
        #expect(cdrom["target"] as? String == "sda")
        #expect(cdrom["share"] is NSNull)
    }

    @Test("human output: share state, image → cluster path, every handle, one closing verdict line")
    func humanOutput() throws {
        let run = try check("live-remote", json: false)
        #expect(run.status == 3)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("disk vda: share vms, mounted at ") })
        #expect(lines.contains { $0.contains("→ cluster path /vms/web01.qcow2") })
        #expect(lines.contains { $0.contains("handle 1.0.3 owner svc-kvm client 10.0.0.2 idle 12 s: would refuse") })
        #expect(lines.contains { $0.hasPrefix("disk sda:") && $0.contains("no configured share") })
        #expect(lines.last?.hasPrefix("verdict: refuse") == true)
    }

    @Test("the request count for one image does not grow with 100 000 handles elsewhere on the cluster")
    func scale() throws {
        let small = try check("scale-10")
        let large = try check("scale-100000")
        #expect(small.status == 0 && large.status == 0, "\(large.stderr)")
        #expect(small.decisions == ["1.0.1": "close"])
        #expect(large.decisions == ["1.0.1": "close"])
        #expect(small.requests == 7)
        #expect(large.requests == small.requests)
    }

    @Test("fs_path discovered from /v3/smb/shares/ once, then read from the state directory's cache")
    func shareRootCache() throws {
        let workspace = try CheckWorkspace(fsPath: false)
        let simulator = try SimulatorProcess(scenarioFile: Self.scenarios + "dead-host.json")
        let login = runProcess(
            TestBinaries.path("smbvol"),
            ["login", "--config", workspace.config, "--user", "admin", "--password-file", workspace.passwordFile, "--host", simulator.host,
             "--port", String(simulator.port)] + (simulator.caFile.map { ["--ca-file", $0] } ?? []),
            environment: workspace.environment, timeout: .seconds(60))
        try #require(login.status == 0)
        let discovering = try check("dead-host", workspace: workspace, simulator: simulator)
        let cached = try check("dead-host", workspace: workspace, simulator: simulator)
        #expect(discovering.requests == 8)
        #expect(cached.requests == 7)
        #expect(FileManager.default.fileExists(atPath: workspace.state + "/share-roots.json"))
        #expect(cached.disks.first?["cluster_path"] as? String == "/vms/web01.qcow2")
    }

    @Test("a malformed domain XML file: one line on stderr, exit 1")
    func malformedXML() throws {
        let workspace = try CheckWorkspace()
        try "<domain><name>x</name>\n<devices></domain>".write(toFile: workspace.domainXML, atomically: true, encoding: .utf8)
        let result = runProcess(
            TestBinaries.path("smbvol"), ["check", "--config", workspace.config, "--xml", workspace.domainXML, "--host", "127.0.0.1"],
            environment: workspace.environment, timeout: .seconds(30))
        #expect(result.status == 1)
        #expect(result.stderr.contains("malformed domain XML at line 2"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test("--domain through libvirt's test driver; a missing domain and an unreachable libvirt are one-line errors")
    func libvirtDomain() throws {
        let workspace = try CheckWorkspace()
        let domainXML = try String(contentsOfFile: workspace.domainXML, encoding: .utf8)
        let node = workspace.root + "/node.xml"
        try "<node>\n\(domainXML.replacingOccurrences(of: " id='4'", with: ""))\n</node>".write(toFile: node, atomically: true, encoding: .utf8)
        let simulator = try SimulatorProcess(scenarioFile: Self.scenarios + "dead-host.json")
        let cluster = ["--host", simulator.host, "--port", String(simulator.port)] + (simulator.caFile.map { ["--ca-file", $0] } ?? [])
        let login = runProcess(
            TestBinaries.path("smbvol"), ["login", "--config", workspace.config, "--user", "admin", "--password-file", workspace.passwordFile] + cluster,
            environment: workspace.environment, timeout: .seconds(60))
        try #require(login.status == 0)
        let found = runProcess(
            TestBinaries.path("smbvol"), ["check", "--config", workspace.config, "--domain", "web01", "--connect", "test://" + node, "--json"] + cluster,
            environment: workspace.environment, timeout: .seconds(60))
        #expect(found.status == 0, "\(found.stderr)")
        #expect(found.stdout.contains("\"decision\": \"close\""))
        let missing = runProcess(
            TestBinaries.path("smbvol"), ["check", "--config", workspace.config, "--domain", "nosuch", "--connect", "test://" + node] + cluster,
            environment: workspace.environment, timeout: .seconds(60))
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no domain named or with UUID nosuch"), "\(missing.stderr)")
        #expect(missing.stderr.split(separator: "\n").count == 1)
        let unreachable = runProcess(
            TestBinaries.path("smbvol"), ["check", "--config", workspace.config, "--domain", "web01", "--connect", "qemu+unix:///system?socket=/nonexistent/sock"] + cluster,
            environment: workspace.environment, timeout: .seconds(60))
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.hasPrefix("smbvol: error: libvirt virConnectOpenReadOnly"), "\(unreachable.stderr)")
        #expect(unreachable.stderr.split(separator: "\n").count == 1)
        #expect(try simulator.state().closedLocations.isEmpty)
    }
}
