import Foundation
import QumuloClient
import SmbvolTestSupport
import Testing

@Suite("Share host restrictions and session close (client)")
struct ShareRestrictionsClientTests {
    static let share = #"{"id": "7", "share_name": "vms", "fs_path": "/vms", "network_permissions": [{"type": "ALLOWED", "address_ranges": [], "rights": ["READ", "WRITE", "CHANGE_PERMISSIONS"]}]}"#

    @Test("GET keeps the ETag; PATCH sends only network_permissions with If-Match, and a 412 is not retried")
    func getAndPatch() throws {
        let transport = ScriptedTransport { request, _ in
            switch request.method {
            case .get: return HTTPResponse(status: 200, body: Array(Self.share.utf8), etag: "\"7-3\"")
            default: return qumuloError(412, "http_precondition_failed_error", "changed")
            }
        }
        let client = makeClient(transport)
        let read = try client.shareRestrictions(id: "7")
        #expect(read.etag == "\"7-3\"")
        #expect(read.networkPermissions == [NetworkPermission(type: .allowed, addressRanges: [], rights: NetworkPermission.allRights)])
        let fence = NetworkPermission(type: .denied, addressRanges: ["203.0.113.7"], rights: NetworkPermission.allRights)
        #expect(throws: QumuloError.self) {
            try client.setNetworkPermissions(shareID: "7", [fence] + read.networkPermissions, ifMatch: read.etag)
        }
        do {
            _ = try client.setNetworkPermissions(shareID: "7", [fence], ifMatch: read.etag)
        } catch {
            #expect(error.status == 412)
        }
        let patches = transport.requests.filter { $0.method == .patch }
        #expect(patches.count == 2, "never retried")
        #expect(patches[0].path == "/v3/smb/shares/7")
        #expect(patches[0].ifMatch == "\"7-3\"")
        let body = try JSONSerialization.jsonObject(with: Data(patches[0].body)) as? [String: Any]
        #expect(body?.keys.sorted() == ["network_permissions"])
        #expect(transport.requests[0].ifMatch == nil)
    }

    @Test("session close in batches of at most 100; per-item error messages come back by location")
    func closeSessions() throws {
        var batchSizes: [Int] = []
        let transport = ScriptedTransport { request, _ in
            let items = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [[String: Any]]
            batchSizes.append(items?.count ?? -1)
            let answers = (items ?? []).map { item in
                (item["location"] as? String) == "s-150" ? #"{"error_message": "no such session"}"# : #"{"error_message": ""}"#
            }
            return json("[" + answers.joined(separator: ",") + "]")
        }
        let sessions = (0..<205).map {
            SMBSession(location: "s-\($0)", originator: "203.0.113.7", user: Identity(authId: "500"), timeIdle: QumuloDuration(nanoseconds: 0))
        }
        let failed = try makeClient(transport).closeSessions(sessions)
        #expect(batchSizes == [100, 100, 5])
        #expect(failed.map(\.location) == ["s-150"])
        #expect(failed.first?.reason == "no such session")
        #expect(transport.paths == Array(repeating: "/v1/smb/sessions/close", count: 3))
    }

    @Test("a listed session is sent back whole: every member, unknown ones and 64-bit strings included")
    func closeSendsWholeObject() throws {
        let listed = #"""
            {"location": "b-1", "tenant_id": 1, "originator": "203.0.113.7", "server_address": "198.51.100.250",
             "user": {"domain": "LOCAL", "auth_id": "500", "uid": null, "gid": null, "sid": "S-1-5-21-1", "name": "svc"},
             "num_opens": 3, "time_open": {"nanoseconds": "18446744073709551000"}, "time_idle": {"nanoseconds": "30000000000"},
             "is_guest": false, "is_encrypted": true, "share_names": ["vms"], "future_field": {"x": [1.5, "y"]}}
            """#
        let session = try JSONDecoder().decode(SMBSession.self, from: Data(listed.utf8))
        var sent: [[String: Any]] = []
        let transport = ScriptedTransport { request, _ in
            sent = (try? JSONSerialization.jsonObject(with: Data(request.body)) as? [[String: Any]]) ?? []
            return json(#"[{"error_message": ""}]"#)
        }
        #expect(try makeClient(transport).closeSessions([session]).isEmpty)
        let original = try #require(try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [String: Any])
        let item = try #require(sent.first)
        #expect(Set(item.keys) == Set(original.keys), "\(item.keys.sorted())")
        func canonical(_ object: Any) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        #expect(try canonical(item) == canonical(original))
    }
}
