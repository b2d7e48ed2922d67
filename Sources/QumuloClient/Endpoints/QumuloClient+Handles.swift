import Logging

/// The outcome of closing handles: which closed (confirmed by listing again), which did not.
public struct CloseReport: Sendable, Equatable {
    /// Closed and no longer listed.
    public var closed: [String] = []
    /// Not closed, with the reason (the cluster's `error_message`, or "still listed").
    public var failed: [(location: String, reason: String)] = []

    public init() {}

    public var allClosed: Bool { failed.isEmpty }

    public static func == (lhs: CloseReport, rhs: CloseReport) -> Bool {
        lhs.closed == rhs.closed && lhs.failed.map(\.location) == rhs.failed.map(\.location)
            && lhs.failed.map(\.reason) == rhs.failed.map(\.reason)
    }
}

extension QumuloClient {
    /// Largest close request: the official CLI batches session closes by 100 after a single
    /// huge request failed on body size.
    public static let closeBatchSize = 100

    /// Every handle open on one file (`file_number` filter, every page).
    public func handles(onFileNumber fileNumber: String, resolvePaths: Bool = false) throws -> (handles: [FileHandle], completeness: ListingCompleteness) {
        var handles: [FileHandle] = []
        let completeness = try forEachHandlePage(fileNumber: fileNumber, resolvePaths: resolvePaths) { handles += $0 }
        return (handles, completeness)
    }

    /// Every handle on the cluster (or on one file), one page at a time: memory stays bounded by
    /// the page size however many handles the cluster has.
    @discardableResult
    public func forEachHandlePage(
        fileNumber: String? = nil, resolvePaths: Bool = false, limit: Int = 1000, _ body: ([FileHandle]) throws -> Void
    ) throws -> ListingCompleteness {
        var query = ["resolve_paths=\(resolvePaths ? "true" : "false")", "limit=\(limit)"]
        if let fileNumber { query.insert("file_number=\(try PathEncoding.encodeComponent(fileNumber))", at: 0) }
        return try followPages(
            from: "/v1/smb/files/?" + query.joined(separator: "&"), as: FileHandlePage.self,
            split: { ($0.fileHandles.count, $0.paging?.next) },
            body: { try body($0.fileHandles) })
    }

    /// Closes handles by location in batches of at most 100. A 200 answer can still carry a
    /// per-item `error_message`: that handle is reported as not closed. Afterwards the handles
    /// are listed again (per file when `fileNumbers` are known, else cluster-wide) and any
    /// location still listed is reported as not closed.
    public func closeHandles(locations: [String], fileNumbers: Set<String>? = nil) throws -> CloseReport {
        var report = CloseReport()
        var answeredClosed: [String] = []
        var start = 0
        while start < locations.count {
            let batch = Array(locations[start..<min(start + Self.closeBatchSize, locations.count)])
            start += batch.count
            struct Entry: Encodable {
                struct Info: Encodable { var location: String }
                var handle_info: Info
            }
            let results = try post(
                "/v1/smb/files/close", body: batch.map { Entry(handle_info: .init(location: $0)) }, as: [CloseResult].self)
            for (index, location) in batch.enumerated() {
                let message = index < results.count ? (results[index].errorMessage ?? "") : ""
                if !message.isEmpty {
                    report.failed.append((location, Self.oneLine(message)))
                } else {
                    answeredClosed.append(location)
                }
            }
            if results.count > batch.count {
                logger.warning("close answered more entries than requested", metadata: ["requested": "\(batch.count)", "answered": "\(results.count)"])
            }
        }
        guard !answeredClosed.isEmpty else { return report }
        let stillListed = try listedLocations(among: Set(answeredClosed), fileNumbers: fileNumbers)
        for location in answeredClosed {
            if stillListed.contains(location) {
                report.failed.append((location, "the cluster answered success but the handle is still listed"))
            } else {
                report.closed.append(location)
            }
        }
        return report
    }

    private func listedLocations(among wanted: Set<String>, fileNumbers: Set<String>?) throws -> Set<String> {
        var found: Set<String> = []
        let collect: ([FileHandle]) -> Void = { page in
            for handle in page where wanted.contains(handle.location) { found.insert(handle.location) }
        }
        if let fileNumbers {
            for fileNumber in fileNumbers.sorted() { try forEachHandlePage(fileNumber: fileNumber, collect) }
        } else {
            try forEachHandlePage(collect)
        }
        return found
    }
}
