import QumuloClient
import SmbvolTestSupport
import Testing

@Suite("Paging: every page, short pages for grants, loop guard")
struct PagingTests {
    private func handlePage(_ locations: [String], next: String?) -> HTTPResponse {
        let entries = locations.map {
            #"{"file_number": "42", "handle_info": {"location": "\#($0)", "owner": "1001", "access_mask": ["MS_ACCESS_FILE_READ_DATA"], "num_byte_range_locks": 0, "version": 2}}"#
        }
        let nextText = next.map { "\"\($0)\"" } ?? "null"
        return json(#"{"file_handles": [\#(entries.joined(separator: ","))], "paging": {"next": \#(nextText)}}"#)
    }

    @Test("follows next verbatim across several pages until null")
    func severalPages() throws {
        let transport = ScriptedTransport { request, _ in
            switch request.path {
            case "/v1/smb/files/?file_number=42&resolve_paths=false&limit=1000":
                return self.handlePage(["1.1.1", "1.1.2"], next: "/v1/smb/files/?after=AAA&limit=2&file_number=42")
            case "/v1/smb/files/?after=AAA&limit=2&file_number=42":
                return self.handlePage(["1.1.3", "1.1.4"], next: "/v1/smb/files/?after=BBB&limit=2&file_number=42")
            case "/v1/smb/files/?after=BBB&limit=2&file_number=42":
                return self.handlePage(["1.1.5"], next: "")
            default:
                return qumuloError(404, "http_not_found_error", "no such path")
            }
        }
        let (handles, completeness) = try makeClient(transport).handles(onFileNumber: "42")
        #expect(handles.map(\.location) == ["1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5"])
        #expect(completeness == .complete)
        #expect(transport.requestCount == 3)
    }

    @Test("a looping next stops the listing and says it is incomplete")
    func loopingNext() throws {
        let transport = ScriptedTransport { request, _ in
            self.handlePage(["1.1.\(request.path.count)"], next: "/v1/smb/files/?after=SAME&limit=1")
        }
        let (handles, completeness) = try makeClient(transport).handles(onFileNumber: "42")
        #expect(transport.requestCount == 2)
        #expect(handles.count == 2)
        #expect(completeness == .stoppedOnRepeatedNext("/v1/smb/files/?after=SAME&limit=1"))
    }

    @Test("grant listings stop on a page shorter than the limit, although next is never null")
    func grantsShortPage() throws {
        let grant = #"{"file_id": "42", "stream_id": "0", "snapshot_id": "0", "mode": ["API_SHARE_MODE_READ"], "owner_id": "9", "owner_address": "10.0.0.5", "node_address": "10.1.1.1"}"#
        let transport = ScriptedTransport { request, count in
            if count == 1 {
                return json(#"{"grants": [\#(grant), \#(grant)], "paging": {"next": "/v1/files/42/locks/smb/share-mode/?after=X&limit=2"}}"#)
            }
            return json(#"{"grants": [\#(grant)], "paging": {"next": "/v1/files/42/locks/smb/share-mode/?after=Y&limit=2"}}"#)
        }
        let (grants, completeness) = try makeClient(transport).lockGrants(.shareMode, onFile: "42", limit: 2)
        #expect(grants.count == 3)
        #expect(completeness == .complete)
        #expect(transport.paths == ["/v1/files/42/locks/smb/share-mode/?limit=2", "/v1/files/42/locks/smb/share-mode/?after=X&limit=2"])
    }

    @Test("a server that chose a smaller limit than asked: short is measured against the limit in next")
    func grantsServerChosenLimit() throws {
        let grant = #"{"file_id": "42", "mode": [], "owner_address": "10.0.0.5"}"#
        let transport = ScriptedTransport { _, count in
            let size = count == 1 ? 2 : 1
            let grants = Array(repeating: grant, count: size).joined(separator: ",")
            return json(#"{"grants": [\#(grants)], "paging": {"next": "/v1/files/42/locks/smb/share-mode/?after=P\#(count)&limit=2"}}"#)
        }
        // Asked for 1000, the server pages by 2: the first page of 2 is full, the second (1) is short.
        let (grants, _) = try makeClient(transport).lockGrants(.shareMode, onFile: "42")
        #expect(grants.count == 3)
        #expect(transport.requestCount == 2)
    }

    @Test("grant listing on a path encodes it as one segment")
    func grantsOnPath() throws {
        let transport = ScriptedTransport { _, _ in json(#"{"grants": [], "paging": {"next": "/x"}}"#) }
        _ = try makeClient(transport).lockGrants(.byteRange, onFile: "/vms/a b.qcow2")
        #expect(transport.paths == ["/v1/files/%2Fvms%2Fa%20b.qcow2/locks/smb/byte-range/?limit=1000"])
    }

    @Test("a next that is not a server-root path is an error, not a request elsewhere")
    func foreignNext() {
        let transport = ScriptedTransport { _, _ in self.handlePage(["1"], next: "https://evil.example/steal") }
        #expect(throws: QumuloError.self) { try makeClient(transport).handles(onFileNumber: "42") }
        #expect(transport.requestCount == 1)
    }

    @Test("sessions by identity carry the filter")
    func sessionsByIdentity() throws {
        let transport = ScriptedTransport { _, _ in
            json(#"{"session_infos": [{"location": "7", "originator": "10.0.0.5", "user": {"domain": "ACTIVE_DIRECTORY", "auth_id": "1001", "uid": null, "gid": null, "sid": "S-1", "name": "svc"}, "num_opens": 2, "time_open": {"nanoseconds": "100"}, "time_idle": {"nanoseconds": "5000000000"}, "is_guest": false, "share_names": ["vms"]}], "paging": {"next": null}}"#)
        }
        let (sessions, _) = try makeClient(transport).sessions(identity: "auth_id:1001")
        #expect(transport.paths == ["/v1/smb/sessions/?identity=auth_id%3A1001&limit=1000"])
        #expect(sessions.first?.timeIdle.seconds == 5)
        #expect(sessions.first?.user.authId == "1001")
    }
}
