/// `/v1/smb/files/`, `/v1/smb/files/close`, `/v1/smb/sessions/`, `/v1/smb/sessions/close`.
extension SimulatorState {
    mutating func listHandles(_ request: SimulatorRequest) throws(QumuloError) -> SimulatorResponse {
        let page = try Paging.pageRequest(request, maximum: pageSize)
        let resolvePaths = try Self.flag(request.queryValue("resolve_paths"), name: "resolve_paths")
        let list: [HandleRecord]
        if let fileNumber = request.queryValue("file_number"), !fires(.ignoreFilter, path: request.rawPath) {
            list = handles.byFile[fileNumber] ?? []
        } else {
            list = handles.all
        }
        let start = HandleTable.firstIndex(in: list, afterSeq: page.after ?? 0)
        let end = min(list.count, start + page.limit)
        let served = list[start..<end]
        var next: String?
        if let endless = endlessNextLink(request) {
            next = endless
        } else if loopsNext(request) {
            next = request.target
        } else if end < list.count, let last = served.last {
            next = Paging.nextLink(
                for: request, filters: ["file_number", "resolve_paths"], after: last.seq, limit: page.limit)
        }
        let records = Array(served)
        let paging = Paging.pagingObject(next: next)
        return .json { .object([("file_handles", .array(records.map { Self.handleJSON($0, withPath: resolvePaths) })), ("paging", paging)]) }
    }

    static func handleJSON(_ handle: HandleRecord, withPath: Bool) -> JSONValue {
        var info: [(String, JSONValue)] = [
            ("location", .string(handle.location)),
            ("owner", .string(handle.owner)),
            ("access_mask", .array(handle.accessMask.map(JSONValue.string))),
            ("num_byte_range_locks", .int(handle.numByteRangeLocks)),
            ("version", .int(handle.version)),
        ]
        if withPath { info.append(("path", .string(handle.path))) }
        return .object([("file_number", .string(handle.fileNumber)), ("handle_info", .object(info))])
    }

    mutating func closeHandles(_ request: SimulatorRequest) throws(QumuloError) -> SimulatorResponse {
        guard let items = try jsonBody(request).arrayValue else {
            throw .invalidRequest("close expects a list of file handles")
        }
        var results: [JSONValue] = []
        for item in items {
            guard let location = item["handle_info"]?["location"]?.stringValue else {
                throw .invalidRequest("each file handle needs handle_info.location")
            }
            results.append(.object([("error_message", .string(close(location: location)))]))
        }
        return .json(.array(results))
    }

    /// Closes one handle; the error message, empty on success.
    private mutating func close(location: String) -> String {
        for index in faults.indices
        where faults[index].fault.kind == .closeError && faults[index].fault.location == location {
            if faults[index].fire() { return faults[index].fault.message ?? "simulated close failure" }
        }
        if let samba { return sambaClose(samba, location: location) }
        guard handles.remove(location: location) != nil else {
            return "fs_no_such_entry_error: no open file handle at location \(location)"
        }
        closedLocations.append(location)
        return ""
    }

    mutating func listSessions(_ request: SimulatorRequest) throws(QumuloError) -> SimulatorResponse {
        let page = try Paging.pageRequest(request, maximum: pageSize)
        var list = sessions
        if let identity = request.queryValue("identity"), !identity.isEmpty, !fires(.ignoreFilter, path: request.rawPath) {
            list = list.filter { sessionMatches($0, identity: identity) }
        }
        let start = list.firstIndex { $0.seq > (page.after ?? 0) } ?? list.count
        let end = min(list.count, start + page.limit)
        let served = list[start..<end]
        var next: String?
        if loopsNext(request) {
            next = request.target
        } else if end < list.count, let last = served.last {
            next = Paging.nextLink(for: request, filters: ["identity"], after: last.seq, limit: page.limit)
        }
        let entries = served.map(sessionJSON)
        return .json(.object([("session_infos", .array(entries)), ("paging", Paging.pagingObject(next: next))]))
    }

    func userJSON(authID: String) -> JSONValue {
        let identity = identity(authID: authID)
        return .object([
            ("domain", .string(identity?.domain ?? "LOCAL")),
            ("auth_id", .string(authID)),
            ("uid", identity?.uid.map(JSONValue.int) ?? .null),
            ("gid", identity?.gid.map(JSONValue.int) ?? .null),
            ("sid", identity?.sid.map(JSONValue.string) ?? .null),
            ("name", identity?.name.map(JSONValue.string) ?? .null),
        ])
    }

    func sessionJSON(_ session: SessionRecord) -> JSONValue {
        .object([
            ("location", .string(session.location)),
            ("tenant_id", .int(1)),
            ("originator", .string(session.originator)),
            ("server_address", .string(session.serverAddress ?? serverAddress)),
            ("user", userJSON(authID: session.authID)),
            ("num_opens", .int(handles.openCount(address: session.originator, owner: session.authID))),
            ("time_open", .object([("nanoseconds", .string(String(session.openNanoseconds)))])),
            ("time_idle", .object([("nanoseconds", .string(String(session.idleNanoseconds)))])),
            ("is_guest", .bool(session.isGuest)),
            ("is_encrypted", .bool(session.isEncrypted)),
            ("share_names", .array(session.shareNames.map(JSONValue.string))),
        ])
    }

    /// `auth_id:X`, `uid:X`, `gid:X`, `sid:X`, a bare SID, `name:X`/`local:X`/`ad:X`/…, or a bare name.
    func sessionMatches(_ session: SessionRecord, identity filter: String) -> Bool {
        let identity = identity(authID: session.authID)
        let parts = filter.split(separator: ":", maxSplits: 1).map(String.init)
        if parts.count == 2 {
            let value = parts[1]
            switch parts[0].lowercased() {
            case "auth_id": return session.authID == value
            case "uid": return identity?.uid.map(String.init) == value
            case "gid": return identity?.gid.map(String.init) == value
            case "sid": return identity?.sid?.uppercased() == value.uppercased()
            default: return identity?.name?.lowercased() == value.lowercased()
            }
        }
        if filter.uppercased().hasPrefix("S-1-") { return identity?.sid?.uppercased() == filter.uppercased() }
        return identity?.name?.lowercased() == filter.lowercased()
    }

    mutating func closeSessions(_ request: SimulatorRequest) throws(QumuloError) -> SimulatorResponse {
        guard let items = try jsonBody(request).arrayValue else {
            throw .invalidRequest("close expects a list of sessions")
        }
        var results: [JSONValue] = []
        for item in items {
            guard let location = item["location"]?.stringValue else {
                throw .invalidRequest("each session needs a location")
            }
            if let samba {
                results.append(.object([("error_message", .string(sambaCloseSession(samba, location: location)))]))
                continue
            }
            if let index = sessions.firstIndex(where: { $0.location == location }) {
                // The official CLI sends each session whole, as listed: note any item that is not.
                if !Self.hasEveryMember(of: sessionJSON(sessions[index]), item) { partialSessionCloses.append(location) }
                let session = sessions.remove(at: index)
                handles.removeAll(address: session.originator, owner: session.authID)
                closedSessions.append(location)
                results.append(.object([("error_message", .string(""))]))
            } else {
                results.append(.object([("error_message", .string("no SMB session at location \(location)"))]))
            }
        }
        return .json(.array(results))
    }

    /// Whether `item` carries every member `listed` has (recursively, for objects).
    static func hasEveryMember(of listed: JSONValue, _ item: JSONValue) -> Bool {
        guard case .object(let members) = listed else { return true }
        for (key, value) in members {
            guard let sent = item[key] else { return false }
            if !hasEveryMember(of: value, sent) { return false }
        }
        return true
    }

    /// Booleans in queries: `true`, `True`, `FALSE`, `1`, `0`.
    static func flag(_ text: String?, name: String) throws(QumuloError) -> Bool {
        guard let text else { return false }
        switch text.lowercased() {
        case "true", "1": return true
        case "false", "0", "": return false
        default: throw .invalidRequest("\(name) must be true or false, not \"\(text)\"")
        }
    }
}
