import Foundation
import Testing

/// Every `--json` output, run as built, with names that have broken it: bidirectional overrides
/// and marks (U+202E, U+200F), quotes, backslashes, the line and paragraph separators, an escape
/// sequence, a C1 CSI, combining marks and an emoji with a modifier. Each document must parse
/// with a real JSON parser and give the name back unchanged; none may carry a raw control or
/// bidirectional character to the terminal.
@Suite("hostile strings in every --json", .serialized)
struct HostileJSONTests {
    /// No C0 or C1 control: what record and XML validation let through.
    static let printable = "web\u{202E}10 \u{200F}\"q\" \\b\\ \u{2066}e\u{301}\u{2069} 👍🏽 ✓"
    /// Everything, controls included: for values nothing validates (a lock's reason, a path on
    /// the cluster, an owner's name).
    static let hostile = printable + " \u{2028}\u{2029}\u{1B}[31m\u{9B}2J\u{7F}\t\n\r\u{0}"

    /// Parses `stdout` as one JSON object, failing the test when it is not one.
    static func parse(_ stdout: String, _ what: String) throws -> [String: Any] {
        #expect(stdout.hasSuffix("}\n"), "\(what): \(stdout)")
        let raw = stdout.unicodeScalars.filter { scalar in
            (scalar.value < 0x20 && scalar != "\n") || (0x7F...0x9F).contains(scalar.value)
                || [0x2028, 0x2029, 0x202E, 0x200F, 0x2066, 0x2069].contains(scalar.value)
        }
        #expect(raw.isEmpty, "\(what): raw control or bidirectional characters in \(stdout.debugDescription)")
        let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
        return try #require(object as? [String: Any], "\(what): \(stdout)")
    }

    @Test("lock list --json and mounts --json give a hostile lock reason back unchanged")
    func locksAndMounts() throws {
        let workspace = try TwoHostWorkspace()
        let added = workspace.run("a", ["lock", "add", "--share", "vms", "--reason", Self.hostile])
        #expect(added.status == 0, "\(added.stderr)")

        // What the store kept (a NUL cannot pass argv, and `lock add` makes the reason one
        // line): still quotes, backslashes, overrides, marks, an escape sequence and DEL.
        let store = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: workspace.root + "/a/state/locks.json"))) as? [String: Any]
        let stored = try #require((store?["locks"] as? [[String: Any]])?.first?["reason"] as? String)
        for part in ["\u{202E}", "\u{200F}", "\"q\"", "\\b\\", "\u{1B}[31m", "\u{7F}", "e\u{301}", "👍🏽"] {
            #expect(stored.contains(part), "\(part.debugDescription) not in \(stored.debugDescription)")
        }

        let list = workspace.run("a", ["lock", "list", "--json"])
        #expect(list.status == 0, "\(list.stderr)")
        let locks = try #require(try Self.parse(list.stdout, "lock list")["locks"] as? [[String: Any]])
        #expect(locks.map { $0["reason"] as? String } == [stored])

        let mounts = workspace.run("a", ["mounts", "--json"])
        #expect(mounts.status == 0, "\(mounts.stderr)")
        let shares = try #require(try Self.parse(mounts.stdout, "mounts")["mounts"] as? [[String: Any]])
        #expect((shares.first?["locks"] as? [[String: Any]])?.first?["reason"] as? String == stored)
        #expect(shares.first?["mounted"] as? Bool == true)
    }

    @Test("holders --json gives a hostile hostname back unchanged; error is null")
    func holders() throws {
        let workspace = try TwoHostWorkspace()
        let beat = workspace.run("b", ["heartbeat", "--once"])
        #expect(beat.status == 0, "\(beat.stderr)")
        for path in [workspace.recordPath, workspace.addressRecordPath] {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
            object["hostname"] = Self.printable
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        }
        let result = workspace.run("a", ["holders", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let shares = try #require(try Self.parse(result.stdout, "holders")["shares"] as? [[String: Any]])
        let hosts = try #require(shares.first?["hosts"] as? [[String: Any]])
        #expect(hosts.map { $0["hostname"] as? String } == [Self.printable])
        #expect(hosts.first?["age_seconds"] is NSNumber && hosts.first?["fresh"] as? Bool == true)
        #expect(shares.first?["error"] is NSNull)
    }

    @Test("check --json gives a hostile domain name back unchanged")
    func check() throws {
        let workspace = try TwoHostWorkspace()
        let simulator = try SimulatorProcess(scenarioFile: HeartbeatCheckTests.scenarios + "idle-session.json")
        let xml = try String(contentsOfFile: workspace.domainXML, encoding: .utf8)
        let escaped = Self.printable.replacingOccurrences(of: "\"", with: "&quot;")
        try xml.replacingOccurrences(of: "<name>web01</name>", with: "<name>\(escaped)</name>")
            .write(toFile: workspace.domainXML, atomically: true, encoding: .utf8)
        let result = try workspace.check(simulator)
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        let object = try Self.parse(result.stdout, "check")
        #expect((object["domain"] as? [String: Any])?["name"] as? String == Self.printable)
        #expect(object["verdict"] as? String == "proceed")
    }

    /// A cluster whose file path and owner name are hostile (the simulator serves them as given).
    static func hostileScenario() throws -> String {
        let scenario: [String: Any] = [
            "users": [["name": "admin", "password": "secret", "auth_id": "500"]],
            "identities": [["auth_id": "1001", "name": hostile, "domain": "ACTIVE_DIRECTORY", "uid": 1001, "gid": 100, "sid": "S-1-5-21-1-2-3-1001"]],
            "shares": [["id": "1", "name": "vms", "fs_path": "/vms"]],
            "files": [["path": "/vms/" + printable + ".qcow2", "id": "1001", "size": "4096"], ["path": "/vms/plain.qcow2", "id": "1002", "size": "4096"]],
            "sessions": [["originator": "10.0.0.5", "auth_id": "1001", "idle_seconds": 5, "share_names": ["vms"]]],
            "handles": [
                ["path": "/vms/" + printable + ".qcow2", "location": "4.1.1", "owner": "1001", "client_address": "10.0.0.5"],
                ["path": "/vms/plain.qcow2", "location": "4.1.2", "owner": "1001", "client_address": "10.0.0.5"],
            ],
        ]
        return String(decoding: try JSONSerialization.data(withJSONObject: scenario), as: UTF8.self)
    }

    @Test("handles list --json (whole cluster and --path) gives a hostile path and owner name back unchanged")
    func handlesList() throws {
        let simulator = try SimulatorProcess(scenarioJSON: try Self.hostileScenario())
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("smbvol-hostile-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let passwordFile = home + "/password"
        FileManager.default.createFile(atPath: passwordFile, contents: Data("secret".utf8), attributes: [.posixPermissions: 0o600])
        let cluster = ["--host", simulator.host, "--port", String(simulator.port), "--user", "admin", "--password-file", passwordFile]
            + (simulator.caFile.map { ["--ca-file", $0] } ?? [])
        let environment = ["HOME": home, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"]
        for extra in [[], ["--path", "/vms/" + Self.printable + ".qcow2"]] {
            let result = runProcess(
                TestBinaries.path("smbvol"), ["handles", "list", "--json"] + extra + cluster, environment: environment, timeout: .seconds(60))
            #expect(result.status == 0, "\(result.stderr)")
            let handles = try #require(try Self.parse(result.stdout, "handles list \(extra)")["handles"] as? [[String: Any]])
            let hostileHandle = try #require(handles.first { $0["location"] as? String == "4.1.1" }, "\(handles)")
            #expect(hostileHandle["path"] as? String == "/vms/" + Self.printable + ".qcow2")
            #expect(hostileHandle["owner_name"] as? String == Self.hostile)
        }
    }

    @Test("fence --list --json gives a hostile operator name (SUDO_USER) back unchanged")
    func fenceList() throws {
        let tests = FenceCommandTests()
        let (workspace, simulator) = try tests.setUp()
        _ = simulator
        try tests.beatHostB(workspace)
        let fenced = runProcess(
            workspace.smbvol, ["fence", "host-b", "--config", workspace.config("a")],
            environment: workspace.environment.merging(["SUDO_USER": Self.hostile]) { $1 }, timeout: .seconds(60))
        #expect(fenced.status == 0, "\(fenced.stderr)")
        let listed = workspace.run("a", ["fence", "--list", "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let entries = try #require(try Self.parse(listed.stdout, "fence --list")["fenced"] as? [[String: Any]])
        #expect(entries.first?["host"] as? String == "host-b")
        #expect(entries.first?["in_force"] as? Bool == true)
        let fencedBy = try #require(entries.first?["fenced_by"] as? String, "\(entries)")
        #expect(fencedBy.contains("\u{202E}") && fencedBy.contains("\"q\" \\b\\"), "\(fencedBy.debugDescription)")
        let store = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: workspace.root + "/a/state/fences/fences.json"))) as? [String: Any]
        #expect((store?["fences"] as? [[String: Any]])?.first?["fenced_by"] as? String == fencedBy)
    }

    @Test("fence --json and unfence --json (dry runs) give a hostile host name back unchanged")
    func fenceAndUnfence() throws {
        let tests = FenceCommandTests()
        let (workspace, simulator) = try tests.setUp()
        _ = simulator
        for (verb, key) in [("fence", "fence"), ("unfence", "unfence")] {
            let result = workspace.run("a", [verb, Self.printable, "--address", "203.0.113.77", "--dry-run", "--json"])
            #expect(result.status == 0, "\(verb): \(result.stderr)")
            let document = try #require(try Self.parse(result.stdout, verb)[key] as? [String: Any], "\(verb): \(result.stdout)")
            #expect(document["host"] as? String == Self.printable, "\(verb): \(document)")
            #expect(document["addresses"] as? [String] == ["203.0.113.77"])
            #expect(document["dry_run"] as? Bool == true)
        }
    }

    /// The share is a `local_path`: SMB forbids `"` and `\` in names, and after the lookup of
    /// such a name the test's SMB client (smbnetfs) failed opening the share's root (EIO) — a
    /// share whose claims cannot be read refuses a start (claims not all read).
    @Test("attach --json gives a hostile image path back unchanged")
    func attach() throws {
        let workspace = try TwoHostWorkspace()
        let relative = "web01/" + Self.printable + ".qcow2"
        try FileManager.default.createDirectory(atPath: workspace.share + "/web01", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: workspace.share + "/" + relative, contents: Data())
        let result = workspace.run(
            "a", ["attach", "--domain", "0c9a3b1e-5d2f-4a6b-9c8d-7e6f5a4b3c2d", "--disk", "vdb", "--share", "vms", "--path", relative, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try Self.parse(result.stdout, "attach")
        #expect(object["image"] as? String == workspace.share + "/" + relative)
        #expect(object["share"] as? String == "vms")
    }
}
