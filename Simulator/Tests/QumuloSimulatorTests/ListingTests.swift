import QumuloSimulator
import Testing

@Suite("Listings, paging and derived data")
struct ListingTests {
    @Test("file handle paging carries every filter and ends with a null next")
    func handlePaging() async throws {
        let service = try SimulatorService(scenarioJSON: Fixtures.manyHandles(7, pageSize: 3))
        let first = try #require(await service.get("/v1/smb/files/?file_number=42&resolve_paths=true").json)
        #expect(first["file_handles"]?.arrayValue?.count == 3)
        let next = try #require(first["paging"]?["next"]?.stringValue)
        #expect(next.hasPrefix("/v1/smb/files/?"))
        #expect(next.contains("file_number=42") && next.contains("resolve_paths=true"))
        #expect(next.contains("limit=3") && next.contains("after="))

        let all = await service.collect("/v1/smb/files/?file_number=42&resolve_paths=True&limit=100", key: "file_handles")
        #expect(all.requests.count == 3)
        #expect(all.items.count == 7)
        #expect(Set(all.items.compactMap { $0["handle_info"]?["location"]?.stringValue }).count == 7)
        #expect(all.items.allSatisfy { $0["handle_info"]?["path"]?.stringValue == "/vms/big.qcow2" })
        let unfiltered = await service.collect("/v1/smb/files/?resolve_paths=FALSE&limit=2", key: "file_handles")
        #expect(unfiltered.items.count == 8)
        #expect(unfiltered.items.allSatisfy { $0["handle_info"]?["path"] == nil })
    }

    @Test("grant listings never answer a null next; a short page is the end")
    func grantPaging() async throws {
        let service = try SimulatorService(scenarioJSON: Fixtures.manyHandles(7, pageSize: 3))
        let all = await service.collect("/v1/files/42/locks/smb/share-mode/?limit=3", key: "grants", stopOnShortPage: 3)
        #expect(all.items.count == 7)
        #expect(all.requests.count == 3)
        // Past the end (the cursor is opaque: take the one the last page handed out).
        let lastRequest = try #require(all.requests.last)
        let last = try #require(await service.get(lastRequest).json)
        let end = try #require(last["paging"]?["next"]?.stringValue)
        let exhausted = try #require(await service.get(end).json)
        #expect(exhausted["grants"]?.arrayValue?.isEmpty == true)
        #expect(exhausted["paging"]?["next"]?.stringValue != nil)
        let byClient = await service.collect(
            "/v1/files/locks/smb/share-mode/?owner_address=10.0.0.5&limit=3", key: "grants", stopOnShortPage: 3)
        #expect(byClient.items.count == 8)
        #expect(byClient.requests.dropFirst().allSatisfy { $0.contains("owner_address=10.0.0.5") })
    }

    @Test("grants are derived from handles; grants:false handles have none; closing removes them")
    func grantDerivation() async throws {
        let service = try SimulatorService.basic()
        let share = try #require(await service.get("/v1/files/%2Fvms%2Fa%20b.qcow2/locks/smb/share-mode/").json)
        let grants = try #require(share["grants"]?.arrayValue)
        #expect(grants.count == 2)
        #expect(Set(grants.compactMap { $0["owner_address"]?.stringValue }) == ["10.0.0.5", "10.0.0.6"])
        #expect(grants.allSatisfy { $0["file_id"]?.stringValue == "1002" })
        let ranges = try #require(await service.get("/v1/files/1002/locks/smb/byte-range/").json?["grants"]?.arrayValue)
        #expect(ranges.count == 2)
        #expect(ranges.allSatisfy { $0["owner_address"]?.stringValue == "10.0.0.6" && $0["offset"]?.stringValue != nil })

        let closed = await service.post("/v1/smb/files/close", #"[{"handle_info": {"location": "4.1.3"}}, {"handle_info": {"location": "zz"}}]"#)
        let results = try #require(closed.json?.arrayValue)
        #expect(results.count == 2)
        #expect(results[0]["error_message"]?.stringValue == "")
        #expect(results[1]["error_message"]?.stringValue?.isEmpty == false)
        let after = await service.get("/v1/files/1002/locks/smb/byte-range/").json?["grants"]?.arrayValue
        #expect(after?.isEmpty == true)
        let state = try #require(await service.get("/_sim/state", token: nil).json)
        #expect(state["closed_locations"]?.arrayValue?.compactMap(\.stringValue) == ["4.1.3"])
        #expect(state["handles"]?.intValue == 3)
    }

    @Test("sessions carry derived num_opens, the identity as user, nanosecond strings; identity filters")
    func sessions() async throws {
        let service = try SimulatorService.basic()
        let page = try #require(await service.get("/v1/smb/sessions/").json)
        let sessions = try #require(page["session_infos"]?.arrayValue)
        #expect(sessions.count == 2)
        #expect(page["paging"]?["next"]?.isNull == true)
        let first = try #require(sessions.first)
        #expect(first["num_opens"]?.intValue == 2)
        #expect(first["user"]?["sid"]?.stringValue == "S-1-5-21-1-2-3-1001")
        #expect(first["user"]?["uid"]?.intValue == 1001)
        #expect(first["time_idle"]?["nanoseconds"]?.stringValue == "5000000000")
        #expect(first["location"]?.stringValue?.isEmpty == false)
        for filter in ["auth_id:1002", "uid:1002", "sid:S-1-5-21-1-2-3-1002", "S-1-5-21-1-2-3-1002", "ad:svc-other", "svc-other"] {
            let found = await service.get("/v1/smb/sessions/?identity=\(filter)").json?["session_infos"]?.arrayValue
            #expect(found?.count == 1, "\(filter)")
            #expect(found?.first?["originator"]?.stringValue == "10.0.0.6", "\(filter)")
        }
        let paged = try #require(await service.get("/v1/smb/sessions/?identity=gid%3A100&limit=1").json)
        #expect(paged["paging"]?["next"]?.stringValue?.contains("identity=gid%3A100") == true)

        let location = try #require(first["location"]?.stringValue)
        let closed = await service.post("/v1/smb/sessions/close", "[{\"location\": \"\(location)\"}]")
        #expect(closed.json?[0]?["error_message"]?.stringValue == "")
        #expect(service.handleCount == 2)
    }

    @Test("shares and identity find")
    func sharesAndIdentity() async throws {
        let service = try SimulatorService.basic()
        let shares = try #require(await service.get("/v3/smb/shares/?populate-trustee-names=false").json)
        #expect(shares["entries"]?[0]?["share_name"]?.stringValue == "vms")
        #expect(shares["entries"]?[0]?["fs_path"]?.stringValue == "/vms")
        let byUID = try #require(await service.post("/v1/identity/find", #"{"uid": 1001}"#).json)
        #expect(byUID["auth_id"]?.stringValue == "1001")
        #expect(byUID["name"]?.stringValue == "svc-kvm")
        let bySID = try #require(await service.post("/v1/identity/find", #"{"sid": "S-1-5-21-1-2-3-1002"}"#).json)
        #expect(bySID["uid"]?.intValue == 1002)
        #expect(await service.post("/v1/identity/find", #"{"auth_id": "999"}"#).status == 404)
    }

    @Test("path references decode space, #, %, + and unicode from one segment")
    func pathDecoding() async throws {
        let service = try SimulatorService.basic()
        let odd = await service.get("/v1/files/%2Fvms%2Fodd%20%23%25%2B.qcow2/info/attributes")
        #expect(odd.json?["file_number"]?.stringValue == "1003")
        let unicode = await service.get(
            "/v1/files/%2Fvms%2F%C3%BCn%C3%AF%20c%C3%B6d%C3%A9.qcow2/info/attributes")
        #expect(unicode.json?["file_number"]?.stringValue == "1004")
        let plus = await service.get("/v1/files/%2Fvms%2Fodd+%23%25%2B.qcow2/info/attributes")
        #expect(plus.status == 404)  // "+" in a path segment is a plus, not a space
        #expect(await service.get("/v1/files/%2Fvms%2Fa%2/info/attributes").status == 400)
    }
}
