import FoundationEssentials

/// Share host restrictions and session close: what storage fencing needs. These
/// need `PRIVILEGE_SMB_SHARE_READ`/`_WRITE` and `PRIVILEGE_SMB_SESSION_READ`/`_WRITE`, which the
/// hook's account must not hold: only the fencing account uses the writing ones.
extension QumuloClient {
    /// `GET /v3/smb/shares/{id}`: the share's host restrictions and its ETag.
    public func shareRestrictions(id: String) throws(QumuloError) -> SMBShareRestrictions {
        let path = "/v3/smb/shares/\(try encodedShareID(id))"
        let response = try send(HTTPRequest(method: .get, path: path))
        let body = try decode(SMBShareRestrictionsBody.self, from: response, method: "GET", path: path)
        return SMBShareRestrictions(
            id: body.id, shareName: body.shareName, networkPermissions: body.networkPermissions, etag: response.etag)
    }

    /// `PATCH /v3/smb/shares/{id}` with only `network_permissions`, and `If-Match: etag` so an edit
    /// made meanwhile fails with HTTP 412 (`QumuloError.status == 412`) instead of being lost.
    /// Never retried here: after a lost answer the caller must read the share again.
    public func setNetworkPermissions(
        shareID: String, _ entries: [NetworkPermission], ifMatch etag: String?
    ) throws(QumuloError) -> SMBShareRestrictions {
        let path = "/v3/smb/shares/\(try encodedShareID(shareID))"
        struct Body: Encodable { var network_permissions: [NetworkPermission] }
        let bytes: [UInt8]
        do {
            bytes = Array(try JSONEncoder().encode(Body(network_permissions: entries)))
        } catch {
            throw QumuloError(.invalidResponse("cannot encode request body: \(error)"), method: "PATCH", path: path)
        }
        let response = try send(HTTPRequest(method: .patch, path: path, body: bytes, ifMatch: etag))
        let body = try decode(SMBShareRestrictionsBody.self, from: response, method: "PATCH", path: path)
        return SMBShareRestrictions(
            id: body.id, shareName: body.shareName, networkPermissions: body.networkPermissions, etag: response.etag)
    }

    /// `POST /v1/smb/sessions/close` in batches of at most 100 (as `qq smb_close_sessions` does).
    /// The answer holds one `error_message` per session: empty means closed. Returns, per
    /// session location, the cluster's message for those it did not close.
    public func closeSessions(_ sessions: [SMBSession]) throws(QumuloError) -> [(location: String, reason: String)] {
        var failed: [(location: String, reason: String)] = []
        var start = 0
        while start < sessions.count {
            let batch = Array(sessions[start..<min(start + Self.closeBatchSize, sessions.count)])
            start += batch.count
            let results = try post("/v1/smb/sessions/close", body: batch.map(SessionCloseEntry.init), as: [CloseResult].self)
            for (index, session) in batch.enumerated() {
                guard index < results.count else {
                    failed.append((session.location, "the cluster gave no answer for this session"))
                    continue
                }
                let message = results[index].errorMessage ?? ""
                if !message.isEmpty { failed.append((session.location, Self.oneLine(message))) }
            }
        }
        return failed
    }

    private func encodedShareID(_ id: String) throws(QumuloError) -> String {
        do {
            return try PathEncoding.encodeComponent(id)
        } catch {
            throw QumuloError(.invalidResponse("share id \"\(id)\" cannot be put in a path"), method: "GET", path: "/v3/smb/shares/")
        }
    }
}

/// A session as the close request carries it: the whole object as the listing gave it (the
/// official CLI sends whole objects; `location` identifies it), or, for a session not read from
/// a listing, the fields smbvol knows.
struct SessionCloseEntry: Encodable {
    var session: SMBSession

    init(_ session: SMBSession) { self.session = session }

    private struct Known: Encodable {
        var location: String
        var originator: String
        var user: Identity
        var share_names: [String]
    }

    func encode(to encoder: any Encoder) throws {
        if let listed = session.listed {
            try listed.encode(to: encoder)
        } else {
            try Known(location: session.location, originator: session.originator, user: session.user, share_names: session.shareNames)
                .encode(to: encoder)
        }
    }
}
