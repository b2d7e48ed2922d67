import QumuloClient
import SmbvolTestSupport
import Testing

@Suite("Cluster-wide listing: owners named from the sessions listing, identity lookups as the fallback")
struct SessionNamingTests {
    /// Owners 2000…2000+owners-1, one handle each, on one handle page (path /vms/f<owner>).
    private func handlePage(owners: Int) -> HTTPResponse {
        let entries = (0..<owners).map { index in
            let owner = 2000 + index
            return #"{"file_number": "\#(owner)", "handle_info": {"location": "1.1.\#(index)", "owner": "\#(owner)", "access_mask": [], "num_byte_range_locks": 0, "version": 2, "path": "/vms/f\#(owner)"}}"#
        }
        return json(#"{"file_handles": [\#(entries.joined(separator: ", "))], "paging": {"next": null}}"#)
    }

    private func session(_ authId: Int, name: String?) -> String {
        let named = name.map { "\"\($0)\"" } ?? "null"
        return #"{"location": "s\#(authId)", "tenant_id": 1, "originator": "10.0.0.\#(authId % 250)", "server_address": "10.1.1.1", "user": {"domain": "ACTIVE_DIRECTORY", "auth_id": "\#(authId)", "uid": null, "gid": null, "sid": null, "name": \#(named)}, "num_opens": 1, "time_open": {"nanoseconds": "1"}, "time_idle": {"nanoseconds": "1"}, "is_guest": false, "is_encrypted": false, "share_names": ["vms"]}"#
    }

    /// `owners` owners; the sessions name every owner except those in `unnamed` (null name) and
    /// those in `absent` (no session); `sessions` overrides the sessions answer.
    private func cluster(
        owners: Int, unnamed: Set<Int> = [], absent: Set<Int> = [], sessions: HTTPResponse? = nil
    ) -> ScriptedTransport {
        ScriptedTransport { request, _ in
            if request.path.hasPrefix("/v1/smb/files/") { return self.handlePage(owners: owners) }
            if request.path.hasPrefix("/v1/files/locks/smb/share-mode/") {
                return json(#"{"grants": [], "paging": {"next": "/v1/files/locks/smb/share-mode/?after=Z"}}"#)
            }
            if request.path == "/v1/smb/sessions/?limit=1000" {
                if let sessions { return sessions }
                // Two pages: the first names the lower half of the owners, the second the rest.
                let all = (0..<owners).filter { !absent.contains($0) }
                let first = all.prefix(all.count / 2).map { self.session(2000 + $0, name: unnamed.contains($0) ? nil : "user-\(2000 + $0)") }
                return json(#"{"session_infos": [\#(first.joined(separator: ", "))], "paging": {"next": "/v1/smb/sessions/?after=S&limit=1000"}}"#)
            }
            if request.path == "/v1/smb/sessions/?after=S&limit=1000" {
                let all = (0..<owners).filter { !absent.contains($0) }
                let second = all.dropFirst(all.count / 2).map { self.session(2000 + $0, name: unnamed.contains($0) ? nil : "user-\(2000 + $0)") }
                return json(#"{"session_infos": [\#(second.joined(separator: ", "))], "paging": {"next": null}}"#)
            }
            if request.path == "/v1/identity/find" {
                let body = String(decoding: request.body, as: UTF8.self)
                guard let authId = body.split(separator: "\"").dropFirst(3).first else {
                    return qumuloError(400, "invalid_request_error", "bad body")
                }
                return json(#"{"domain": "ACTIVE_DIRECTORY", "auth_id": "\#(authId)", "uid": null, "gid": null, "sid": null, "name": "user-\#(authId)"}"#)
            }
            return qumuloError(404, "http_not_found_error", "no such path \(request.path)")
        }
    }

    private func list(_ transport: ScriptedTransport, options: HandleListingOptions = HandleListingOptions())
        throws -> ([ListedHandle], HandleListingSummary)
    {
        var listed: [ListedHandle] = []
        let summary = try makeClient(transport).listHandles(options) { listed.append($0) }
        return (listed, summary)
    }

    private func identityLookups(_ transport: ScriptedTransport) -> Int {
        transport.paths.filter { $0 == "/v1/identity/find" }.count
    }

    @Test("many owners: two sessions pages name them all, no identity lookup, names as identity/find gives them")
    func sessionsNameEveryOwner() throws {
        let transport = cluster(owners: 40)
        let (listed, summary) = try list(transport)
        #expect(listed.map(\.ownerName) == (0..<40).map { "user-\(2000 + $0)" })
        #expect(listed.map(\.location) == (0..<40).map { "1.1.\($0)" })
        #expect(summary.missing.isEmpty)
        #expect(identityLookups(transport) == 0)
        #expect(transport.paths.filter { $0.hasPrefix("/v1/smb/sessions/") }.count == 2)
    }

    @Test("owners without a session, or whose session has no name, are looked up one by one")
    func unnamedOwnersFallBack() throws {
        let transport = cluster(owners: 40, unnamed: [3, 30], absent: [7])
        let (listed, _) = try list(transport)
        #expect(listed.map(\.ownerName) == (0..<40).map { "user-\(2000 + $0)" })
        let looked = transport.requests.filter { $0.path == "/v1/identity/find" }.map { String(decoding: $0.body, as: UTF8.self) }
        #expect(looked.count == 3)
        #expect(looked.allSatisfy { $0.contains("2003") || $0.contains("2030") || $0.contains("2007") })
    }

    @Test("sessions refused (403, the lock manager's role): every owner named by identity lookups, nothing missing")
    func sessionsForbiddenFallsBack() throws {
        let forbidden = qumuloError(403, "http_forbidden_error", "missing privilege PRIVILEGE_SMB_SESSION_READ")
        let transport = cluster(owners: 40, sessions: forbidden)
        let (listed, summary) = try list(transport)
        #expect(listed.map(\.ownerName) == (0..<40).map { "user-\(2000 + $0)" })
        #expect(summary.missing.isEmpty)
        #expect(identityLookups(transport) == 40)
        #expect(transport.paths.filter { $0.hasPrefix("/v1/smb/sessions/") }.count == 1)
    }

    @Test("sessions listing absent (404) or malformed: identity lookups for every owner")
    func sessionsMissingOrMalformed() throws {
        for answer in [qumuloError(404, "http_not_found_error", "no route"), json(#"{"session_infos": [tru"#)] {
            let transport = cluster(owners: 20, sessions: answer)
            let (listed, summary) = try list(transport)
            #expect(listed.map(\.ownerName) == (0..<20).map { "user-\(2000 + $0)" })
            #expect(summary.missing.isEmpty)
            #expect(identityLookups(transport) == 20)
        }
    }

    @Test("few owners: identity lookups only, the sessions are not read")
    func fewOwnersLookUp() throws {
        let transport = cluster(owners: 5)
        let (listed, _) = try list(transport)
        #expect(listed.map(\.ownerName) == (0..<5).map { "user-\(2000 + $0)" })
        #expect(identityLookups(transport) == 5)
        #expect(!transport.paths.contains { $0.hasPrefix("/v1/smb/sessions/") })
    }

    @Test("sessions naming off: identity lookups only")
    func optionOff() throws {
        let transport = cluster(owners: 40)
        let (listed, _) = try list(transport, options: HandleListingOptions(ownerNamesFromSessions: false))
        #expect(listed.count == 40)
        #expect(identityLookups(transport) == 40)
        #expect(!transport.paths.contains { $0.hasPrefix("/v1/smb/sessions/") })
    }

    @Test("the same cluster gives the same output on every run")
    func deterministic() throws {
        let first = try list(cluster(owners: 40, unnamed: [3], absent: [7])).0
        let second = try list(cluster(owners: 40, unnamed: [3], absent: [7])).0
        #expect(first == second)
    }
}
