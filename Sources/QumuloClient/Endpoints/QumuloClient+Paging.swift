import Logging

/// Whether a listing read every page. A looping `next` stops the listing early; callers that
/// decide on the data (lock hygiene) must treat an incomplete listing as missing evidence.
public enum ListingCompleteness: Sendable, Equatable {
    case complete
    /// The server handed back a `next` already followed.
    case stoppedOnRepeatedNext(String)

    public var isComplete: Bool { self == .complete }
}

extension QumuloClient {
    /// Follows `paging.next` from `firstPath` until it is null or empty, handing each page's
    /// items to `body` (memory bounded by one page).
    ///
    /// - Parameter shortPageLimit: for listings whose `next` is never null (lock grants): stop
    ///   after a page with fewer items than the page size in effect — the `limit` the server
    ///   wrote into `next` when it chose a smaller one ("the system may choose a smaller
    ///   limit"), else this limit asked for.
    func followPages<Page: Decodable>(
        from firstPath: String,
        as type: Page.Type,
        shortPageLimit: Int? = nil,
        split: (Page) -> (count: Int, next: String?),
        body: (Page) throws -> Void
    ) throws -> ListingCompleteness {
        var path = firstPath
        var followed: Set<String> = [firstPath]
        var pages = 0
        while true {
            // A cluster handing out ever-new `next` links must not keep a listing (and the set
            // of links followed) growing forever: a bound far above any real cluster's pages.
            pages += 1
            guard pages <= Self.maximumPages else {
                throw QumuloError(
                    .invalidResponse("the listing did not end after \(Self.maximumPages) pages (the cluster keeps handing out new paging links); stopped"),
                    method: "GET", path: path)
            }
            let page = try get(path, as: type)
            try body(page)
            let (count, next) = split(page)
            if let shortPageLimit, count < Self.effectiveLimit(next: next, requested: shortPageLimit) { return .complete }
            guard let next, !next.isEmpty else { return .complete }
            guard next.hasPrefix("/") else {
                throw QumuloError(.invalidResponse("paging.next is not a path from the server root: \(next)"), method: "GET", path: path)
            }
            guard followed.insert(next).inserted else {
                logger.warning("cluster repeated a paging link; listing stopped early", metadata: ["next": "\(next)"])
                return .stoppedOnRepeatedNext(next)
            }
            path = next
        }
    }

    /// Most pages one listing follows: 100 000 pages of up to 1000 entries is 10⁸ handles.
    static let maximumPages = 100_000

    /// The `limit` query parameter of a paging link, else `requested`.
    static func effectiveLimit(next: String?, requested: Int) -> Int {
        guard let next, let query = next.split(separator: "?", maxSplits: 1).dropFirst().first else { return requested }
        for parameter in query.split(separator: "&") where parameter.hasPrefix("limit=") {
            if let limit = Int(parameter.dropFirst("limit=".count)), limit > 0 { return min(limit, requested) }
        }
        return requested
    }
}
