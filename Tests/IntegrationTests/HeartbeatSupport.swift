import Foundation
import SmbvolTestSupport
import Testing

/// Two hosts writing to one share directory: two configurations, each with its own state_dir,
/// host_id and local_addresses, and the share as `local_path` (nothing mounted). Host A starts
/// web01 (the one `smbvol check` / the hook runs on); host B is the other hypervisor, holding
/// the image from `holderAddress` while its heartbeat runs.
final class TwoHostWorkspace: @unchecked Sendable {  // used from one test at a time
    let root: String
    let holderAddress: String
    let syslog: SyslogListener
    var share: String { root + "/share" }
    var image: String { share + "/web01.qcow2" }
    var domainXML: String { root + "/web01.xml" }
    var passwordFile: String { root + "/password" }
    let smbvol = TestBinaries.path("smbvol")

    init(holderAddress: String = "10.0.0.2", hostBDomain: String = "web01") throws {
        self.holderAddress = holderAddress
        root = FileManager.default.temporaryDirectory.appendingPathComponent("smbvol-hb-\(UUID().uuidString.prefix(8))").path
        syslog = try SyslogListener()
        for directory in [root, share, root + "/a", root + "/b"] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        FileManager.default.createFile(atPath: image, contents: Data())
        FileManager.default.createFile(atPath: passwordFile, contents: Data("secret".utf8), attributes: [.posixPermissions: 0o600])
        for (host, address) in [("a", "10.0.0.1"), ("b", holderAddress)] {
            var file = SmbvolConfigurationFile([
                "state_dir": .string("\(root)/\(host)/state"), "mount_base": .string("\(root)/\(host)/mnt"),
                "local_addresses": .strings([address]), "host_id": .string("host-\(host)"), "heartbeat_interval_seconds": 10,
                "syslog_socket": .string(syslog.path),
            ])
            file.policy["stale_after_seconds"] = 180
            file.share("vms", ["export": "//sim/vms", "fs_path": "/vms", "local_path": .string(share)])
            try file.write(in: root, fileName: "\(host).toml")
            try FileManager.default.createDirectory(atPath: "\(root)/\(host)/state", withIntermediateDirectories: true)
        }
        // Host B's attachment lock: its domain holds web01.qcow2 (what its record lists) since two
        // minutes ago (a lock of this boot: its image is claimed).
        try """
            {"version": 1, "locks": [{"id": "b1", "share": "vms", "mount_point": "\(share)", "domain_uuid": "99999999-2222-3333-4444-555555555555",
            "domain_name": "\(hostBDomain)", "disk": "vda", "image": "\(image)", "reason": "domain \(hostBDomain) disk vda", "context": "hook",
            "created_at": "\(TwoHostWorkspace.iso8601(Date().addingTimeInterval(-120)))"}]}
            """.write(toFile: root + "/b/state/locks.json", atomically: true, encoding: .utf8)
        try TestDomainXML(name: "web01", uuid: "11111111-2222-3333-4444-555555555555", id: nil, disks: [.init(source: image)]).xml
            .write(toFile: domainXML, atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func config(_ host: String) -> String { "\(root)/\(host).toml" }

    var environment: [String: String] { ["HOME": root, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"] }

    /// `smbvol ARGS --config <host>.toml`.
    func run(_ host: String, _ arguments: [String], timeout: Duration = .seconds(60)) -> (status: Int32, stdout: String, stderr: String) {
        runProcess(smbvol, arguments + ["--config", config(host)], environment: environment, timeout: timeout)
    }

    var recordPath: String { share + "/.smbvol/hosts/host-b.json" }
    var addressRecordPath: String { share + "/.smbvol/by-address/\(holderAddress)/host-b.json" }

    /// Host B's holder claims (one per image its locks hold).
    var claimPaths: [String] {
        let images = share + "/.smbvol/images"
        let keys = (try? FileManager.default.contentsOfDirectory(atPath: images)) ?? []
        return keys.map { images + "/" + $0 + "/host-b.json" }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Rewrites host B's records, and its holder claims, as if written `secondsAgo` ago
    /// (negative: in the future): a host that stopped beating stopped refreshing both.
    func ageHostB(by secondsAgo: Double) throws {
        for path in [recordPath, addressRecordPath] + claimPaths {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
            object["written_at"] = Self.iso8601(Date().addingTimeInterval(-secondsAgo))
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        }
    }

    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// Host A's `check --json` against the simulator (logged in once per simulator).
    func check(_ simulator: SimulatorProcess, _ extra: [String] = [], json: Bool = true) throws
        -> (status: Int32, stdout: String, stderr: String, json: [String: Any])
    {
        let cluster = ["--host", simulator.host, "--port", String(simulator.port)] + (simulator.caFile.map { ["--ca-file", $0] } ?? [])
        if !loggedIn.contains(simulator.port) {
            let login = run("a", ["login", "--user", "admin", "--password-file", passwordFile] + cluster)
            try #require(login.status == 0, "\(login.stderr)")
            loggedIn.insert(simulator.port)
        }
        let result = run("a", ["check", "--xml", domainXML] + (json ? ["--json"] : []) + extra + cluster, timeout: .seconds(120))
        let parsed = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] ?? [:]
        return (result.status, result.stdout, result.stderr, parsed)
    }

    private var loggedIn: Set<Int> = []
}

/// The handles of the first disk in `check --json` output.
func checkHandles(_ json: [String: Any]) -> [[String: Any]] {
    ((json["disks"] as? [[String: Any]])?.first?["handles"] as? [[String: Any]]) ?? []
}
