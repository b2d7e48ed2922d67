/// Lock grant listings, derived from handles: one share-mode grant per attributable handle and
/// `num_byte_range_locks` byte-range grants, all carrying the handle's client address.
extension SimulatorState {
    mutating func listFileGrants(_ request: SimulatorRequest, ref: String, type: Route.LockType)
        throws(QumuloError) -> SimulatorResponse
    {
        let file = try resolve(ref: ref)
        let list = fires(.ignoreFilter, path: request.rawPath) ? handles.all : handles.byFile[file.id] ?? []
        return try grantPage(request, handles: list, type: type, filters: ["snapshot"])
    }

    mutating func listClientGrants(_ request: SimulatorRequest, type: Route.LockType) throws(QumuloError)
        -> SimulatorResponse
    {
        var list: [HandleRecord]
        if let address = request.queryValue("owner_address") {
            list = handles.byAddress[address] ?? []
        } else {
            list = handles.all
        }
        if let name = request.queryValue("owner_name") {
            list = list.filter { $0.ownerName == name }
        }
        return try grantPage(request, handles: list, type: type, filters: ["owner_address", "owner_name"])
    }

    /// One page of grants. Unlike other listings `next` is never null: a short page is the end.
    private mutating func grantPage(
        _ request: SimulatorRequest, handles list: [HandleRecord], type: Route.LockType, filters: [String]
    ) throws(QumuloError) -> SimulatorResponse {
        let page = try Paging.pageRequest(request, maximum: pageSize)
        let start = max(0, page.after ?? 0)
        var position = 0
        var grants: [JSONValue] = []
        scan: for handle in list where handle.grants {
            let perHandle = type == .shareMode ? 1 : handle.numByteRangeLocks
            guard perHandle > 0 else { continue }
            if position + perHandle <= start {
                position += perHandle
                continue
            }
            for lockIndex in 0..<perHandle {
                if position >= start {
                    grants.append(grantJSON(handle, type: type, lockIndex: lockIndex))
                    if grants.count == page.limit { break scan }
                }
                position += 1
            }
        }
        let next =
            loopsNext(request)
            ? request.target
            : Paging.nextLink(for: request, filters: filters, after: start + grants.count, limit: page.limit)
        return .json(.object([("grants", .array(grants)), ("paging", Paging.pagingObject(next: next))]))
    }

    private mutating func grantJSON(_ handle: HandleRecord, type: Route.LockType, lockIndex: Int) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("file_id", .string(handle.fileNumber)),
            ("stream_id", .string("0")),
            ("snapshot_id", .null),
        ]
        switch type {
        case .shareMode:
            members.append(("mode", .array(handle.shareModes.map(JSONValue.string))))
        case .byteRange:
            members.append(("mode", .array([.string("API_BYTE_RANGE_EXCLUSIVE")])))
            members.append(("offset", .string(String(lockIndex * 4096))))
            members.append(("size", .string("4096")))
            members.append(("owner_name", .string(handle.ownerName)))
        }
        members.append(("owner_id", .string(ownerID(address: handle.clientAddress, owner: handle.owner))))
        members.append(("owner_address", .string(handle.clientAddress)))
        members.append(("node_address", .string(serverAddress)))
        return .object(members)
    }
}
