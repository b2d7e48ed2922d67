import Foundation

/// `limit`/`after` handling and `paging.next` links shared by every listing.
struct PageRequest: Sendable {
    var limit: Int
    /// Decoded cursor: a position whose meaning belongs to the listing.
    var after: Int?
}

enum Paging {
    static func cursor(_ position: Int) -> String {
        Data("c:\(position)".utf8).base64EncodedString()
    }

    static func position(fromCursor cursor: String) -> Int? {
        guard let data = Data(base64Encoded: cursor),
            let text = String(data: data, encoding: .utf8), text.hasPrefix("c:")
        else { return nil }
        return Int(text.dropFirst(2))
    }

    /// Reads `limit` (capped at the server maximum) and `after` from the query.
    static func pageRequest(_ request: SimulatorRequest, maximum: Int) throws(QumuloError) -> PageRequest {
        var limit = maximum
        if let text = request.queryValue("limit") {
            guard let value = Int(text), value >= 1 else {
                throw .invalidRequest("limit must be a positive integer, not \"\(text)\"")
            }
            limit = min(value, maximum)
        }
        var after: Int?
        if let text = request.queryValue("after"), !text.isEmpty {
            guard let position = position(fromCursor: text) else {
                throw .invalidRequest("invalid paging token \"\(text)\"")
            }
            after = position
        }
        return PageRequest(limit: limit, after: after)
    }

    /// Path + query from the server root, carrying every filter the client sent.
    static func nextLink(
        for request: SimulatorRequest, filters: [String], after position: Int, limit: Int
    ) -> String {
        var parts = ["after=\(PercentEncoding.encode(cursor(position)))", "limit=\(limit)"]
        for name in filters {
            if let value = request.queryValue(name) {
                parts.append("\(name)=\(PercentEncoding.encode(value))")
            }
        }
        return request.rawPath + "?" + parts.joined(separator: "&")
    }

    static func pagingObject(next: String?) -> JSONValue {
        .object([("next", next.map(JSONValue.string) ?? .null)])
    }
}
