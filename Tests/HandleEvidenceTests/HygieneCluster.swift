import Foundation
import QumuloClient
import SmbvolSystem
import SmbvolTestSupport
import Synchronization

/// One image on a scripted cluster: `/vms/web01.qcow2` (file id 7, file number 42) with
/// `handles` open on it, all of owner bob (auth_id 500), whose grants name `holder` as the
/// client. The answers follow the cluster's API as smbvol reads it; closes are recorded and
/// change what the re-list shows.
final class HygieneCluster: Sendable {
    struct State {
        var handles: [String]
        /// The holder's session idle this many seconds; nil: no session at all.
        var sessionIdleSeconds: Double?
        /// Close answers: an error message per location (a per-item failure).
        var closeErrors: [String: String] = [:]
        /// Locations a close answers as done but the re-list still shows.
        var stillListedAfterClose: Set<String> = []
        /// Every close request's locations, batch by batch.
        var closeBatches: [[String]] = []
    }

    let holder: String
    let state: Mutex<State>

    init(handles: [String], holder: String = "10.0.0.9", sessionIdleSeconds: Double? = nil) {
        self.holder = holder
        state = Mutex(State(handles: handles, sessionIdleSeconds: sessionIdleSeconds))
    }

    var closeBatches: [[String]] { state.withLock { $0.closeBatches } }

    func update(_ change: (inout State) -> Void) { state.withLock { change(&$0) } }

    func respond(_ request: HTTPRequest) -> HTTPResponse {
        let path = request.path
        if path.hasPrefix("/v1/files/%2Fvms%2Fweb01.qcow2/info/attributes") {
            return json(#"{"path": "/vms/web01.qcow2", "name": "web01.qcow2", "type": "FS_FILE_TYPE_FILE", "id": "7", "file_number": "42"}"#)
        }
        if path.hasPrefix("/v1/smb/files/close") { return close(request) }
        if path.hasPrefix("/v1/smb/files/") {
            let listed = state.withLock { $0.handles }
            let entries = listed.map {
                #"{"file_number": "42", "handle_info": {"location": "\#($0)", "owner": "500", "access_mask": ["MS_ACCESS_FILE_READ_DATA", "MS_ACCESS_FILE_WRITE_DATA"], "num_byte_range_locks": 0, "version": 1}}"#
            }
            return json(#"{"file_handles": [\#(entries.joined(separator: ", "))], "paging": {"next": null}}"#)
        }
        if path.hasPrefix("/v1/files/7/locks/smb/share-mode/") {
            let any = state.withLock { !$0.handles.isEmpty }
            let grant = #"{"file_id": "7", "stream_id": "0", "snapshot_id": "0", "mode": ["API_SHARE_MODE_READ"], "owner_id": "1", "owner_address": "\#(holder)", "node_address": "10.1.1.1"}"#
            return json(#"{"grants": [\#(any ? grant : "")], "paging": {"next": ""}}"#)
        }
        if path.hasPrefix("/v1/files/7/locks/smb/byte-range/") { return json(#"{"grants": [], "paging": {"next": ""}}"#) }
        if path.hasPrefix("/v1/smb/sessions/") {
            guard let idle = state.withLock({ $0.sessionIdleSeconds }) else {
                return json(#"{"session_infos": [], "paging": {"next": null}}"#)
            }
            let nanoseconds = String(Int64(idle * 1e9))
            return json(
                #"{"session_infos": [{"location": "s1", "originator": "\#(holder)", "user": {"domain": "LOCAL", "auth_id": "500", "uid": null, "gid": null, "sid": null, "name": "bob"}, "num_opens": 1, "time_open": {"nanoseconds": "1"}, "time_idle": {"nanoseconds": "\#(nanoseconds)"}, "share_names": ["vms"]}], "paging": {"next": null}}"#
            )
        }
        if path == "/v1/identity/find" {
            return json(#"{"domain": "LOCAL", "auth_id": "500", "uid": null, "gid": null, "sid": null, "name": "bob"}"#)
        }
        if path.hasPrefix("/v3/smb/shares/") { return json(#"{"entries": [], "paging": {"next": null}}"#) }
        return qumuloError(500, "unexpected", "no script for \(request.method.rawValue) \(path)")
    }

    private func close(_ request: HTTPRequest) -> HTTPResponse {
        struct Entry: Decodable {
            struct Info: Decodable { var location: String }
            var handle_info: Info
        }
        let locations = ((try? JSONDecoder().decode([Entry].self, from: Data(request.body))) ?? []).map(\.handle_info.location)
        let answers = state.withLock { state -> [String] in
            state.closeBatches.append(locations)
            return locations.map { location in
                if let message = state.closeErrors[location] {
                    return #"{"error_message": "\#(message)"}"#
                }
                if !state.stillListedAfterClose.contains(location) { state.handles.removeAll { $0 == location } }
                return #"{"error_message": null}"#
            }
        }
        return json("[" + answers.joined(separator: ", ") + "]")
    }
}

/// The kernel's view for these tests: the image has an identity, and `openers` hold it open.
struct FixedOpenFiles: LocalOpenFileFinding {
    static let image = FileIdentity(deviceMajor: 0, deviceMinor: 99, inode: 4242)
    var openers: [LocalFileOpener] = []

    func identity(ofFileAt path: String) throws -> FileIdentity? { Self.image }

    func openers(of files: Set<FileIdentity>) throws -> LocalOpenersReport {
        LocalOpenersReport(openers: openers.isEmpty ? [:] : [Self.image: openers])
    }
}
