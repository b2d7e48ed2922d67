import FoundationEssentials
import Logging
import SmbvolSystem

extension QumuloClient {
    /// Every handle on the cluster (or below `options.pathPrefix`), in the cluster's listing
    /// order, each with its owner's name and the client addresses holding its file.
    ///
    /// Requests run side by side over `concurrentTransport()` (libcurl's multi interface:
    /// bounded, on kept-alive connections): the handle pages, the cluster-wide share-mode grant
    /// pages (file id → owner addresses, instead of one request per client), and the owner
    /// names — one identity lookup per distinct owner while there are few, the sessions listing
    /// (`user.name`, a page names many owners) once there are more than
    /// `options.identityLookupsBeforeSessions`, with lookups for owners it did not name. A page is
    /// handed to `body` once the grant index is complete and its owners are named; until then
    /// at most `options.maximumBufferedHandles` handles are read ahead.
    ///
    /// The grant listing and the names are enrichments: when the cluster refuses them (403,
    /// 404, …) every handle is still handed out — with `clientAddresses == nil` or the owner as
    /// `auth_id:N` — and `summary.missing` says what is missing and why. A refused sessions
    /// listing is no loss (the identity lookups name the owners). A failing handle listing throws.
    public func listHandles(
        _ options: HandleListingOptions = HandleListingOptions(), progress: (Int) -> Void = { _ in },
        _ body: (ListedHandle) throws -> Void
    ) throws -> HandleListingSummary {
        let run = ClusterHandleListing(client: self, transport: try concurrentTransport(), options: options)
        return try run.run(progress: progress, body)
    }
}

/// One run of `listHandles`: a small single-threaded scheduler over a concurrent transport.
final class ClusterHandleListing {
    private enum Job {
        case handles(path: String)
        case grants(path: String)
        case identity(authId: String)
        case sessions(path: String)
    }

    private struct InFlight {
        var job: Job
        var request: HTTPRequest
        var attempt: Int
    }

    private enum GrantState { case reading, done, unavailable }
    /// Owner names from the sessions listing: not (yet) worth it, reading, read, refused.
    private enum SessionNaming { case unused, reading, done, unavailable }

    private let client: QumuloClient
    private let transport: any ConcurrentHTTPTransport
    private let options: HandleListingOptions
    private var summary = HandleListingSummary()

    private var nextTag = 0
    private var inFlight: [Int: InFlight] = [:]

    private var handlesNext: String?
    private var handlesFollowed: Set<String> = []
    private var handlesInFlight = false
    private var buffered: [[ListingHandle]] = []
    private var bufferedCount = 0

    private var grantsNext: String?
    private var grantsFollowed: Set<String> = []
    private var grantsInFlight = false
    private var grantState: GrantState
    private let grantLimit: Int
    /// file id → owner addresses.
    private var addresses = GrantAddressIndex()

    /// auth_id → display name, once known.
    private var names: [String: String] = [:]
    private var namesPending: Set<String> = []
    private var namesQueue: [String] = []
    private var namesHead = 0
    private var identityRefused = false
    private var identityLookupsStarted = 0
    private var reauthenticated = false
    /// The last token the cluster answered with a 2xx: one that expires after it worked may be
    /// renewed again (a long listing can outlive several tokens); one refused without ever
    /// working may not (a fresh login refused: the account, not the clock).
    private var tokenThatWorked: String?
    /// Requests refused with a fresh token while other requests with it were still in flight:
    /// answers come back in any order, so one of those may yet prove the token worked (then it
    /// expired and is renewed) — or none does (then the account is refused, and the listing ends).
    private var parkedRefusals: [InFlight] = []

    private var sessionNaming: SessionNaming = .unused
    private var sessionsNext: String?
    private var sessionsFollowed: Set<String> = []
    private var sessionsInFlight = false
    private var sessionPagesRead = 0
    /// Names kept for session users no handle has shown yet (later pages may): bounded.
    private var sessionNamesAhead = 0
    private static let maximumSessionNamesAhead = 50_000

    init(client: QumuloClient, transport: any ConcurrentHTTPTransport, options: HandleListingOptions) {
        self.client = client
        self.transport = transport
        self.options = options
        grantLimit = options.pageLimit
        handlesNext = "/v1/smb/files/?resolve_paths=\(options.resolvePaths ? "true" : "false")&limit=\(options.pageLimit)"
        if options.clientAddresses {
            grantsNext = "/v1/files/locks/smb/share-mode/?limit=\(grantLimit)"
            grantState = .reading
        } else {
            grantState = .unavailable
        }
        if let first = handlesNext { handlesFollowed.insert(first) }
        if let first = grantsNext { grantsFollowed.insert(first) }
        for (authId, identity) in client.identityCache {
            if let name = identity.name, !name.isEmpty { names[authId] = name } else { names[authId] = "auth_id:\(authId)" }
        }
    }

    func run(progress: (Int) -> Void, _ body: (ListedHandle) throws -> Void) throws -> HandleListingSummary {
        while true {
            // The next pages are asked for before this one is written out, so the cluster
            // works on them meanwhile; a drained read-ahead lets the handle chain go on.
            try schedule()
            transport.sendStarted()  // on the wire before the writing below, not after it
            try emitReadyPages(body)
            try schedule()
            guard let (tag, result) = transport.nextCompleted() else { break }
            guard let entry = inFlight.removeValue(forKey: tag) else { continue }
            try complete(entry, result: result, progress: progress)
            try settleParkedRefusals()
        }
        try settleParkedRefusals()
        // Nothing in flight and nothing left to ask: whatever is buffered can be shown now.
        if grantState == .reading { finishGrants() }
        for authId in namesQueue[namesHead...] where names[authId] == nil { names[authId] = "auth_id:\(authId)" }
        namesQueue.removeAll()
        namesHead = 0
        try emitReadyPages(body)
        return summary
    }

    // MARK: - Scheduling

    private func schedule() throws {
        var free = transport.maximumInFlight - transport.inFlight
        if free > 0, !grantsInFlight, grantState == .reading, let path = grantsNext {
            try start(.grants(path: path), HTTPRequest(method: .get, path: path), attempt: 1)
            grantsInFlight = true
            free -= 1
        }
        if free > 0, !handlesInFlight, bufferedCount < options.maximumBufferedHandles, let path = handlesNext {
            try start(.handles(path: path), HTTPRequest(method: .get, path: path), attempt: 1)
            handlesInFlight = true
            free -= 1
        }
        // Many owners to name: one sessions page names up to a page of them at once.
        if sessionNaming == .unused, options.ownerNamesFromSessions,
            identityLookupsStarted + (namesQueue.count - namesHead) > options.identityLookupsBeforeSessions
        {
            sessionNaming = .reading
            let first = "/v1/smb/sessions/?limit=\(options.pageLimit)"
            sessionsNext = first
            sessionsFollowed.insert(first)
        }
        if free > 0, !sessionsInFlight, sessionNaming == .reading, let path = sessionsNext {
            try start(.sessions(path: path), HTTPRequest(method: .get, path: path), attempt: 1)
            sessionsInFlight = true
            free -= 1
        }
        // The chains go first: a finished page frees its slot, and the next page takes it
        // before any name lookup can. While the sessions are read, owners wait for them.
        while free > 0, sessionNaming != .reading, namesHead < namesQueue.count {
            let authId = namesQueue[namesHead]
            namesHead += 1
            if namesHead == namesQueue.count {
                namesQueue.removeAll(keepingCapacity: true)
                namesHead = 0
            }
            if names[authId] != nil {  // named by the sessions listing meanwhile
                namesPending.remove(authId)
                continue
            }
            if identityRefused {
                names[authId] = "auth_id:\(authId)"
                continue
            }
            let body = Array("{\"auth_id\": \(JSONWriter.quoted(authId))}".utf8)
            try start(.identity(authId: authId), HTTPRequest(method: .post, path: "/v1/identity/find", body: body), attempt: 1)
            identityLookupsStarted += 1
            free -= 1
        }
    }

    private func start(_ job: Job, _ request: HTTPRequest, attempt: Int) throws {
        var request = request
        request.bearerToken = try client.bearerToken(for: request).reveal()
        guard let timeout = client.timeoutForNextAttempt() else {
            throw QumuloError(.deadlineExceeded, method: request.method.rawValue, path: request.path)
        }
        let tag = nextTag
        nextTag += 1
        do {
            try transport.start(request, timeout: timeout, tag: tag)
        } catch {
            throw QumuloError(.transport(error), method: request.method.rawValue, path: request.path)
        }
        inFlight[tag] = InFlight(job: job, request: request, attempt: attempt)
    }

    // MARK: - Answers

    private func complete(_ entry: InFlight, result: Result<HTTPResponse, TransportFailure>, progress: (Int) -> Void) throws {
        let request = entry.request
        let method = request.method.rawValue
        switch result {
        case .failure(let failure):
            if failure.isRetryable, request.isIdempotent, try retry(entry) { return }
            try fail(entry, QumuloError(.transport(failure), method: method, path: request.path))
        case .success(let response) where response.status == 401:
            // A fresh token refused while other requests with it are in flight: wait for their
            // answers before judging it (one may prove it worked).
            if isUnproven(request.bearerToken), inFlight.values.contains(where: { $0.request.bearerToken == request.bearerToken }) {
                parkedRefusals.append(entry)
                return
            }
            // Answers already in flight with the same old token come back 401 too: one login.
            guard reauthenticated(refused: request.bearerToken) else {
                throw QumuloError(
                    .unauthorized("the cluster refused the token (HTTP 401) during the listing; run `smbvol login`"),
                    method: method, path: request.path)
            }
            try start(entry.job, request, attempt: entry.attempt)
        case .success(let response) where (500..<600).contains(response.status):
            if request.isIdempotent, try retry(entry) { return }
            try fail(entry, client.httpError(response, request: request))
        case .success(let response) where !(200..<300).contains(response.status):
            try fail(entry, client.httpError(response, request: request))
        case .success(let response):
            tokenThatWorked = request.bearerToken
            try resumeParkedRefusals()
            switch entry.job {
            case .handles(let path): try handlePage(response, path: path, progress: progress)
            case .grants(let path): grantPage(response, path: path)
            case .identity(let authId): identityAnswer(response, authId: authId)
            case .sessions(let path): sessionPage(response, path: path)
            }
        }
    }

    /// Whether the request refused with `refused` may go again with a new token: once for a
    /// token that never worked in this listing (the stored one may have expired before it
    /// began), and again each time a token that did work expires.
    private func reauthenticated(refused: String?) -> Bool {
        if let current = try? client.bearerToken(for: HTTPRequest(method: .get, path: "/")).reveal(), current != refused {
            return true  // another answer already led to a new token
        }
        guard !reauthenticated || (refused != nil && refused == tokenThatWorked) else { return false }
        reauthenticated = true
        return client.recoverFromRefusedToken(refused)
    }

    /// Whether `token` is the current one, obtained by a login of this listing and not yet seen
    /// working.
    private func isUnproven(_ token: String?) -> Bool {
        guard reauthenticated, let token, token != tokenThatWorked else { return false }
        return (try? client.bearerToken(for: HTTPRequest(method: .get, path: "/")).reveal()) == token
    }

    /// The token of the parked refusals worked after all (it expired since): they go again with
    /// a new token.
    private func resumeParkedRefusals() throws {
        guard !parkedRefusals.isEmpty else { return }
        let parked = parkedRefusals
        parkedRefusals.removeAll()
        for entry in parked {
            guard reauthenticated(refused: entry.request.bearerToken) else {
                throw QumuloError(
                    .unauthorized("the cluster refused the token (HTTP 401) during the listing; run `smbvol login`"),
                    method: entry.request.method.rawValue, path: entry.request.path)
            }
            try start(entry.job, entry.request, attempt: entry.attempt)
        }
    }

    /// Parked refusals whose token no request in flight can prove any more: the fresh token was
    /// refused without ever working — the account, not the clock.
    private func settleParkedRefusals() throws {
        guard let first = parkedRefusals.first else { return }
        if first.request.bearerToken == tokenThatWorked { return try resumeParkedRefusals() }
        guard !inFlight.values.contains(where: { $0.request.bearerToken == first.request.bearerToken }) else { return }
        parkedRefusals.removeAll()
        throw QumuloError(
            .unauthorized("the cluster refused the token (HTTP 401) during the listing; run `smbvol login`"),
            method: first.request.method.rawValue, path: first.request.path)
    }

    /// Starts `entry` again after the policy's delay; false when no attempt is left.
    private func retry(_ entry: InFlight) throws -> Bool {
        guard entry.attempt < client.retryPolicy.maximumAttempts else { return false }
        let delay = client.retryPolicy.delay(afterAttempt: entry.attempt, jitter: client.jitter.nextFraction())
        if let remaining = client.deadline.remaining(clock: client.clock), remaining <= delay { return false }
        client.clock.sleep(for: delay)
        try start(entry.job, entry.request, attempt: entry.attempt + 1)
        return true
    }

    /// A request that will not succeed: fatal for the handle listing, missing evidence otherwise.
    private func fail(_ entry: InFlight, _ error: QumuloError) throws {
        switch entry.job {
        case .handles:
            throw error
        case .grants:
            grantsInFlight = false
            grantState = .unavailable
            addresses.removeAll()
            summary.missing.append(MissingEvidence(.clientAddresses, error: error))
        case .identity(let authId):
            namesPending.remove(authId)
            names[authId] = "auth_id:\(authId)"
            client.identityCache[authId] = client.identityCache[authId] ?? Identity(authId: authId)
            // 404 is "no such identity" for one owner; a 403 holds for every owner.
            if error.status == 403, !identityRefused {
                identityRefused = true
                summary.missing.append(MissingEvidence(.ownerNames, error: error))
            }
        case .sessions:
            // Names still come from the identity lookups: nothing is missing.
            sessionsRefused(error)
        }
    }

    private func handlePage(_ response: HTTPResponse, path: String, progress: (Int) -> Void) throws {
        handlesInFlight = false
        let page: ListingHandlePage
        do {
            page = try ListingPageScanner.handlePage(response.body)
        } catch {
            throw QumuloError(.invalidResponse("\(error)"), method: "GET", path: path)
        }
        summary.seen += page.fileHandles.count
        progress(summary.seen)
        var kept: [ListingHandle] = []
        kept.reserveCapacity(page.fileHandles.count)
        for handle in page.fileHandles {
            if let prefix = options.pathPrefix {
                guard let handlePath = handle.path, handlePath.hasPrefix(prefix) else { continue }
            }
            if names[handle.owner] == nil, namesPending.insert(handle.owner).inserted { namesQueue.append(handle.owner) }
            kept.append(handle)
        }
        if !kept.isEmpty {
            buffered.append(kept)
            bufferedCount += kept.count
        }
        handlesNext = nil
        guard let next = page.paging?.next, !next.isEmpty else { return }
        guard next.hasPrefix("/") else {
            throw QumuloError(.invalidResponse("paging.next is not a path from the server root: \(next)"), method: "GET", path: path)
        }
        guard handlesFollowed.insert(next).inserted else {
            client.logger.warning("cluster repeated a paging link; listing stopped early", metadata: ["next": "\(next)"])
            summary.completeness = .stoppedOnRepeatedNext(next)
            return
        }
        handlesNext = next
    }

    private func grantPage(_ response: HTTPResponse, path: String) {
        grantsInFlight = false
        guard grantState == .reading else { return }
        let page: ListingGrantPage
        do {
            page = try ListingPageScanner.grantPage(response.body)
        } catch {
            grantState = .unavailable
            addresses.removeAll()
            summary.missing.append(
                MissingEvidence(.clientAddresses, error: QumuloError(.invalidResponse("\(error)"), method: "GET", path: path)))
            return
        }
        for grant in page.grants { addresses.insert(grant.ownerAddress, forFile: grant.fileId) }
        grantsNext = nil
        let next = page.paging?.next
        // Grant listings never answer a null `next`: a short (or empty) page is the end.
        if page.grants.count < QumuloClient.effectiveLimit(next: next, requested: grantLimit) {
            finishGrants()
            return
        }
        guard let next, !next.isEmpty, next.hasPrefix("/") else {
            finishGrants()
            return
        }
        guard grantsFollowed.insert(next).inserted else {
            client.logger.warning("cluster repeated a paging link; grant listing stopped early", metadata: ["next": "\(next)"])
            summary.addressCompleteness = .stoppedOnRepeatedNext(next)
            finishGrants()
            return
        }
        grantsNext = next
    }

    private func finishGrants() { grantState = .done }

    private func sessionsRefused(_ error: QumuloError) {
        sessionsInFlight = false
        sessionsNext = nil
        sessionNaming = .unavailable
        client.logger.debug(
            "sessions listing unavailable; owners are named by identity lookups",
            metadata: ["status": "\(error.status.map(String.init) ?? "-")", "path": "\(error.path)"])
    }

    /// Names owners from one sessions page. A name the identity lookup already gave is kept;
    /// a session without a name leaves its owner to the identity lookup.
    private func sessionPage(_ response: HTTPResponse, path: String) {
        sessionsInFlight = false
        guard sessionNaming == .reading else { return }
        let page: ListingSessionPage
        do {
            page = try ListingPageScanner.sessionPage(response.body)
        } catch {
            sessionsRefused(QumuloError(.invalidResponse("\(error)"), method: "GET", path: path))
            return
        }
        sessionPagesRead += 1
        for user in page.users {
            guard let name = user.name, !name.isEmpty, names[user.authId] == nil else { continue }
            if namesPending.contains(user.authId) {
                names[user.authId] = name
            } else if sessionNamesAhead < Self.maximumSessionNamesAhead {
                names[user.authId] = name
                sessionNamesAhead += 1
            }
        }
        sessionsNext = nil
        guard let next = page.paging?.next, !next.isEmpty, next.hasPrefix("/"), sessionsFollowed.insert(next).inserted else {
            sessionNaming = .done
            return
        }
        // Bounded cost: read on only while pages so far are fewer than the lookups they save.
        let waiting = namesQueue[namesHead...].reduce(0) { $0 + (names[$1] == nil ? 1 : 0) }
        guard sessionPagesRead < waiting else {
            sessionNaming = .done
            return
        }
        sessionsNext = next
    }

    private func identityAnswer(_ response: HTTPResponse, authId: String) {
        namesPending.remove(authId)
        if let identity = try? client.decode(Identity.self, from: response, method: "POST", path: "/v1/identity/find") {
            client.identityCache[authId] = identity
            if let name = identity.name, !name.isEmpty {
                names[authId] = name
                return
            }
        }
        names[authId] = "auth_id:\(authId)"
    }

    // MARK: - Output, in listing order

    private func emitReadyPages(_ body: (ListedHandle) throws -> Void) throws {
        guard grantState != .reading else { return }
        while let page = buffered.first {
            guard page.allSatisfy({ names[$0.owner] != nil }) else { return }
            buffered.removeFirst()
            bufferedCount -= page.count
            for handle in page {
                let known: [String]?
                if grantState == .unavailable {
                    known = nil
                } else {
                    known = addresses.addresses(ofFile: handle.fileNumber)
                }
                summary.listed += 1
                try body(
                    ListedHandle(
                        location: handle.location, fileNumber: handle.fileNumber, owner: handle.owner,
                        ownerName: names[handle.owner] ?? "auth_id:\(handle.owner)", path: handle.path ?? "",
                        numByteRangeLocks: handle.numByteRangeLocks, clientAddresses: known))
            }
        }
    }
}
