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
    ///
    /// The cursor names a handle (by sequence number, so it stays valid while handles come and
    /// go) and how many of its grants were already served: a page costs O(log n + page), as the
    /// handle listing does, never a scan from the start.
    private mutating func grantPage(
        _ request: SimulatorRequest, handles list: [HandleRecord], type: Route.LockType, filters: [String]
    ) throws(QumuloError) -> SimulatorResponse {
        let page = try Paging.pageRequest(request, maximum: pageSize)
        let cursor = page.after ?? 0
        var seq = cursor / Self.grantsPerHandleLimit
        var skip = cursor % Self.grantsPerHandleLimit
        var grants: [JSONValue] = []
        var index = HandleTable.firstIndex(in: list, afterSeq: seq - 1)
        while index < list.count, grants.count < page.limit {
            let handle = list[index]
            if handle.seq != seq { skip = 0 }
            seq = handle.seq
            let perHandle = handle.grants ? (type == .shareMode ? 1 : min(handle.numByteRangeLocks, Self.grantsPerHandleLimit - 1)) : 0
            var lockIndex = skip
            while lockIndex < perHandle, grants.count < page.limit {
                grants.append(grantJSON(handle, type: type, lockIndex: lockIndex))
                lockIndex += 1
            }
            if lockIndex < perHandle {
                skip = lockIndex  // the page filled up inside this handle's grants
                break
            }
            index += 1
            skip = 0
            seq = index < list.count ? list[index].seq : seq + 1
        }
        let nextCursor = seq * Self.grantsPerHandleLimit + skip
        let next =
            loopsNext(request)
            ? request.target
            : Paging.nextLink(for: request, filters: filters, after: nextCursor, limit: page.limit)
        return .json(.object([("grants", .array(grants)), ("paging", Paging.pagingObject(next: next))]))
    }

    /// Cursor arithmetic: (handle seq, grants of it already served) in one integer.
    static let grantsPerHandleLimit = 65_536

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
