import QumuloClient
import SmbvolTestSupport
import Testing

@Suite("Cluster-wide listing: grants cluster-wide, names once per owner, order kept, enrichments optional")
struct ClusterListingTests {
    private func handle(_ location: String, file: String, owner: String) -> String {
        #"{"file_number": "\#(file)", "handle_info": {"location": "\#(location)", "owner": "\#(owner)", "access_mask": [], "num_byte_range_locks": 1, "version": 2, "path": "/vms/f\#(file).qcow2"}}"#
    }

    private func grant(file: String, address: String) -> String {
        #"{"file_id": "\#(file)", "stream_id": "0", "snapshot_id": null, "mode": ["API_SHARE_MODE_READ"], "owner_id": "9", "owner_address": "\#(address)", "node_address": "10.1.1.1"}"#
    }

    /// Two handle pages, two grant pages (the second short), identities for 1001 and 1002.
    private func cluster(grants: HTTPResponse? = nil, identity: HTTPResponse? = nil) -> ScriptedTransport {
        ScriptedTransport { request, _ in
            switch request.path {
            case "/v1/smb/files/?resolve_paths=true&limit=1000":
                return json(#"{"file_handles": [\#(self.handle("1.1.1", file: "7", owner: "1001")), \#(self.handle("1.1.2", file: "8", owner: "1002"))], "paging": {"next": "/v1/smb/files/?after=A&limit=2&resolve_paths=true"}}"#)
            case "/v1/smb/files/?after=A&limit=2&resolve_paths=true":
                return json(#"{"file_handles": [\#(self.handle("1.1.3", file: "7", owner: "1003"))], "paging": {"next": null}}"#)
            case "/v1/files/locks/smb/share-mode/?limit=1000":
                if let grants { return grants }
                return json(#"{"grants": [\#(self.grant(file: "7", address: "10.0.0.6")), \#(self.grant(file: "7", address: "10.0.0.5"))], "paging": {"next": "/v1/files/locks/smb/share-mode/?after=G&limit=2"}}"#)
            case "/v1/files/locks/smb/share-mode/?after=G&limit=2":
                return json(#"{"grants": [\#(self.grant(file: "7", address: "10.0.0.5"))], "paging": {"next": "/v1/files/locks/smb/share-mode/?after=H&limit=2"}}"#)
            case "/v1/identity/find":
                if let identity { return identity }
                let body = String(decoding: request.body, as: UTF8.self)
                if body.contains("1001") { return json(#"{"auth_id": "1001", "name": "svc-kvm"}"#) }
                if body.contains("1002") { return json(#"{"auth_id": "1002", "name": "svc-other"}"#) }
                return qumuloError(404, "identity_not_found_error", "no identity")
            default:
                return qumuloError(404, "http_not_found_error", "no such path \(request.path)")
            }
        }
    }

    private func list(_ transport: ScriptedTransport, options: HandleListingOptions = HandleListingOptions())
        throws -> ([ListedHandle], HandleListingSummary)
    {
        var listed: [ListedHandle] = []
        let summary = try makeClient(transport).listHandles(options) { listed.append($0) }
        return (listed, summary)
    }

    @Test("every handle in the cluster's order, addresses per file (sorted, once each), owner names")
    func fullListing() throws {
        let transport = cluster()
        let (listed, summary) = try list(transport)
        #expect(listed.map(\.location) == ["1.1.1", "1.1.2", "1.1.3"])
        #expect(listed.map(\.clientAddresses) == [["10.0.0.5", "10.0.0.6"], [], ["10.0.0.5", "10.0.0.6"]])
        #expect(listed.map(\.ownerName) == ["svc-kvm", "svc-other", "auth_id:1003"])
        #expect(listed[0].path == "/vms/f7.qcow2")
        #expect(summary.missing.isEmpty)
        #expect(summary.seen == 3 && summary.listed == 3)
        // Grants cluster-wide in pages (stopping on the short one), one lookup per owner.
        #expect(transport.paths.filter { $0.contains("/locks/") }.count == 2)
        #expect(transport.paths.filter { $0 == "/v1/identity/find" }.count == 3)
        #expect(!transport.paths.contains { $0.contains("owner_address") || $0.hasPrefix("/v1/smb/sessions") })
    }

    @Test("grant listing refused (403): every handle, addresses nil, the missing privilege named")
    func grantsForbidden() throws {
        let (listed, summary) = try list(
            cluster(grants: qumuloError(403, "http_forbidden_error", "missing privilege PRIVILEGE_FS_LOCK_READ")))
        #expect(listed.count == 3)
        #expect(listed.allSatisfy { $0.clientAddresses == nil })
        #expect(summary.missing.count == 1)
        #expect(summary.missing.first?.what == .clientAddresses)
        #expect(summary.missing.first?.privilege == "PRIVILEGE_FS_LOCK_READ")
        #expect(summary.missing.first?.summary.contains("HTTP 403") == true)
    }

    @Test("grant listing absent (404, older clusters): every handle, addresses nil")
    func grantsNotFound() throws {
        let (listed, summary) = try list(cluster(grants: qumuloError(404, "http_not_found_error", "no such route")))
        #expect(listed.count == 3 && listed.allSatisfy { $0.clientAddresses == nil })
        #expect(summary.missing.first?.status == 404)
    }

    @Test("identity lookups refused (403): owners shown as auth_id, one missing entry, no lookup per owner after it")
    func identitiesForbidden() throws {
        let transport = cluster(identity: qumuloError(403, "http_forbidden_error", "missing privilege PRIVILEGE_IDENTITY_READ"))
        let (listed, summary) = try list(transport)
        #expect(listed.map(\.ownerName) == ["auth_id:1001", "auth_id:1002", "auth_id:1003"])
        #expect(summary.missing.map(\.what) == [.ownerNames])
    }

    @Test("a path prefix keeps only handles below it; the handle listing failing is an error")
    func prefixAndFailure() throws {
        let (listed, _) = try list(cluster(), options: HandleListingOptions(pathPrefix: "/vms/f8"))
        #expect(listed.map(\.location) == ["1.1.2"])
        let failing = ScriptedTransport { _, _ in qumuloError(403, "http_forbidden_error", "no handle read") }
        #expect(throws: QumuloError.self) { try self.list(failing) }
    }

    @Test("a bounded read-ahead still lists everything in order")
    func smallBuffer() throws {
        let (listed, _) = try list(cluster(), options: HandleListingOptions(maximumBufferedHandles: 1))
        #expect(listed.map(\.location) == ["1.1.1", "1.1.2", "1.1.3"])
    }
}

@Suite("API prefix")
struct APIPrefixTests {
    @Test("every path is prefixed once; next links without the prefix get it, links with it are left alone")
    func urls() {
        let endpoint = ClusterEndpoint(host: "qumulo", port: 443, apiPrefix: "/api")
        #expect(endpoint.url(forPath: "/v1/version") == "https://qumulo:443/api/v1/version")
        #expect(endpoint.url(forPath: "/v1/smb/files/?after=A&limit=2") == "https://qumulo:443/api/v1/smb/files/?after=A&limit=2")
        #expect(endpoint.url(forPath: "/api/v1/smb/files/?after=A") == "https://qumulo:443/api/v1/smb/files/?after=A")
        #expect(ClusterEndpoint(host: "q").url(forPath: "/v1/version") == "https://q:8000/v1/version")
    }

    @Test("settings are normalised or refused with a reason")
    func normalisation() {
        #expect(ClusterEndpoint.normalizedAPIPrefix("/api/") == .success("/api"))
        #expect(ClusterEndpoint.normalizedAPIPrefix("") == .success(""))
        #expect(ClusterEndpoint.normalizedAPIPrefix("/") == .success(""))
        #expect((try? ClusterEndpoint.normalizedAPIPrefix("api").get()) == nil)
        #expect((try? ClusterEndpoint.normalizedAPIPrefix("/a?b").get()) == nil)
        #expect((try? ClusterEndpoint.normalizedAPIPrefix("/a//b").get()) == nil)
    }
}
