import QumuloSimulator
import Testing

@Suite("Authentication, privileges and errors")
struct AuthTests {
    @Test("version needs no token; other endpoints answer 401 in Qumulo's error shape")
    func unauthenticated() async throws {
        let service = try SimulatorService.basic()
        #expect(await service.get("/v1/version", token: nil).status == 200)
        let missing = await service.get("/v1/smb/files/", token: nil)
        #expect(missing.status == 401)
        let body = try #require(missing.json)
        #expect(body["error_class"]?.stringValue == "http_unauthorized_error")
        #expect(body["module"] != nil && body["description"] != nil)
        #expect(body["stack"]?.arrayValue?.isEmpty == true)
        #expect(body["user_visible"]?.boolValue == true)
        #expect(await service.get("/v1/smb/files/", token: "session-v1:bogus").status == 401)
    }

    @Test("login answers a session token that then works; a bad password is api_invalid_credentials_error")
    func login() async throws {
        let service = try SimulatorService.basic()
        let bad = await service.post("/v1/session/login", #"{"username": "admin", "password": "nope"}"#, token: nil)
        #expect(bad.status == 401)
        #expect(bad.json?["error_class"]?.stringValue == "api_invalid_credentials_error")
        #expect(!bad.bodyString.contains("nope"))

        let good = await service.post(
            "/v1/session/login", #"{"username": "admin", "password": "secret"}"#, token: "stale-token")
        let token = try #require(good.json?["bearer_token"]?.stringValue)
        #expect(token.hasPrefix("session-v1:"))
        let who = try #require(await service.get("/v1/session/who-am-i", token: token).json)
        #expect(who["name"]?.stringValue == "admin")
        #expect(who["privileges"]?.arrayValue?.count == Privilege.all.count)

        let state = try #require(await service.get("/_sim/state", token: nil).json)
        #expect(state["logins"]?.intValue == 1)
        #expect(!state.serializedString.contains(token))
        #expect(!state.serializedString.contains("secret"))
        let requests = try #require(state["requests"]?.arrayValue)
        #expect(requests.last?["authenticated"]?.boolValue == true)
    }

    @Test("a missing privilege is 403 naming it")
    func privileges() async throws {
        let service = try SimulatorService.basic()
        let login = await service.post("/v1/session/login", #"{"username": "reader", "password": "pw"}"#, token: nil)
        let token = try #require(login.json?["bearer_token"]?.stringValue)
        #expect(await service.get("/v1/smb/files/", token: token).status == 200)
        let sessions = await service.get("/v1/smb/sessions/", token: token)
        #expect(sessions.status == 403)
        #expect(sessions.json?["error_class"]?.stringValue == "http_forbidden_error")
        #expect(sessions.json?["description"]?.stringValue?.contains("PRIVILEGE_SMB_SESSION_READ") == true)
        let close = await service.post("/v1/smb/files/close", #"[{"handle_info": {"location": "4.1.1"}}]"#, token: token)
        #expect(close.status == 403)
        #expect(service.handleCount == 4)
    }

    @Test("unknown paths, missing files, relative refs and malformed bodies")
    func errors() async throws {
        let service = try SimulatorService.basic()
        let unknown = await service.get("/v1/nothing/here")
        #expect(unknown.status == 404)
        #expect(unknown.json?["error_class"]?.stringValue == "http_not_found_error")
        let missing = await service.get("/v1/files/%2Fvms%2Fnope.qcow2/info/attributes")
        #expect(missing.status == 404)
        #expect(missing.json?["error_class"]?.stringValue == "fs_no_such_entry_error")
        let relative = await service.get("/v1/files/vms%2Fa.qcow2/info/attributes")
        #expect(relative.status == 400)
        #expect(relative.json?["error_class"]?.stringValue == "invalid_request_error")
        #expect(await service.post("/v1/smb/files/close", "[{").status == 400)
        #expect(await service.post("/v1/session/login", "nope", token: nil).status == 400)
        #expect(await service.get("/v1/smb/files/?limit=0").status == 400)
        #expect(await service.get("/v1/smb/files/?after=garbage!").status == 400)
        #expect(await service.get("/v1/smb/files/?resolve_paths=maybe").status == 400)
        #expect(await service.handle(.init(method: "DELETE", target: "/v1/smb/files/")).status == 405)
    }
}
