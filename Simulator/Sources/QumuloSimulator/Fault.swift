/// A misbehaviour the simulator injects, from the scenario or `POST /_sim/faults`.
public struct Fault: Codable, Sendable {
    public enum Kind: String, Codable, Sendable {
        case latency
        case hang
        case status
        case tokenExpiry = "token_expiry"
        case invalidJSON = "invalid_json"
        case loopingNext = "looping_next"
        case closeError = "close_error"
        /// The listing ignores its filter: `file_number` on `/v1/smb/files/`, `identity` on
        /// `/v1/smb/sessions/`, the file on `/v1/files/{ref}/locks/…` (every grant is listed),
        /// as an older cluster or a proxy might.
        case ignoreFilter = "ignore_filter"
        /// Every page of a listing hands out a new, never-repeated `next` link (and no items
        /// after the first page): a client must bound how many pages it follows.
        case endlessNext = "endless_next"
        /// Someone else's edit of a share lands just before a PATCH of it is applied: an
        /// ALLOWED READ entry for `message` (an address range; default 198.51.100.0/24) is
        /// appended and the share's ETag changes, so the PATCH's If-Match no longer holds.
        case concurrentShareEdit = "concurrent_share_edit"
    }

    public var kind: Kind
    /// Only requests whose path (without query) starts with this; nil = every API path.
    public var pathPrefix: String?
    public var milliseconds: Int?
    public var status: Int?
    /// For `status`: how many matching requests pass before the fault fires.
    public var after: Int?
    /// How many times the fault fires; nil = forever.
    public var count: Int?
    public var afterUses: Int?
    public var location: String?
    public var message: String?

    enum CodingKeys: String, CodingKey {
        case kind, milliseconds, status, after, count, location, message
        case pathPrefix = "path_prefix"
        case afterUses = "after_uses"
    }

    public init(
        kind: Kind, pathPrefix: String? = nil, milliseconds: Int? = nil, status: Int? = nil,
        after: Int? = nil, count: Int? = nil, afterUses: Int? = nil, location: String? = nil,
        message: String? = nil
    ) {
        self.kind = kind
        self.pathPrefix = pathPrefix
        self.milliseconds = milliseconds
        self.status = status
        self.after = after
        self.count = count
        self.afterUses = afterUses
        self.location = location
        self.message = message
    }

    /// Checks the fields each kind needs.
    public func validate() throws(ScenarioError) {
        switch kind {
        case .latency where milliseconds == nil:
            throw .invalidFault("latency fault needs \"milliseconds\"")
        case .status where status == nil:
            throw .invalidFault("status fault needs \"status\"")
        case .status:
            if let status, !(100...599).contains(status) {
                throw .invalidFault("status fault has invalid status \(status)")
            }
        case .tokenExpiry where afterUses == nil:
            throw .invalidFault("token_expiry fault needs \"after_uses\"")
        case .closeError where location == nil:
            throw .invalidFault("close_error fault needs \"location\"")
        default:
            break
        }
        if let count, count < 0 { throw .invalidFault("fault count must not be negative") }
    }

    func matches(path: String) -> Bool {
        guard let pathPrefix else { return true }
        return path.hasPrefix(pathPrefix)
    }
}

/// A fault installed in a running simulator, with its counters.
struct ActiveFault: Sendable {
    var fault: Fault
    /// Matching requests seen (for `status`'s after/count window).
    var seen = 0
    var fired = 0
    /// token → authenticated uses since the fault was installed (for `token_expiry`).
    var tokenUses: [String: Int] = [:]

    init(_ fault: Fault) { self.fault = fault }

    var exhausted: Bool {
        guard let count = fault.count, fault.kind != .status else { return false }
        return fired >= count
    }

    /// Counts a matching request for `status` faults and says whether it fires.
    mutating func statusFires() -> Bool {
        seen += 1
        let after = fault.after ?? 0
        guard seen > after else { return false }
        if let count = fault.count, seen > after + count { return false }
        fired += 1
        return true
    }

    /// Counts a use of `token` and says whether it has now expired.
    mutating func tokenExpired(_ token: String) -> Bool {
        let uses = (tokenUses[token] ?? 0) + 1
        tokenUses[token] = uses
        guard uses > (fault.afterUses ?? 0), !exhausted else { return false }
        fired += 1
        return true
    }

    /// For kinds with a simple firing budget.
    mutating func fire() -> Bool {
        guard !exhausted else { return false }
        fired += 1
        return true
    }
}
