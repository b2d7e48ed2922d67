import Foundation
import SmbvolTestSupport
import Testing

/// `smbvol login` and `smbvol handles …` as operators run them, against qumulo-sim over HTTPS.
@Suite("smbvol handles and login against the simulator", .serialized)
struct HandlesCommandTests {
    let scenario = TestBinaries.packageRoot + "/Tests/Scenarios/basic.json"
    let password = "secret"

    /// A private HOME (the qq credential store lives under it) and a 0600 password file.
    final class Workspace {
        let home: String
        let passwordFile: String

        init(password: String) throws {
            home = FileManager.default.temporaryDirectory.appendingPathComponent("smbvol-home-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            passwordFile = home + "/password"
            FileManager.default.createFile(atPath: passwordFile, contents: Data(password.utf8), attributes: [.posixPermissions: 0o600])
        }

        var environment: [String: String] {
            ["HOME": home, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"]
        }

        func storePath(port: Int) -> String { home + "/.config/qumulo/credentials/127.0.0.1_\(port)" }
    }

    func smbvol(
        _ simulator: SimulatorProcess, _ workspace: Workspace, _ args: [String], caFile: Bool = true,
        extraEnvironment: [String: String] = [:], stdin: String? = nil
    ) -> (status: Int32, stdout: String, stderr: String) {
        var full = args + ["--host", simulator.host, "--port", String(simulator.port)]
        if caFile, let ca = simulator.caFile { full += ["--ca-file", ca] }
        let environment = workspace.environment.merging(extraEnvironment) { _, new in new }
        return runProcess(TestBinaries.path("smbvol"), full, stdin: stdin, environment: environment, timeout: .seconds(60))
    }

    func login(_ simulator: SimulatorProcess, _ workspace: Workspace, user: String = "admin") -> (status: Int32, stdout: String, stderr: String) {
        smbvol(simulator, workspace, ["login", "--user", user, "--password-file", workspace.passwordFile])
    }

    @Test("TLS: without the cluster's CA the listing fails (never falls back); with --ca-file it works")
    func tlsVerification() throws {
        let simulator = try SimulatorProcess(scenarioFile: scenario)
        let workspace = try Workspace(password: password)
        let refused = smbvol(simulator, workspace, ["login", "--user", "admin", "--password-file", workspace.passwordFile], caFile: false)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("TLS failure"), "\(refused.stderr)")
        #expect(refused.stderr.contains("ca_file"))
        #expect(try simulator.state().logins == 0)

        let accepted = login(simulator, workspace)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(try simulator.state().logins == 1)
    }

    @Test("TLS: a certificate for another hostname fails even with the right CA")
    func tlsHostnameMismatch() throws {
        let simulator = try SimulatorProcess(scenarioFile: scenario, transport: .tlsWrongHostname)
        let workspace = try Workspace(password: password)
        let result = login(simulator, workspace)
        #expect(result.status == 1)
        #expect(result.stderr.contains("TLS failure"), "\(result.stderr)")
        #expect(try simulator.state().logins == 0)
    }

    @Test("login writes qq's credential store (0600, version 1) and qq reuses it; smbvol reuses qq's")
    func sharedCredentialStore() throws {
        let simulator = try SimulatorProcess(scenarioFile: scenario)
        let workspace = try Workspace(password: password)
        let result = login(simulator, workspace)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        let store = workspace.storePath(port: simulator.port)
        let attributes = try FileManager.default.attributesOfItem(atPath: store)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let directoryAttributes = try FileManager.default.attributesOfItem(atPath: (store as NSString).deletingLastPathComponent)
        #expect((directoryAttributes[.posixPermissions] as? Int) == 0o700)
        let stored = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: store))) as? [String: Any]
        #expect(stored?["version"] as? Int == 1)
        #expect((stored?["bearer_token"] as? String)?.hasPrefix("session-v1:") == true)

        // qq, given the same HOME, uses smbvol's token without logging in.
        let qq = runProcess(
            TestBinaries.qq, ["--host", simulator.host, "--port", String(simulator.port), "smb_list_sessions"],
            environment: workspace.environment, timeout: .seconds(60))
        #expect(qq.status == 0, "\(qq.stderr)")
        #expect(qq.stdout.contains("10.0.0.5"))
        #expect(try simulator.state().logins == 1)

        // And smbvol with no password at all uses the stored token.
        let listing = smbvol(simulator, workspace, ["handles", "list", "--json"])
        #expect(listing.status == 0, "\(listing.stderr)")
        #expect(try simulator.state().logins == 1)
    }

    @Test("handles list --path: exact JSON keys, owner names, client addresses from grants")
    func listOneFile() throws {
        let simulator = try SimulatorProcess(scenarioFile: scenario)
        let workspace = try Workspace(password: password)
        #expect(login(simulator, workspace).status == 0)
        try simulator.resetRequests()
        let result = smbvol(simulator, workspace, ["handles", "list", "--path", "/vms/a b.qcow2", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let handles = try #require(object?["handles"] as? [[String: Any]])
        #expect(handles.count == 3)
        #expect(Set(handles[0].keys) == ["location", "file_number", "owner", "owner_name", "path", "num_byte_range_locks", "client_addresses"])
        let byLocation = Dictionary(uniqueKeysWithValues: handles.map { ($0["location"] as? String ?? "", $0) })
        #expect(byLocation["4.6765.401"]?["owner_name"] as? String == "svc-other")
        #expect(byLocation["4.6765.401"]?["num_byte_range_locks"] as? Int == 2)
        #expect(byLocation["4.6765.401"]?["path"] as? String == "/vms/a b.qcow2")
        #expect(byLocation["4.6765.401"]?["client_addresses"] as? [String] == ["10.0.0.5", "10.0.0.6"])
        // One identity lookup per distinct owner (3 owners), not per handle.
        let requests = try simulator.state().requests
        #expect(requests.filter { $0.path.hasPrefix("/v1/identity/find") }.count == 3)
        #expect(requests.contains { $0.path == "/v1/files/%2Fvms%2Fa%20b.qcow2/info/attributes" })
    }

    @Test("handles close --location --yes closes exactly that handle, confirms by listing, audits to syslog")
    func closeByLocation() throws {
        let simulator = try SimulatorProcess(scenarioFile: scenario)
        let workspace = try Workspace(password: password)
        let syslog = try SyslogListener()
        let config = try SmbvolConfigurationFile(["syslog_socket": .string(syslog.path)]).write(in: workspace.home)
        #expect(login(simulator, workspace).status == 0)
        let result = smbvol(simulator, workspace, ["handles", "close", "--location", "4.6765.402", "--yes", "--config", config])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("closed 4.6765.402"))
        #expect(try simulator.state().closedLocations == ["4.6765.402"])
        let audit = syslog.lines.filter { $0.contains("event=close") }
        #expect(audit.count == 1, "\(syslog.lines)")
        #expect(audit.first?.hasPrefix("<29>") == true)  // daemon.notice
        #expect(audit.first?.contains("smbvol[") == true)
        #expect(audit.first?.contains("location=4.6765.402") == true)
        #expect(audit.first?.contains("decision=closed") == true)
    }

    @Test("handles close refuses without confirmation when stdin is not a terminal; --dry-run closes nothing")
    func closeNeedsConfirmation() throws {
        let simulator = try SimulatorProcess(scenarioFile: scenario)
        let workspace = try Workspace(password: password)
        #expect(login(simulator, workspace).status == 0)
        let unconfirmed = smbvol(simulator, workspace, ["handles", "close", "--path", "/vms/a.qcow2"], stdin: "yes\n")
        #expect(unconfirmed.status != 0)
        #expect(unconfirmed.stderr.contains("--yes"))
        let dryRun = smbvol(simulator, workspace, ["handles", "close", "--path", "/vms/a.qcow2", "--dry-run"])
        #expect(dryRun.status == 0)
        #expect(dryRun.stdout.contains("would close 4.6765.399"))
        #expect(try simulator.state().closedLocations.isEmpty)
    }

    @Test("a 200 close answer with an error_message is reported as not closed, exit 1")
    func perItemCloseError() throws {
        let simulator = try SimulatorProcess(scenarioFile: scenario)
        let workspace = try Workspace(password: password)
        #expect(login(simulator, workspace).status == 0)
        try simulator.addFault(#"{"kind": "close_error", "location": "4.6765.400", "message": "handle is busy"}"#)
        let result = smbvol(simulator, workspace, ["handles", "close", "--path", "/vms/a b.qcow2", "--yes"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("not closed 4.6765.400: handle is busy"), "\(result.stdout)")
        #expect(Set(try simulator.state().closedLocations) == ["4.6765.401", "4.6765.402"])
    }

    @Test("5xx answers are retried, at most 3 attempts")
    func retriesServerErrors() throws {
        let simulator = try SimulatorProcess(scenarioFile: scenario)
        let workspace = try Workspace(password: password)
        #expect(login(simulator, workspace).status == 0)
        try simulator.addFault(#"{"kind": "status", "status": 503, "path_prefix": "/v1/files/", "after": 0, "count": 2}"#)
        try simulator.resetRequests()
        let result = smbvol(simulator, workspace, ["handles", "list", "--path", "/vms/a.qcow2"])
        #expect(result.status == 0, "\(result.stderr)")
        let attempts = try simulator.state().requests.filter { $0.path.hasSuffix("/info/attributes") }
        #expect(attempts.map(\.status) == [503, 503, 200])
    }

    @Test("401 in the middle of paging: one new login, the listing continues; without a password, a clear error")
    func unauthorizedMidPaging() throws {
        let simulator = try SimulatorProcess(scenarioFile: scenario, pageSize: 1)
        let workspace = try Workspace(password: password)
        #expect(login(simulator, workspace).status == 0)
        try simulator.addFault(#"{"kind": "token_expiry", "after_uses": 2}"#)
        let withPassword = smbvol(
            simulator, workspace, ["handles", "list", "--path", "/vms/a b.qcow2", "--json", "--user", "admin", "--password-file", workspace.passwordFile])
        #expect(withPassword.status == 0, "\(withPassword.stderr)")
        #expect(withPassword.stdout.components(separatedBy: "\"location\"").count - 1 == 3)
        // Every token now dies after two uses: each refusal is followed by exactly one login and a
        // successful retry of the same request, never by a second refusal.
        let requests = try simulator.state().requests.filter { $0.path != "/v1/session/login" }
        let refusals = requests.indices.filter { requests[$0].status == 401 }
        #expect(!refusals.isEmpty)
        for index in refusals {
            #expect(index + 1 < requests.count && requests[index + 1].path == requests[index].path && requests[index + 1].status != 401)
        }
        #expect(try simulator.state().logins == 1 + refusals.count)

        let withoutPassword = smbvol(simulator, workspace, ["handles", "list", "--path", "/vms/a b.qcow2"])
        #expect(withoutPassword.status == 1)
        #expect(withoutPassword.stderr.contains("smbvol login"), "\(withoutPassword.stderr)")
    }

    @Test("whole cluster: tokens that expire again and again mid-listing are renewed with the password file; without it, no partial document")
    func tokensExpiringDuringClusterListing() throws {
        let simulator = try SimulatorProcess(scenarioFile: scenario, pageSize: 1)
        let workspace = try Workspace(password: password)
        #expect(login(simulator, workspace).status == 0)
        // Every token dies after two uses: a listing of four one-handle pages, its grant pages and
        // its owner lookups outlives several tokens.
        try simulator.addFault(#"{"kind": "token_expiry", "after_uses": 2}"#)
        let loginsBefore = try simulator.state().logins
        let withPassword = smbvol(simulator, workspace, ["handles", "list", "--json", "--user", "admin", "--password-file", workspace.passwordFile])
        #expect(withPassword.status == 0, "\(withPassword.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(withPassword.stdout.utf8)) as? [String: Any]
        let handles = try #require(object?["handles"] as? [[String: Any]], "\(withPassword.stdout)")
        #expect(Set(handles.compactMap { $0["location"] as? String }) == ["4.6765.399", "4.6765.400", "4.6765.401", "4.6765.402"])
        #expect(try simulator.state().logins - loginsBefore >= 2, "more than one token was needed")

        // Without a password the first expiry ends the listing: nothing on stdout, one line on stderr.
        let withoutPassword = smbvol(simulator, workspace, ["handles", "list", "--json"])
        #expect(withoutPassword.status == 1)
        #expect(withoutPassword.stdout.isEmpty, "a partial document: \(withoutPassword.stdout)")
        #expect(withoutPassword.stderr.split(separator: "\n").count == 1, "\(withoutPassword.stderr)")
        #expect(withoutPassword.stderr.contains("smbvol login"), "\(withoutPassword.stderr)")
        let table = smbvol(simulator, workspace, ["handles", "list"])
        #expect(table.status == 1)
        #expect(table.stdout.isEmpty, "a partial table: \(table.stdout)")
    }

    @Test("a listing whose pages stop answering part-way prints nothing on stdout")
    func clusterListingFailingPartWay() throws {
        let simulator = try SimulatorProcess(scenarioFile: scenario, pageSize: 1)
        let workspace = try Workspace(password: password)
        #expect(login(simulator, workspace).status == 0)
        // Three one-handle pages answer (printed, were the output not held back); the fourth
        // fails for good (404, not retried).
        try simulator.addFault(#"{"kind": "status", "status": 404, "path_prefix": "/v1/smb/files/", "after": 3}"#)
        let result = smbvol(simulator, workspace, ["handles", "list", "--json"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty, "a partial document: \(result.stdout)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        let handlePages = try simulator.state().requests.filter { $0.path.hasPrefix("/v1/smb/files/") }
        #expect(handlePages.map(\.status).prefix(3) == [200, 200, 200], "the listing had begun: \(handlePages.map(\.status))")
    }

    @Test("a looping next ends the listing with a warning, not an endless loop")
    func loopingNext() throws {
        let simulator = try SimulatorProcess(scenarioFile: scenario, pageSize: 1)
        let workspace = try Workspace(password: password)
        #expect(login(simulator, workspace).status == 0)
        try simulator.addFault(#"{"kind": "looping_next", "path_prefix": "/v1/smb/files/"}"#)
        let result = smbvol(simulator, workspace, ["handles", "list", "--path", "/vms/a b.qcow2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("may be incomplete"), "\(result.stderr)")
    }

    @Test("missing privileges are named at login")
    func privilegeCheck() throws {
        let simulator = try SimulatorProcess(scenarioFile: scenario)
        let workspace = try Workspace(password: password)
        let result = login(simulator, workspace, user: "reader")
        #expect(result.status == 0)
        #expect(result.stderr.contains("PRIVILEGE_SMB_FILE_HANDLE_WRITE"), "\(result.stderr)")
        #expect(!result.stderr.contains("PRIVILEGE_SMB_FILE_HANDLE_READ,"))
    }

    @Test("API_HOSTNAME / API_USER / API_PASSWORD log in when nothing else is given")
    func environmentLogin() throws {
        let simulator = try SimulatorProcess(scenarioFile: scenario)
        let workspace = try Workspace(password: password)
        let result = runProcess(
            TestBinaries.path("smbvol"), ["handles", "list", "--port", String(simulator.port), "--ca-file", simulator.caFile ?? ""],
            environment: workspace.environment.merging(["API_HOSTNAME": "127.0.0.1", "API_USER": "admin", "API_PASSWORD": password]) { _, new in new },
            timeout: .seconds(60))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("4.6765.399"))
        #expect(try simulator.state().logins == 1)
    }

    @Test("no password or token in any output, even at debug level, nor in any process's argv")
    func noSecretsLeak() async throws {
        let simulator = try SimulatorProcess(scenarioFile: scenario)
        let workspace = try Workspace(password: password)
        try simulator.addFault(#"{"kind": "latency", "milliseconds": 300, "path_prefix": "/v1/smb/files/"}"#)
        // Scan every process's argv while a slow listing with login runs.
        let scanner = Task.detached { () -> [String] in
            var hits: [String] = []
            let deadline = ContinuousClock.now + .seconds(3)
            while ContinuousClock.now < deadline {
                for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(pid) != nil {
                    if let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") {
                        let argv = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\0", with: " ")
                        if argv.contains("smbvol") && argv.contains(" \(self.password)") { hits.append(argv) }
                    }
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return hits
        }
        let result = smbvol(
            simulator, workspace, ["handles", "list", "--debug", "--user", "admin", "--password-file", workspace.passwordFile])
        #expect(result.status == 0, "\(result.stderr)")
        let token = try String(contentsOfFile: workspace.storePath(port: simulator.port), encoding: .utf8)
        let bearer = try #require(token.split(separator: "\"").first { $0.hasPrefix("session-v1:") }).description
        for text in [result.stdout, result.stderr] {
            #expect(!text.contains(bearer))
            #expect(!text.contains("\"\(password)\"") && !text.contains("=\(password)"))
        }
        #expect(result.stderr.contains("debug"), "debug logging produced nothing to check")
        #expect(await scanner.value.isEmpty)
    }
}
