import QumuloSimulator
import Testing

/// The faults and scenario features smbvol's hardening tests need.
@Suite("Fault injection for hardening")
struct HardeningFaultTests {
    @Test("ignore_filter: the handle listing answers every file's handles for a file_number, once per fault")
    func ignoreFilter() async throws {
        let service = try SimulatorService(scenarioJSON: Fixtures.manyHandles(3, pageSize: 100))
        #expect(await service.get("/v1/smb/files/?file_number=43").json?["file_handles"]?.arrayValue?.count == 1)
        _ = await service.post("/_sim/faults", #"{"kind": "ignore_filter", "path_prefix": "/v1/smb/files/", "count": 1}"#, token: nil)
        #expect(await service.get("/v1/smb/files/?file_number=43").json?["file_handles"]?.arrayValue?.count == 4)
        #expect(await service.get("/v1/smb/files/?file_number=43").json?["file_handles"]?.arrayValue?.count == 1)
    }

    @Test("endless_next: every page hands out a next link never seen before")
    func endlessNext() async throws {
        let service = try SimulatorService(scenarioJSON: Fixtures.manyHandles(3, pageSize: 100))
        _ = await service.post("/_sim/faults", #"{"kind": "endless_next", "path_prefix": "/v1/smb/files/"}"#, token: nil)
        var seen: Set<String> = []
        var target = "/v1/smb/files/"
        for _ in 0..<5 {
            let next = try #require(await service.get(target).json?["paging"]?["next"]?.stringValue)
            #expect(seen.insert(next).inserted)
            target = next
        }
    }

    @Test("hard links resolve to the file's id and file number; shares carry their tenant")
    func linksAndTenants() async throws {
        let service = try SimulatorService(
            scenarioJSON: """
                {"users": [{"name": "admin", "password": "secret", "auth_id": "500"}],
                 "access_tokens": [{"token": "access-v1:abc", "user": "admin"}],
                 "shares": [{"id": "1", "name": "vms", "fs_path": "/vms"}, {"id": "2", "name": "VMS", "fs_path": "/t2/vms", "tenant_id": 2}],
                 "files": [{"path": "/vms/a.qcow2", "id": "42", "links": ["/vms/b.qcow2"]}]}
                """)
        let linked = await service.get("/v1/files/%2Fvms%2Fb.qcow2/info/attributes")
        #expect(linked.json?["file_number"]?.stringValue == "42")
        let shares = await service.get("/v3/smb/shares/").json?["entries"]?.arrayValue ?? []
        #expect(shares.count == 2)
        #expect(shares.last?["tenant_id"]?.intValue == 2)
    }
}
