/// `GET`/`PATCH /v3/smb/shares/{id}`: one share with its ETag, and edits guarded by `If-Match`.
///
/// The ETag is the share's revision, bumped by every edit, so an edit made from a stale read
/// fails with 412 instead of overwriting the one made meanwhile (what the official client
/// relies on). Host restrictions are enforced where the simulator models connections: a
/// session from an address a share denies every right cannot be added (see `addSessions`).
/// Sessions already open when a restriction is set stay open, as on a cluster (where that is
/// not documented either): whoever fences closes them. In the Samba backend a change of
/// `network_permissions` becomes the share's `hosts allow`/`hosts deny` in smbd (see
/// `sambaHostLists`) before it is stored.
extension SimulatorState {
    static func shareJSON(_ share: Scenario.Share) -> JSONValue {
        .object([
            ("id", .string(share.id)),
            ("share_name", .string(share.name)),
            ("tenant_id", .int(share.tenantID)),
            ("fs_path", .string(share.fsPath)),
            ("description", .string(share.description ?? "")),
            ("permissions", .array([])),
            ("network_permissions", .array((share.networkPermissions ?? [.allowEveryone]).map(\.json))),
            ("access_based_enumeration_enabled", .bool(false)),
            ("default_file_create_mode", .string("0644")),
            ("default_directory_create_mode", .string("0755")),
            ("require_encryption", .bool(false)),
            ("allow_fs_path_create", .bool(false)),
            ("expand_fs_path_variables", .bool(false)),
            ("offline_files_caching_mode", .string("MANUAL_CACHING")),
        ])
    }

    func etag(ofShare id: String) -> String {
        "\"\(id)-\(shareRevisions[id] ?? 1)\""
    }

    func shareIndex(id: String) throws(QumuloError) -> Int {
        let decoded = PercentEncoding.decode(id) ?? id
        guard let index = shares.firstIndex(where: { $0.id == decoded }) else {
            throw QumuloError(
                status: 404, module: "smb", errorClass: "smb_share_doesnt_exist_error",
                description: "SMB share \(decoded) does not exist")
        }
        return index
    }

    func share(id: String) throws(QumuloError) -> SimulatorResponse {
        let share = shares[try shareIndex(id: id)]
        var response = SimulatorResponse.json(Self.shareJSON(share))
        response.etag = etag(ofShare: share.id)
        return response
    }

    mutating func modifyShare(id: String, _ request: SimulatorRequest) throws(QumuloError) -> SimulatorResponse {
        let index = try shareIndex(id: id)
        if let range = concurrentEditFiring(path: request.rawPath) {
            shares[index].networkPermissions = (shares[index].networkPermissions ?? [.allowEveryone])
                + [NetworkPermission(type: .allowed, addressRanges: [range], rights: ["READ"])]
            shareRevisions[shares[index].id] = (shareRevisions[shares[index].id] ?? 1) + 1
        }
        let current = shares[index]
        if let wanted = request.ifMatch, wanted != etag(ofShare: current.id) {
            throw QumuloError(
                status: 412, module: "http", errorClass: "http_precondition_failed_error",
                description: "share \(current.id) changed since it was read (If-Match \(wanted), now \(etag(ofShare: current.id)))")
        }
        let body = try jsonBody(request)
        guard case .object(let fields) = body else { throw .invalidRequest("share modification expects an object") }
        var changed = current
        for (key, value) in fields {
            switch key {
            case "network_permissions":
                changed.networkPermissions = try Self.networkPermissions(from: value)
            case "description":
                guard let text = value.stringValue else { throw .invalidRequest("description must be a string") }
                changed.description = text
            case "share_name":
                guard let text = value.stringValue, !text.isEmpty else { throw .invalidRequest("share_name must be a non-empty string") }
                changed.name = text
            default:
                // Other share fields are accepted and not modelled.
                continue
            }
        }
        if let samba, changed.networkPermissions != current.networkPermissions {
            // Enforced by the real smbd before the change is stored: a PATCH that smbd did not
            // take fails (503) and leaves the share as it was.
            let lists = Self.sambaHostLists(changed.networkPermissions)
            let error = samba.restrict(share: changed.name, allow: lists.allow, deny: lists.deny)
            if !error.isEmpty { throw .sambaUnavailable("host restrictions of share \(changed.name): \(error)") }
        }
        shares[index] = changed
        shareRevisions[changed.id] = (shareRevisions[changed.id] ?? 1) + 1
        var response = SimulatorResponse.json(Self.shareJSON(changed))
        response.etag = etag(ofShare: changed.id)
        return response
    }

    /// The range of a `concurrent_share_edit` fault that fires now, or nil.
    private mutating func concurrentEditFiring(path: String) -> String? {
        for index in faults.indices
        where faults[index].fault.kind == .concurrentShareEdit && faults[index].fault.matches(path: path) {
            if faults[index].fire() { return faults[index].fault.message ?? "198.51.100.0/24" }
        }
        return nil
    }

    static func networkPermissions(from value: JSONValue) throws(QumuloError) -> [NetworkPermission] {
        guard let items = value.arrayValue else { throw .invalidRequest("network_permissions must be a list") }
        var result: [NetworkPermission] = []
        for item in items {
            guard let typeText = item["type"]?.stringValue, let type = NetworkPermission.Kind(rawValue: typeText) else {
                throw .invalidRequest("each network permission needs type ALLOWED or DENIED")
            }
            guard let ranges = item["address_ranges"]?.arrayValue, let rights = item["rights"]?.arrayValue else {
                throw .invalidRequest("each network permission needs address_ranges and rights lists")
            }
            let entry = NetworkPermission(
                type: type, addressRanges: ranges.compactMap(\.stringValue), rights: rights.compactMap(\.stringValue))
            guard entry.addressRanges.count == ranges.count, entry.rights.count == rights.count else {
                throw .invalidRequest("address_ranges and rights hold strings")
            }
            do {
                result.append(try entry.normalized())
            } catch {
                throw .invalidRequest("network_permissions: \(error.message)")
            }
        }
        return result
    }

    /// The first share named in `shareNames` whose host restrictions leave `address` no right at
    /// all (it could not connect), or nil.
    func shareDenying(_ address: String, among shareNames: [String]) -> String? {
        for name in shareNames {
            for share in shares where share.name == name {
                if NetworkPermission.rights(of: address, under: share.networkPermissions).isEmpty { return name }
            }
        }
        return nil
    }
}
