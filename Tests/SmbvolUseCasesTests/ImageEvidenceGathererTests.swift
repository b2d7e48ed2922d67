import HandleEvidence
import SmbvolShares
import LockHygiene
import Logging
import QumuloClient
import SmbvolSystem
import SmbvolTestSupport
import Testing

/// A cluster scripted per path: one image /vms/a.qcow2 (id 7, file number 42).
struct ScriptedImageCluster {
    var handles = #"{"file_handles": [{"file_number": "42", "handle_info": {"location": "1.2.3", "owner": "500", "access_mask": ["MS_ACCESS_FILE_READ_DATA"], "num_byte_range_locks": 1, "version": 1}}], "paging": {"next": null}}"#
    var shareModeGrants = #"{"grants": [{"file_id": "7", "stream_id": "0", "snapshot_id": "0", "mode": ["API_SHARE_MODE_READ"], "owner_id": "1", "owner_address": "10.0.0.9", "node_address": "10.1.1.1"}], "paging": {"next": ""}}"#
    var byteRangeStatus = 200
    var attributesStatus = 200

    func respond(_ request: HTTPRequest) -> HTTPResponse {
        let path = request.path
        if path.hasPrefix("/v1/files/%2Fvms%2Fa.qcow2/info/attributes") {
            guard attributesStatus == 200 else {
                return json(#"{"module": "qfsd", "error_class": "fs_no_such_entry_error", "description": "no such file"}"#, status: attributesStatus)
            }
            return json(#"{"path": "/vms/a.qcow2", "name": "a.qcow2", "type": "FS_FILE_TYPE_FILE", "id": "7", "file_number": "42"}"#)
        }
        if path.hasPrefix("/v1/smb/files/") { return json(handles) }
        if path.hasPrefix("/v1/files/7/locks/smb/share-mode/") { return json(shareModeGrants) }
        if path.hasPrefix("/v1/files/7/locks/smb/byte-range/") {
            guard byteRangeStatus == 200 else {
                return json(#"{"module": "qfsd", "error_class": "privilege_error", "description": "missing PRIVILEGE_FS_LOCK_READ"}"#, status: byteRangeStatus)
            }
            return json(#"{"grants": [], "paging": {"next": ""}}"#)
        }
        if path.hasPrefix("/v1/smb/sessions/") {
            return json(
                #"{"session_infos": [{"location": "s1", "originator": "10.0.0.9", "user": {"domain": "LOCAL", "auth_id": "500", "uid": null, "gid": null, "sid": null, "name": "bob"}, "num_opens": 1, "time_open": {"nanoseconds": "1"}, "time_idle": {"nanoseconds": "5000000000"}, "share_names": ["vms"]}], "paging": {"next": null}}"#
            )
        }
        if path == "/v1/identity/find" {
            return json(#"{"domain": "LOCAL", "auth_id": "500", "uid": null, "gid": null, "sid": null, "name": "bob"}"#)
        }
        return json(#"{"description": "unexpected"}"#, status: 500)
    }
}

@Suite("The evidence gatherer: per-image requests, never cluster-wide; the server's filters are checked")
struct ImageEvidenceGathererTests {
    func gatherer(_ cluster: ScriptedImageCluster, otherDomains: [String] = []) -> (ImageEvidenceGatherer, ScriptedTransport) {
        let transport = ScriptedTransport { request throws(TransportFailure) in cluster.respond(request) }
        let client = QumuloClient(
            transport: transport, login: ClusterLogin(accessToken: Secret("session-v1:test")), retryPolicy: .never, logger: Logger(label: "test"))
        let gatherer = ImageEvidenceGatherer(
            client: client, localAddresses: ["10.0.0.1"], protectedClients: ["10.0.0.250"], localOpeners: { .success([]) }
        ) { identity in
            #expect(identity.fileNumber == "42")
            return otherDomains
        }
        return (gatherer, transport)
    }

    @Test("attributes → handles by file_number → grants on the file id → sessions of each owner → one name lookup")
    func requestSequence() throws {
        let (gatherer, transport) = gatherer(ScriptedImageCluster(), otherDomains: ["web02"])
        let gathered = try gatherer.gather(clusterPath: "/vms/a.qcow2")
        #expect(gathered.fileNumber == "42")
        #expect(transport.requestLines.map { String($0.prefix(while: { $0 != "?" })) } == [
            "GET /v1/files/%2Fvms%2Fa.qcow2/info/attributes",
            "GET /v1/smb/files/",
            "GET /v1/files/7/locks/smb/share-mode/",
            "GET /v1/files/7/locks/smb/byte-range/",
            "GET /v1/smb/sessions/",
            "POST /v1/identity/find",
        ])
        #expect(transport.requestLines[1].contains("file_number=42"))
        #expect(transport.requestLines[4].contains("identity=auth_id%3A500") || transport.requestLines[4].contains("identity=auth_id:500"))
        let evidence = gathered.evidence
        #expect(evidence.handles.map(\.location) == ["1.2.3"])
        #expect(evidence.handles.first?.ownerName == "bob")
        #expect(evidence.grantAddresses == ["10.0.0.9"])
        #expect(evidence.sessions.map(\.originator) == ["10.0.0.9"])
        #expect(evidence.sessions.first?.idleSeconds == 5)
        #expect(evidence.otherLocalDomains == ["web02"])
        #expect(evidence.protectedClients == ["10.0.0.250"])
        #expect(evidence.incompleteListings.isEmpty)
    }

    @Test("no handle on the file: two requests, nothing else is asked")
    func noHandles() throws {
        var cluster = ScriptedImageCluster()
        cluster.handles = #"{"file_handles": [], "paging": {"next": null}}"#
        let (gatherer, transport) = gatherer(cluster)
        let gathered = try gatherer.gather(clusterPath: "/vms/a.qcow2")
        #expect(gathered.evidence.handles.isEmpty)
        #expect(transport.requestCount == 2)
    }

    @Test("no such file: one request, no file number, no evidence")
    func noSuchFile() throws {
        var cluster = ScriptedImageCluster()
        cluster.attributesStatus = 404
        let (gatherer, transport) = gatherer(cluster)
        let gathered = try gatherer.gather(clusterPath: "/vms/a.qcow2")
        #expect(gathered.fileNumber == nil)
        #expect(gathered.evidence.handles.isEmpty)
        #expect(transport.requestCount == 1)
    }

    @Test("a handle of another file and a grant on another file id are dropped, and the listings count as incomplete")
    func foreignRecordsDropped() throws {
        var cluster = ScriptedImageCluster()
        cluster.handles = #"{"file_handles": [{"file_number": "42", "handle_info": {"location": "1.2.3", "owner": "500", "access_mask": [], "num_byte_range_locks": 0, "version": 1}}, {"file_number": "99", "handle_info": {"location": "9.9.9", "owner": "501", "access_mask": [], "num_byte_range_locks": 0, "version": 1}}], "paging": {"next": null}}"#
        cluster.shareModeGrants = #"{"grants": [{"file_id": "8", "stream_id": "0", "snapshot_id": "0", "mode": [], "owner_id": "1", "owner_address": "10.0.0.66", "node_address": "10.1.1.1"}], "paging": {"next": ""}}"#
        let (gatherer, _) = gatherer(cluster)
        let evidence = try gatherer.gather(clusterPath: "/vms/a.qcow2").evidence
        #expect(evidence.handles.map(\.location) == ["1.2.3"])
        #expect(!evidence.grantAddresses.contains("10.0.0.66"))
        #expect(evidence.incompleteListings.contains("handles"))
        #expect(evidence.incompleteListings.contains("share-mode grants"))
    }

    @Test("a refused grant listing is an error for the caller (missing evidence never closes anything)")
    func refusedGrants() throws {
        var cluster = ScriptedImageCluster()
        cluster.byteRangeStatus = 403
        let (gatherer, _) = gatherer(cluster)
        #expect(throws: QumuloError.self) { try gatherer.gather(clusterPath: "/vms/a.qcow2") }
    }
}
