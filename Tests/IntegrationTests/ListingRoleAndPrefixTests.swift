import Foundation
import SmbvolTestSupport
import Testing

/// `handles list` / `handles close` with the Qumulo lock manager's own role (handle read/write,
/// identity read: no sessions, no lock grants), against a cluster without lock-grant listings
/// (404), and against a cluster serving its API under `/api`.
@Suite("handles list: lock-manager role, older clusters, API prefix", .serialized)
struct ListingRoleAndPrefixTests {
    typealias Workspace = HandlesCommandTests.Workspace
    let password = "secret"

    /// basic.json with a `lockmgr` user holding the lock manager's role, and `cluster` set.
    func scenario(cluster: [String: Any]? = nil) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestBinaries.packageRoot + "/Tests/Scenarios/basic.json"))
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var users = object["users"] as? [[String: Any]] ?? []
        users.append(["name": "lockmgr", "password": password, "auth_id": "502", "role": "lock_manager"])
        object["users"] = users
        if let cluster { object["cluster"] = cluster }
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    func smbvol(
        _ simulator: SimulatorProcess, _ workspace: Workspace, _ args: [String], user: String = "lockmgr"
    ) -> (status: Int32, stdout: String, stderr: String) {
        let full = args + [
            "--host", simulator.host, "--port", String(simulator.port), "--ca-file", simulator.caFile ?? "",
            "--user", user, "--password-file", workspace.passwordFile,
        ]
        return runProcess(TestBinaries.path("smbvol"), full, environment: workspace.environment, timeout: .seconds(60))
    }

    func handles(_ stdout: String) throws -> (handles: [[String: Any]], missing: [[String: Any]]) {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
        return (try #require(object["handles"] as? [[String: Any]]), try #require(object["missing_evidence"] as? [[String: Any]]))
    }

    @Test("cluster-wide with the lock-manager role: every handle, client unknown, one warning naming PRIVILEGE_FS_LOCK_READ")
    func lockManagerRoleClusterWide() throws {
        let simulator = try SimulatorProcess(scenarioJSON: try scenario())
        let workspace = try Workspace(password: password)
        let result = smbvol(simulator, workspace, ["handles", "list", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let (listed, missing) = try handles(result.stdout)
        #expect(listed.map { $0["location"] as? String } == ["4.6765.399", "4.6765.400", "4.6765.401", "4.6765.402"])
        let first = try #require(listed.first)
        #expect(first["owner_name"] as? String == "svc-kvm")
        #expect(first["path"] as? String == "/vms/a.qcow2")
        #expect(first["file_number"] as? String == "1001")
        #expect(first["num_byte_range_locks"] as? Int == 1)
        #expect(listed.allSatisfy { $0["client_addresses"] is NSNull })
        #expect(missing.count == 1)
        #expect(missing.first?["evidence"] as? String == "client_addresses")
        #expect(missing.first?["privilege"] as? String == "PRIVILEGE_FS_LOCK_READ")
        #expect(missing.first?["status"] as? Int == 403)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(lines.first?.hasPrefix("smbvol: warning: client addresses unknown") == true)
        #expect(result.stderr.contains("PRIVILEGE_FS_LOCK_READ"))

        let table = smbvol(simulator, workspace, ["handles", "list"])
        #expect(table.status == 0, "\(table.stderr)")
        let row = try #require(table.stdout.split(separator: "\n").first { $0.hasPrefix("4.6765.401") })
        #expect(row.contains("unknown") && row.contains("svc-other") && row.hasSuffix("/vms/a b.qcow2"), "\(row)")
    }

    @Test("--path and --share with the lock-manager role list every handle; close --location works")
    func lockManagerRoleFileShareAndClose() throws {
        let simulator = try SimulatorProcess(scenarioJSON: try scenario())
        let workspace = try Workspace(password: password)
        let file = smbvol(simulator, workspace, ["handles", "list", "--path", "/vms/a b.qcow2", "--json"])
        #expect(file.status == 0, "\(file.stderr)")
        let (onFile, missing) = try handles(file.stdout)
        #expect(Set(onFile.compactMap { $0["location"] as? String }) == ["4.6765.400", "4.6765.401", "4.6765.402"])
        #expect(missing.first?["privilege"] as? String == "PRIVILEGE_FS_LOCK_READ")
        #expect(file.stderr.split(separator: "\n").count == 1, "\(file.stderr)")

        var shares = SmbvolConfigurationFile()
        shares.share("vms", ["export": "//srv/vms", "fs_path": "/vms", "credentials": .string(workspace.passwordFile)])
        shares.share("undiscovered", ["export": "//srv/vms", "credentials": .string(workspace.passwordFile)])
        let config = try shares.write(in: workspace.home)
        let share = smbvol(simulator, workspace, ["handles", "list", "--share", "vms", "--json", "--config", config])
        #expect(share.status == 0, "\(share.stderr)")
        #expect(try handles(share.stdout).handles.count == 4)
        // Without fs_path the share's root must be discovered, which this role may not do.
        let undiscovered = smbvol(simulator, workspace, ["handles", "list", "--share", "undiscovered", "--config", config])
        #expect(undiscovered.status == 1)
        #expect(undiscovered.stderr.contains("fs_path") && undiscovered.stderr.contains("PRIVILEGE_SMB_SHARE_READ"), "\(undiscovered.stderr)")

        let close = smbvol(simulator, workspace, ["handles", "close", "--location", "4.6765.401", "--yes"])
        #expect(close.status == 0, "\(close.stderr)")
        #expect(close.stdout.contains("closed 4.6765.401"), "\(close.stdout)")
        #expect(try simulator.state().closedLocations == ["4.6765.401"])
    }

    @Test("a cluster whose lock-grant listings answer 404: every handle, one warning, for any account")
    func olderClusterWithoutGrantListings() throws {
        let simulator = try SimulatorProcess(scenarioJSON: try scenario(cluster: ["lock_grant_listings": false]))
        let workspace = try Workspace(password: password)
        for arguments in [["handles", "list", "--json"], ["handles", "list", "--path", "/vms/a b.qcow2", "--json"]] {
            let result = smbvol(simulator, workspace, arguments, user: "admin")
            #expect(result.status == 0, "\(result.stderr)")
            let (listed, missing) = try handles(result.stdout)
            #expect(!listed.isEmpty && listed.allSatisfy { $0["client_addresses"] is NSNull })
            #expect(missing.first?["status"] as? Int == 404)
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(result.stderr.contains("HTTP 404") && result.stderr.contains("PRIVILEGE_FS_LOCK_READ"), "\(result.stderr)")
        }
    }

    @Test("full privileges: client addresses from the cluster-wide grant listing, same order on every run")
    func fullPrivilegesDeterministic() throws {
        let simulator = try SimulatorProcess(scenarioJSON: try scenario(), pageSize: 1)
        let workspace = try Workspace(password: password)
        let first = smbvol(simulator, workspace, ["handles", "list", "--json"], user: "admin")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.isEmpty, "\(first.stderr)")
        let (listed, missing) = try handles(first.stdout)
        #expect(missing.isEmpty)
        let addresses = Dictionary(uniqueKeysWithValues: listed.map { ($0["location"] as? String ?? "", $0["client_addresses"] as? [String]) })
        #expect(addresses["4.6765.399"] == ["10.0.0.5"])
        // Grants are per file: every handle on "a b" shows both holders (the third has none).
        #expect(addresses["4.6765.402"] == ["10.0.0.5", "10.0.0.6"])
        let second = smbvol(simulator, workspace, ["handles", "list", "--json"], user: "admin")
        #expect(second.stdout == first.stdout)
        // The grants came from the cluster-wide listing, not one request per client.
        let requests = try simulator.state().requests
        #expect(!requests.contains { $0.path.contains("owner_address=") })
        #expect(requests.contains { $0.path.hasPrefix("/v1/files/locks/smb/share-mode/") })
    }

    @Test("API under /api: every request and every followed next link carries the prefix")
    func apiPrefix() throws {
        let simulator = try SimulatorProcess(
            scenarioFile: try writeScenario(try scenario()), pageSize: 1, extraArguments: ["--api-prefix", "/api"])
        let workspace = try Workspace(password: password)
        let listed = smbvol(simulator, workspace, ["handles", "list", "--json", "--api-prefix", "/api"], user: "admin")
        #expect(listed.status == 0, "\(listed.stderr)")
        let (handlesFound, missing) = try handles(listed.stdout)
        #expect(handlesFound.count == 4)
        #expect(missing.isEmpty)
        let file = smbvol(simulator, workspace, ["handles", "list", "--path", "/vms/a b.qcow2", "--api-prefix", "/api/"], user: "admin")
        #expect(file.status == 0, "\(file.stderr)")
        #expect(file.stdout.contains("4.6765.401"))
        // Nothing was asked outside the prefix (the simulator answers those 404); the only 404 is
        // the lookup of owner 1003, who has no identity.
        #expect(try simulator.state().requests.filter { $0.status == 404 }.allSatisfy { $0.path == "/v1/identity/find" })

        // The same from the configuration; and without the prefix, a clear 404.
        var prefixed = SmbvolConfigurationFile()
        prefixed.cluster("edge", [
            "host": .string(simulator.host), "port": .integer(simulator.port), "ca_file": .string(simulator.caFile ?? ""),
            "api_prefix": "/api",
        ])
        let config = try prefixed.write(in: workspace.home, fileName: "prefix.toml")
        let configured = runProcess(
            TestBinaries.path("smbvol"),
            ["handles", "list", "--config", config, "--cluster", "edge", "--user", "admin", "--password-file", workspace.passwordFile],
            environment: workspace.environment, timeout: .seconds(60))
        #expect(configured.status == 0, "\(configured.stderr)")
        #expect(configured.stdout.contains("4.6765.402"))
        let unprefixed = smbvol(simulator, workspace, ["handles", "list"], user: "admin")
        #expect(unprefixed.status == 1)
        #expect(unprefixed.stderr.contains("HTTP 404"), "\(unprefixed.stderr)")

        let bad = smbvol(simulator, workspace, ["handles", "list", "--api-prefix", "api?x"], user: "admin")
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--api-prefix"), "\(bad.stderr)")
    }

    func writeScenario(_ json: String) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("scenario-\(UUID().uuidString).json").path
        try Data(json.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }
}
