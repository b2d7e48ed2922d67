import QumuloSimulator
import Testing

@Suite("Fault injection")
struct FaultTests {
    @Test("status faults hit requests after+1 … after+count matching the prefix")
    func statusWindow() async throws {
        let service = try SimulatorService.basic()
        let added = await service.post(
            "/_sim/faults", #"{"kind": "status", "status": 503, "path_prefix": "/v1/smb/", "after": 1, "count": 2}"#,
            token: nil)
        #expect(added.status == 200)
        #expect(await service.get("/v1/version").status == 200)
        let statuses = await [
            service.get("/v1/smb/files/").status, service.get("/v1/smb/files/").status,
            service.get("/v1/smb/sessions/").status, service.get("/v1/smb/files/").status,
        ]
        #expect(statuses == [200, 503, 503, 200])
        let failed = await service.get("/v1/smb/files/")
        #expect(failed.status == 200)
        #expect(await service.delete("/_sim/faults").status == 200)
    }

    @Test("an injected 503 has Qumulo's error shape")
    func statusShape() async throws {
        let service = try SimulatorService(
            scenarioJSON: #"{"users": [], "faults": [{"kind": "status", "status": 503}]}"#)
        let answer = await service.get("/v1/version")
        #expect(answer.status == 503)
        #expect(answer.json?["error_class"] != nil)
    }

    @Test("token_expiry: a token works N times, then 401")
    func tokenExpiry() async throws {
        let service = try SimulatorService.basic()
        _ = await service.post("/_sim/faults", #"{"kind": "token_expiry", "after_uses": 2}"#, token: nil)
        let statuses = await [
            service.get("/v1/smb/files/").status, service.get("/v1/smb/files/").status,
            service.get("/v1/smb/files/").status,
        ]
        #expect(statuses == [200, 200, 401])
        let login = await service.post("/v1/session/login", #"{"username": "admin", "password": "secret"}"#, token: nil)
        let token = try #require(login.json?["bearer_token"]?.stringValue)
        #expect(await service.get("/v1/smb/files/", token: token).status == 200)
    }

    @Test("invalid_json truncates a 200 body; looping_next points back at the same page")
    func bodyFaults() async throws {
        let service = try SimulatorService(scenarioJSON: Fixtures.manyHandles(5, pageSize: 2))
        _ = await service.post("/_sim/faults", #"{"kind": "invalid_json", "path_prefix": "/v1/smb/files", "count": 1}"#, token: nil)
        let broken = await service.get("/v1/smb/files/")
        #expect(broken.status == 200)
        #expect(broken.json == nil)
        #expect(await service.get("/v1/smb/files/").json != nil)

        _ = await service.post("/_sim/faults", #"{"kind": "looping_next"}"#, token: nil)
        let target = "/v1/smb/files/?file_number=42&limit=2"
        #expect(await service.get(target).json?["paging"]?["next"]?.stringValue == target)
    }

    @Test("close_error keeps the handle and answers its message")
    func closeError() async throws {
        let service = try SimulatorService.basic()
        _ = await service.post(
            "/_sim/faults", #"{"kind": "close_error", "location": "4.1.1", "message": "handle busy"}"#, token: nil)
        let answer = await service.post("/v1/smb/files/close", #"[{"handle_info": {"location": "4.1.1"}}]"#)
        #expect(answer.status == 200)
        #expect(answer.json?[0]?["error_message"]?.stringValue == "handle busy")
        #expect(service.handleCount == 4)
    }

    @Test("hang asks the transport never to answer; latency delays")
    func hangAndLatency() async throws {
        let service = try SimulatorService.basic()
        _ = await service.post("/_sim/faults", #"{"kind": "latency", "milliseconds": 50, "count": 1}"#, token: nil)
        let clock = ContinuousClock()
        let elapsed = await clock.measure { _ = await service.get("/v1/version") }
        #expect(elapsed >= .milliseconds(50))
        _ = await service.post("/_sim/faults", #"{"kind": "hang", "path_prefix": "/v1/smb/sessions"}"#, token: nil)
        #expect(await service.get("/v1/smb/sessions/").hangs)
        #expect(await service.get("/v1/smb/files/").hangs == false)
    }

    @Test("admin endpoints add handles and sessions, drop sessions, reset the log")
    func admin() async throws {
        let service = try SimulatorService.basic()
        let added = await service.post(
            "/_sim/handles",
            #"[{"path": "/vms/a.qcow2", "location": "5.5.5", "owner": "1001", "client_address": "10.0.0.7"}]"#,
            token: nil)
        #expect(added.status == 200)
        #expect(service.handleCount == 5)
        #expect(await service.post("/_sim/handles", #"[{"path": "/nope", "location": "x", "owner": "1", "client_address": "a"}]"#, token: nil).status == 400)
        _ = await service.post("/_sim/sessions", #"[{"originator": "10.0.0.7", "auth_id": "1001"}]"#, token: nil)
        #expect(await service.get("/v1/smb/sessions/").json?["session_infos"]?.arrayValue?.count == 3)
        #expect(await service.delete("/_sim/sessions").status == 200)
        #expect(await service.get("/v1/smb/sessions/").json?["session_infos"]?.arrayValue?.isEmpty == true)
        #expect(await service.post("/_sim/requests/reset", "", token: nil).status == 200)
        #expect(await service.get("/_sim/state", token: nil).json?["requests"]?.arrayValue?.isEmpty == true)
    }
}
