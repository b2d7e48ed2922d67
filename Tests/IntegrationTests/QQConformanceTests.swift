import Foundation
import Testing

/// The official `qq` CLI against qumulo-sim over HTTPS: the simulator must be faithful enough
/// for Qumulo's own client. Fails (never skips) when qq is missing.
@Suite("qq conformance", .serialized)
struct QQConformanceTests {
    let scenario = TestBinaries.packageRoot + "/Tests/Scenarios/basic.json"

    /// Runs `qq --host … --port … --credentials-store … ARGS`.
    func qq(
        _ simulator: SimulatorProcess, store: String, _ args: [String], stdin: String? = nil
    ) -> (status: Int32, stdout: String, stderr: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = URL(fileURLWithPath: store).deletingLastPathComponent().path
        environment["XDG_CONFIG_HOME"] = nil
        let common = ["--host", simulator.host, "--port", String(simulator.port), "--credentials-store", store]
        return runProcess(
            TestBinaries.qq, common + args, stdin: stdin, environment: environment, timeout: .seconds(60))
    }

    func json(_ text: String) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(value as? [String: Any], "not a JSON object: \(text)")
    }

    func makeStore() throws -> String {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("qq-home-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory + "/credentials"
    }

    @Test("qq login, fs_file_get_attr, smb_list_file_handles -p, smb_close_file_handle, smb_list_sessions")
    func officialCLIWorkflow() throws {
        let simulator = try SimulatorProcess(scenarioFile: scenario)
        defer { simulator.stop() }
        let store = try makeStore()

        // login writes {"bearer_token": …, "version": 1} with mode 0600.
        let login = qq(simulator, store: store, ["login", "-u", "admin", "-p", "secret"])
        #expect(login.status == 0, "qq login: \(login.stderr)")
        let stored = try json(String(contentsOfFile: store, encoding: .utf8))
        let token = try #require(stored["bearer_token"] as? String)
        #expect(token.hasPrefix("session-v1:"))
        #expect(stored["version"] as? Int == 1)
        let mode = try FileManager.default.attributesOfItem(atPath: store)[.posixPermissions] as? Int
        #expect(mode.map { $0 & 0o777 } == 0o600)
        #expect(!login.stdout.contains(token) && !login.stderr.contains(token))

        // fs_file_get_attr on a path with a space.
        let attr = qq(simulator, store: store, ["fs_file_get_attr", "--path", "/vms/a b.qcow2"])
        #expect(attr.status == 0, "qq fs_file_get_attr: \(attr.stderr)")
        let attributes = try json(attr.stdout)
        #expect(attributes["path"] as? String == "/vms/a b.qcow2")
        #expect(attributes["file_number"] as? String == "1002")
        #expect(attributes["type"] as? String == "FS_FILE_TYPE_FILE")

        // smb_list_file_handles --path P -p: -p is --resolve-paths.
        try simulator.resetRequests()
        let list = qq(simulator, store: store, ["smb_list_file_handles", "--path", "/vms/a b.qcow2", "-p"])
        #expect(list.status == 0, "qq smb_list_file_handles: \(list.stderr)")
        let handles = try #require(try json(list.stdout)["file_handles"] as? [[String: Any]])
        let infos = handles.compactMap { $0["handle_info"] as? [String: Any] }
        #expect(Set(infos.compactMap { $0["location"] as? String }) == ["4.6765.400", "4.6765.401", "4.6765.402"])
        #expect(infos.allSatisfy { $0["path"] as? String == "/vms/a b.qcow2" })
        #expect(handles.allSatisfy { $0["file_number"] as? String == "1002" })
        let listRequests = try simulator.state().requests.map { "\($0.method) \($0.path) \($0.status)" }
        #expect(
            listRequests == [
                "GET /v1/files/%2Fvms%2Fa%20b.qcow2/info/attributes 200",
                "GET /v1/smb/files/?file_number=1002&resolve_paths=True 200",
            ])

        // smb_close_file_handle asks for confirmation on stdin.
        let close = qq(simulator, store: store, ["smb_close_file_handle", "--location", "4.6765.401"], stdin: "yes\n")
        #expect(close.status == 0, "qq smb_close_file_handle: \(close.stderr)")
        let afterClose = try simulator.state()
        #expect(afterClose.closedLocations == ["4.6765.401"])
        #expect(afterClose.handles == 3)

        // smb_list_sessions prints every session.
        let sessions = qq(simulator, store: store, ["smb_list_sessions"])
        #expect(sessions.status == 0, "qq smb_list_sessions: \(sessions.stderr)")
        let infosList = try #require(try json(sessions.stdout)["session_infos"] as? [[String: Any]])
        #expect(Set(infosList.compactMap { $0["originator"] as? String }) == ["10.0.0.5", "10.0.0.6"])
        let user = try #require(infosList.first?["user"] as? [String: Any])
        #expect(user["auth_id"] as? String == "1001")

        // Every request after login carried the stored token.
        let requests = try simulator.state().requests
        #expect(requests.allSatisfy { $0.authenticated })
    }

    @Test("qq smb_close_file_handle answered no closes nothing; a bad password fails login")
    func refusalAndBadPassword() throws {
        let simulator = try SimulatorProcess(scenarioFile: scenario)
        defer { simulator.stop() }
        let store = try makeStore()

        let bad = qq(simulator, store: store, ["login", "-u", "admin", "-p", "wrong"])
        #expect(bad.status != 0)
        #expect((bad.stdout + bad.stderr).contains("api_invalid_credentials_error"))

        let login = qq(simulator, store: store, ["login", "-u", "admin", "-p", "secret"])
        #expect(login.status == 0, "qq login: \(login.stderr)")
        let close = qq(simulator, store: store, ["smb_close_file_handle", "--location", "4.6765.399"], stdin: "no\n")
        #expect(close.status == 0)
        #expect(try simulator.state().closedLocations.isEmpty)

        let missing = qq(simulator, store: store, ["fs_file_get_attr", "--path", "/vms/missing.qcow2"])
        #expect(missing.status != 0)
        #expect((missing.stdout + missing.stderr).contains("fs_no_such_entry_error"))
    }
}
