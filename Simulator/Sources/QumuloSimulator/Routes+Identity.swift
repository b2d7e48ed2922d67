/// `/v3/smb/shares/` and `/v1/identity/find`.
extension SimulatorState {
    func listShares() -> SimulatorResponse {
        let entries = shares.map(Self.shareJSON)
        return .json(.object([("entries", .array(entries))]))
    }

    func findIdentity(_ request: SimulatorRequest) throws(QumuloError) -> SimulatorResponse {
        let query = try jsonBody(request)
        guard case .object = query else { throw .invalidRequest("identity/find expects an object") }
        func wanted(_ key: String) -> String? {
            guard let value = query[key], !value.isNull else { return nil }
            return value.stringValue
        }
        let authID = wanted("auth_id")
        let uid = wanted("uid")
        let gid = wanted("gid")
        let sid = wanted("sid")
        let name = wanted("name")
        guard authID != nil || uid != nil || gid != nil || sid != nil || name != nil else {
            throw .invalidRequest("identity/find needs one of auth_id, uid, gid, sid, name")
        }
        let found = identities.first { identity in
            if let authID, identity.authID != authID { return false }
            if let uid, identity.uid.map(String.init) != uid { return false }
            if let gid, identity.gid.map(String.init) != gid { return false }
            if let sid, identity.sid?.uppercased() != sid.uppercased() { return false }
            if let name, identity.name?.lowercased() != name.lowercased() { return false }
            return true
        }
        guard let found else {
            throw QumuloError(
                status: 404, module: "identity", errorClass: "identity_not_found_error",
                description: "no identity matches \(query.serializedString)")
        }
        return .json(
            .object([
                ("domain", found.domain.map(JSONValue.string) ?? .string("UNKNOWN")),
                ("auth_id", .string(found.authID)),
                ("uid", found.uid.map(JSONValue.int) ?? .null),
                ("gid", found.gid.map(JSONValue.int) ?? .null),
                ("sid", found.sid.map(JSONValue.string) ?? .null),
                ("name", found.name.map(JSONValue.string) ?? .null),
            ]))
    }
}
