import QumuloClient
import SmbvolTestSupport
import Testing

@Suite("Cluster-wide listing pages: the scanner reads what the decoder would, and refuses malformed pages")
struct ListingScannerTests {
    private func listing(_ handlesPage: String, grantsPage: String = #"{"grants": [], "paging": {"next": null}}"#) throws -> [ListedHandle] {
        let transport = ScriptedTransport { request, _ in
            if request.path.hasPrefix("/v1/smb/files/") { return json(handlesPage) }
            if request.path.hasPrefix("/v1/files/locks/") { return json(grantsPage) }
            return json(#"{"auth_id": "1001", "name": "svc-kvm"}"#)
        }
        var listed: [ListedHandle] = []
        _ = try makeClient(transport).listHandles { listed.append($0) }
        return listed
    }

    @Test("escapes, \\u and surrogate pairs, numbers for ids, unknown fields and nesting skipped")
    func awkwardButValid() throws {
        let page = #"""
            { "extra": {"a": [1, 2.5e3, -3, true, false, null, {"b": "c\"d"}]},
              "file_handles" : [ {"file_number": 42, "handle_info": {"location": "1.\u0032.3", "owner": 1001,
                 "access_mask": ["MS_ACCESS_FILE_READ_DATA"], "num_byte_range_locks": "3", "version": 2,
                 "path": "/vms/a \"b\" \\ c\/ \u00fcn\u00efcode \ud83d\ude00.qcow2"}} ],
              "paging": {"next": null} }
            """#
        let listed = try listing(page, grantsPage: #"{"grants": [{"file_id": 42, "owner_address": "10.0.0.5", "mode": []}], "paging": {"next": "/x"}}"#)
        let handle = try #require(listed.first)
        #expect(handle.location == "1.2.3")
        #expect(handle.fileNumber == "42" && handle.owner == "1001")
        #expect(handle.numByteRangeLocks == 3)
        #expect(handle.path == "/vms/a \"b\" \\ c/ ünïcode 😀.qcow2")
        #expect(handle.clientAddresses == ["10.0.0.5"])
    }

    @Test("a malformed or truncated handle page is an error naming the request, never a partial listing")
    func malformed() {
        for page in [
            #"{"file_handles": [{"file_number": "1", "handle_info": {"location": "1.1.1", "owner": "1"}}"#,
            #"{"file_handles": [{"file_number": "1", "handle_info": {"owner": "1"}}], "paging": {"next": null}}"#,
            #"{"paging": {"next": null}}"#,
            #"{"file_handles": [], "paging": {"next": null}} trailing"#,
            #"{"file_handles": [{"file_number": "1", "handle_info": {"location": "1\u00", "owner": "1"}}]}"#,
        ] {
            #expect(throws: QumuloError.self, "\(page)") { try self.listing(page) }
        }
    }

    @Test("a malformed grant page leaves addresses unknown and says so")
    func malformedGrants() throws {
        let handles = #"{"file_handles": [{"file_number": "1", "handle_info": {"location": "1.1.1", "owner": "1001"}}], "paging": {"next": null}}"#
        let transport = ScriptedTransport { request, _ in
            if request.path.hasPrefix("/v1/smb/files/") { return json(handles) }
            if request.path.hasPrefix("/v1/files/locks/") { return json(#"{"grants": [{"file_id": "1"}], "paging": {}}"#) }
            return json(#"{"auth_id": "1001", "name": "svc-kvm"}"#)
        }
        var listed: [ListedHandle] = []
        let summary = try makeClient(transport).listHandles { listed.append($0) }
        #expect(listed.count == 1 && listed[0].clientAddresses == nil)
        #expect(summary.missing.first?.what == .clientAddresses)
    }
}
