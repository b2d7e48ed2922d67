import Foundation
import QumuloSimulator
import Testing

@Suite("Cluster variants: API prefix, absent lock-grant listings, the lock manager's role")
struct ClusterVariantTests {
    private static func scenario(cluster: String = "", users: String? = nil) -> String {
        var text = Fixtures.basic
        if let users {
            text = text.replacingOccurrences(of: #""access_tokens": [{"token": "access-v1:abc", "user": "admin"}],"#, with: users)
        }
        if !cluster.isEmpty, let end = text.lastIndex(of: "}") {
            text = String(text[..<end]) + #", "cluster": \#(cluster)}"#
        }
        return text
    }

    @Test("under /api: requests outside the prefix get 404, inside work; next comes back without the prefix")
    func prefix() async throws {
        let service = try SimulatorService(scenarioJSON: Self.scenario(cluster: #"{"api_prefix": "/api"}"#), pageSize: 1)
        #expect(await service.get("/v1/smb/files/").status == 404)
        let page = await service.get("/api/v1/smb/files/?limit=1")
        #expect(page.status == 200)
        let next = try #require(page.json?["paging"]?["next"]?.stringValue)
        #expect(next.hasPrefix("/v1/smb/files/?"))
        #expect(await service.get("/api" + next).status == 200)
        #expect(await service.get("/_sim/state", token: nil).status == 200)
    }

    @Test("serve --api-prefix overrides the scenario")
    func prefixOverride() async throws {
        let service = try SimulatorService(scenario: Scenario.decode(Array(Fixtures.basic.utf8)), apiPrefix: "/edge/api")
        #expect(await service.get("/edge/api/v1/version").status == 200)
        #expect(await service.get("/v1/version").status == 404)
    }

    @Test("lock_grant_listings false: per-file and cluster-wide grant listings answer 404, handles still listed")
    func noGrantListings() async throws {
        let service = try SimulatorService(scenarioJSON: Self.scenario(cluster: #"{"lock_grant_listings": false}"#))
        let perFile = await service.get("/v1/files/1002/locks/smb/share-mode/")
        #expect(perFile.status == 404)
        #expect(perFile.json?["error_class"]?.stringValue == "http_not_found_error")
        #expect(await service.get("/v1/files/locks/smb/share-mode/").status == 404)
        #expect(await service.get("/v1/files/locks/smb/byte-range/?owner_address=10.0.0.5").status == 404)
        #expect(await service.get("/v1/smb/files/").status == 200)
    }

    @Test("role lock_manager: handles read and close, identities; 403 on sessions, grants and shares")
    func lockManagerRole() async throws {
        let users = #""access_tokens": [{"token": "access-v1:lm", "user": "lockmgr"}],"#
        var text = Self.scenario(users: users)
        text = text.replacingOccurrences(
            of: #"{"name": "admin", "password": "secret", "auth_id": "500"},"#,
            with: #"{"name": "admin", "password": "secret", "auth_id": "500"}, {"name": "lockmgr", "password": "pw", "auth_id": "502", "role": "lock_manager"},"#)
        let service = try SimulatorService(scenarioJSON: text)
        let token = "access-v1:lm"
        #expect(await service.get("/v1/smb/files/", token: token).status == 200)
        #expect(await service.post("/v1/identity/find", #"{"auth_id": "1001"}"#, token: token).status == 200)
        for denied in ["/v1/smb/sessions/", "/v1/files/locks/smb/share-mode/", "/v1/files/1002/locks/smb/byte-range/", "/v3/smb/shares/"] {
            let answer = await service.get(denied, token: token)
            #expect(answer.status == 403, "\(denied)")
        }
        #expect(await service.post("/v1/smb/files/close", #"[{"handle_info": {"location": "4.1.1"}}]"#, token: token).status == 200)
    }

    @Test("an unknown role, or a role with a privilege list, is a scenario error")
    func badRole() {
        #expect(throws: ScenarioError.self) {
            try SimulatorService(scenarioJSON: #"{"users": [{"name": "x", "password": "y", "role": "superuser"}]}"#)
        }
        #expect(throws: ScenarioError.self) {
            try SimulatorService(
                scenarioJSON: #"{"users": [{"name": "x", "password": "y", "role": "admin", "privileges": []}]}"#)
        }
    }
}
