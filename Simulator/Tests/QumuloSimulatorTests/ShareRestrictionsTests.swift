import QumuloSimulator
import Testing

/// Share host restrictions (GET/PATCH with ETag and If-Match) and their enforcement.
@Suite("share host restrictions")
struct ShareRestrictionsTests {
    static let denyFirst = """
        {"network_permissions": [
          {"type": "DENIED", "address_ranges": ["203.0.113.7"], "rights": ["ALL"]},
          {"type": "ALLOWED", "address_ranges": [], "rights": ["READ", "WRITE", "CHANGE_PERMISSIONS"]}]}
        """

    func patch(_ service: SimulatorService, _ target: String, _ json: String, ifMatch: String?) async -> SimulatorResponse {
        await service.handle(
            SimulatorRequest(method: "PATCH", target: target, authorization: "Bearer access-v1:abc", ifMatch: ifMatch, body: Array(json.utf8)))
    }

    @Test("GET answers the share with an ETag and the default restriction: every address, every right")
    func getShare() async throws {
        let service = try SimulatorService.basic()
        let response = await service.get("/v3/smb/shares/1")
        #expect(response.status == 200)
        let etag = try #require(response.etag)
        #expect(etag.hasPrefix("\"") && etag.hasSuffix("\""))
        let entries = try #require(response.json?["network_permissions"]?.arrayValue)
        #expect(entries.count == 1)
        #expect(entries.first?["type"]?.stringValue == "ALLOWED")
        #expect(entries.first?["address_ranges"]?.arrayValue?.isEmpty == true)
        #expect(await service.get("/v3/smb/shares/99").status == 404)
    }

    @Test("PATCH with the ETag read applies (ALL normalised), changes the ETag; a stale If-Match gets 412 and changes nothing")
    func patchWithIfMatch() async throws {
        let service = try SimulatorService.basic()
        let first = try #require(await service.get("/v3/smb/shares/1").etag)
        let applied = await patch(service, "/v3/smb/shares/1", Self.denyFirst, ifMatch: first)
        #expect(applied.status == 200, "\(applied.bodyString)")
        let second = try #require(applied.etag)
        #expect(second != first)
        let rights = applied.json?["network_permissions"]?.arrayValue?.first?["rights"]?.arrayValue?.compactMap(\.stringValue)
        #expect(rights == ["READ", "WRITE", "CHANGE_PERMISSIONS"])

        let stale = await patch(service, "/v3/smb/shares/1", #"{"network_permissions": []}"#, ifMatch: first)
        #expect(stale.status == 412)
        let now = await service.get("/v3/smb/shares/1")
        #expect(now.etag == second)
        #expect(now.json?["network_permissions"]?.arrayValue?.count == 2)
    }

    @Test("PATCH refuses malformed entries and needs PRIVILEGE_SMB_SHARE_WRITE")
    func patchValidation() async throws {
        let service = try SimulatorService(
            scenarioJSON: """
                {"users": [{"name": "reader", "password": "pw", "auth_id": "501", "privileges": ["PRIVILEGE_SMB_SHARE_READ"]},
                           {"name": "admin", "password": "pw", "auth_id": "500"}],
                 "access_tokens": [{"token": "reader-token", "user": "reader"}, {"token": "access-v1:abc", "user": "admin"}],
                 "shares": [{"id": "1", "name": "vms", "fs_path": "/vms"}]}
                """)
        let denied = await service.handle(
            SimulatorRequest(method: "PATCH", target: "/v3/smb/shares/1", authorization: "Bearer reader-token", body: Array(Self.denyFirst.utf8)))
        #expect(denied.status == 403)
        #expect(denied.bodyString.contains("PRIVILEGE_SMB_SHARE_WRITE"))
        for bad in [
            #"{"network_permissions": [{"type": "MAYBE", "address_ranges": [], "rights": ["READ"]}]}"#,
            #"{"network_permissions": [{"type": "DENIED", "address_ranges": ["203.0.113.300"], "rights": ["READ"]}]}"#,
            #"{"network_permissions": [{"type": "DENIED", "address_ranges": [], "rights": ["FLY"]}]}"#,
        ] {
            #expect(await patch(service, "/v3/smb/shares/1", bad, ifMatch: nil).status == 400, "\(bad)")
        }
    }

    @Test("a denied address cannot open a session; an allowed one can; closing a session removes it and its handles")
    func enforcement() async throws {
        let service = try SimulatorService.basic()
        #expect(await patch(service, "/v3/smb/shares/1", Self.denyFirst, ifMatch: nil).status == 200)
        let refused = await service.post("/_sim/sessions", #"[{"originator": "203.0.113.7", "auth_id": "1001", "share_names": ["vms"]}]"#)
        #expect(refused.status == 400)
        #expect(refused.bodyString.contains("203.0.113.7"))
        let admitted = await service.post("/_sim/sessions", #"[{"originator": "203.0.113.8", "auth_id": "1001", "share_names": ["vms"]}]"#)
        #expect(admitted.status == 200, "\(admitted.bodyString)")

        let closed = await service.post("/v1/smb/sessions/close", #"[{"location": "1"}, {"location": "nope"}]"#)
        let messages = closed.json?.arrayValue?.compactMap { $0["error_message"]?.stringValue }
        #expect(messages?.first == "")
        #expect(messages?.last?.isEmpty == false)
        let left = await service.collect("/v1/smb/sessions/", key: "session_infos")
        #expect(!left.items.contains { $0["location"]?.stringValue == "1" })
    }

    @Test("a scenario whose session comes from an address its share denies is rejected at load")
    func scenarioContradiction() throws {
        #expect(throws: ScenarioError.sessionFromDeniedAddress(originator: "198.51.100.4", share: "vms")) {
            try SimulatorService(
                scenarioJSON: """
                    {"shares": [{"id": "1", "name": "vms", "fs_path": "/vms", "network_permissions": [
                       {"type": "DENIED", "address_ranges": ["198.51.100.0/24"], "rights": ["ALL"]},
                       {"type": "ALLOWED", "address_ranges": [], "rights": ["ALL"]}]}],
                     "sessions": [{"originator": "198.51.100.4", "auth_id": "1", "share_names": ["vms"]}]}
                    """)
        }
    }

    @Test("rights per address: first matching entry per right decides; unnamed addresses get nothing once a list is set")
    func evaluation() {
        let entries = [
            NetworkPermission(type: .denied, addressRanges: ["203.0.113.5-9"], rights: ["WRITE"]),
            NetworkPermission(type: .allowed, addressRanges: ["203.0.113.0/24"], rights: NetworkPermission.allRights),
        ]
        #expect(NetworkPermission.rights(of: "203.0.113.7", under: entries) == ["READ", "CHANGE_PERMISSIONS"])
        #expect(NetworkPermission.rights(of: "203.0.113.10", under: entries) == Set(NetworkPermission.allRights))
        #expect(NetworkPermission.rights(of: "198.51.100.1", under: entries).isEmpty)
        #expect(NetworkPermission.rights(of: "198.51.100.1", under: nil) == Set(NetworkPermission.allRights))
    }
}
