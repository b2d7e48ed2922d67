import FoundationEssentials
import QumuloClient
import SmbvolTestSupport
import Testing

@Suite("Closing handles and identity lookups")
struct CloseAndIdentityTests {
    private func listing(_ locations: [String]) -> HTTPResponse {
        let entries = locations.map { #"{"file_number": "42", "handle_info": {"location": "\#($0)", "owner": "1001", "num_byte_range_locks": "0"}}"# }
        return json(#"{"file_handles": [\#(entries.joined(separator: ","))], "paging": {"next": null}}"#)
    }

    @Test("a per-item error_message counts as not closed; success is confirmed by listing again")
    func perItemError() throws {
        let transport = ScriptedTransport { request, _ in
            if request.path == "/v1/smb/files/close" {
                return json(#"[{"error_message": ""}, {"error_message": "handle busy\nretry"}, {"error_message": ""}]"#)
            }
            // 4.4.4 claimed closed but still listed
            return self.listing(["4.4.2", "4.4.3"])
        }
        let report = try makeClient(transport).closeHandles(locations: ["4.4.1", "4.4.2", "4.4.3"], fileNumbers: ["42"])
        #expect(report.closed == ["4.4.1"])
        #expect(report.failed.map(\.location) == ["4.4.2", "4.4.3"])
        #expect(report.failed[0].reason == "handle busy retry")
        #expect(report.failed[1].reason.contains("still listed"))
        #expect(transport.paths == ["/v1/smb/files/close", "/v1/smb/files/?file_number=42&resolve_paths=false&limit=1000"])
        #expect(String(decoding: transport.requests[0].body, as: UTF8.self)
            == #"[{"handle_info":{"location":"4.4.1"}},{"handle_info":{"location":"4.4.2"}},{"handle_info":{"location":"4.4.3"}}]"#)
    }

    @Test("closes in batches of at most 100")
    func batches() throws {
        var batchSizes: [Int] = []
        let transport = ScriptedTransport { request, _ in
            if request.path == "/v1/smb/files/close" {
                let count = String(decoding: request.body, as: UTF8.self).components(separatedBy: "handle_info").count - 1
                batchSizes.append(count)
                return json("[" + Array(repeating: #"{"error_message": ""}"#, count: count).joined(separator: ",") + "]")
            }
            return self.listing([])
        }
        let locations = (1...250).map { "9.9.\($0)" }
        let report = try makeClient(transport).closeHandles(locations: locations, fileNumbers: ["42"])
        #expect(batchSizes == [100, 100, 50])
        #expect(report.closed.count == 250)
        #expect(report.allClosed)
    }

    @Test("without file numbers the confirmation lists cluster-wide")
    func clusterWideConfirmation() throws {
        let transport = ScriptedTransport { request, _ in
            request.path == "/v1/smb/files/close" ? json(#"[{"error_message": ""}]"#) : self.listing(["other"])
        }
        let report = try makeClient(transport).closeHandles(locations: ["4.4.1"])
        #expect(report.closed == ["4.4.1"])
        #expect(transport.paths.last == "/v1/smb/files/?resolve_paths=false&limit=1000")
    }

    @Test("one identity lookup per distinct owner, never per handle")
    func identityCache() throws {
        let transport = ScriptedTransport { request, _ in
            let body = String(decoding: request.body, as: UTF8.self)
            let id = body.contains("1001") ? "1001" : "1002"
            return json(#"{"domain": "ACTIVE_DIRECTORY", "auth_id": "\#(id)", "uid": null, "gid": null, "sid": "S-\#(id)", "name": "user\#(id)"}"#)
        }
        let client = makeClient(transport)
        let names = ["1001", "1002", "1001", "1001", "1002"].map { client.ownerName(authId: $0) }
        #expect(names == ["user1001", "user1002", "user1001", "user1001", "user1002"])
        #expect(transport.requestCount == 2)
        #expect(transport.paths == ["/v1/identity/find", "/v1/identity/find"])
    }

    @Test("a failing identity lookup degrades to the auth_id, once per owner")
    func identityFailure() {
        let transport = ScriptedTransport { _, _ in qumuloError(403, "http_forbidden_error", "no IDENTITY_READ") }
        let client = makeClient(transport)
        #expect(client.ownerName(authId: "7") == "auth_id:7")
        #expect(client.ownerName(authId: "7") == "auth_id:7")
        #expect(transport.requestCount == 1)
    }
}
