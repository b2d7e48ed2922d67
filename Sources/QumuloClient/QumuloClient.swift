import FoundationEssentials
import Logging
import SmbvolSystem

/// A client for one Qumulo cluster: one transport (one kept-alive connection), one token, one
/// identity cache, for the whole run. Synchronous and single-threaded by design: smbvol is a
/// short-lived process and libcurl's easy interface blocks.
///
/// Every request is bounded by `requestTimeout` and by the caller's `deadline`; idempotent
/// requests are retried on connection errors and 5xx per `retryPolicy`; a 401 leads to one new
/// login when a password is available.
public final class QumuloClient {
    public let transport: any HTTPTransport
    public var deadline: Deadline
    public let requestTimeout: Duration
    public let retryPolicy: RetryPolicy
    let clock: any MonotonicClock
    let jitter: any JitterSource
    let logger: Logger
    let tokens: TokenKeeper
    /// auth_id → identity, filled once per distinct owner.
    var identityCache: [String: Identity] = [:]
    /// Builds the transport for concurrent listings on first use (most runs never need it).
    let makeConcurrentTransport: (() throws(TransportFailure) -> any ConcurrentHTTPTransport)?
    private var concurrent: (any ConcurrentHTTPTransport)?

    public init(
        transport: any HTTPTransport,
        login: ClusterLogin,
        deadline: Deadline = .none,
        requestTimeout: Duration = .seconds(10),
        retryPolicy: RetryPolicy = .standard,
        clock: any MonotonicClock = SystemClock(),
        jitter: any JitterSource = SystemJitter(),
        logger: Logger,
        concurrentTransport: (() throws(TransportFailure) -> any ConcurrentHTTPTransport)? = nil
    ) {
        self.transport = transport
        self.makeConcurrentTransport = concurrentTransport
        self.tokens = TokenKeeper(login: login)
        self.deadline = deadline
        self.requestTimeout = requestTimeout
        self.retryPolicy = retryPolicy
        self.clock = clock
        self.jitter = jitter
        self.logger = logger
    }

    /// Requests sent so far in this run.
    public var requestCount: Int { transport.requestCount + (concurrent?.requestCount ?? 0) }

    /// The transport for several requests in flight at once: the multi transport given at
    /// init, else the one-at-a-time transport queued (same answers, no overlap).
    func concurrentTransport() throws(QumuloError) -> any ConcurrentHTTPTransport {
        if let concurrent { return concurrent }
        let made: any ConcurrentHTTPTransport
        if let makeConcurrentTransport {
            do {
                made = try makeConcurrentTransport()
            } catch {
                throw QumuloError(.transport(error), method: "GET", path: "/")
            }
        } else {
            made = SerialExchangeQueue(transport: transport)
        }
        concurrent = made
        return made
    }

    // MARK: - Typed helpers

    func get<Answer: Decodable>(_ path: String, as type: Answer.Type, authenticated: Bool = true) throws(QumuloError) -> Answer {
        let response = try send(HTTPRequest(method: .get, path: path), authenticated: authenticated)
        return try decode(type, from: response, method: "GET", path: path)
    }

    func post<Body: Encodable, Answer: Decodable>(
        _ path: String, body: Body, as type: Answer.Type, authenticated: Bool = true
    ) throws(QumuloError) -> Answer {
        let bytes: [UInt8]
        do {
            bytes = Array(try JSONEncoder().encode(body))
        } catch {
            throw QumuloError(.invalidResponse("cannot encode request body: \(error)"), method: "POST", path: path)
        }
        let response = try send(HTTPRequest(method: .post, path: path, body: bytes), authenticated: authenticated)
        return try decode(type, from: response, method: "POST", path: path)
    }

    func decode<Answer: Decodable>(_ type: Answer.Type, from response: HTTPResponse, method: String, path: String) throws(QumuloError) -> Answer {
        do {
            return try JSONDecoder().decode(type, from: Data(response.body))
        } catch let error as DecodingError {
            throw QumuloError(.invalidResponse(Self.explain(error)), method: method, path: path)
        } catch {
            throw QumuloError(.invalidResponse("\(error)"), method: method, path: path)
        }
    }

    // MARK: - The request pipeline: auth, retries, deadline

    /// Sends a request; answers 2xx or throws. Handles login, re-login on 401, retries.
    func send(_ request: HTTPRequest, authenticated: Bool = true) throws(QumuloError) -> HTTPResponse {
        var request = request
        // Two rounds: the first may reuse a token another process just stored; if the cluster
        // refuses that one too, the second logs in for real.
        var reauthenticationsLeft = 2
        let loginsBefore = tokens.logins
        while true {
            if authenticated {
                request.bearerToken = try bearerToken(for: request).reveal()
            }
            let response = try sendWithRetries(request)
            if response.status == 401 && authenticated {
                // A token refused right after this request logged in is not worth another login.
                let refusedFreshLogin = tokens.logins > loginsBefore
                if !refusedFreshLogin && reauthenticationsLeft > 0 && tokens.login.canLogIn {
                    reauthenticationsLeft -= 1
                    logger.info("cluster refused the token; logging in again", metadata: ["path": "\(request.path)"])
                    tokens.forget(refused: request.bearerToken)
                    continue
                }
                throw QumuloError(
                    .unauthorized(unauthorizedHint(afterRelogin: refusedFreshLogin || reauthenticationsLeft < 2)), method: request.method.rawValue,
                    path: request.path)
            }
            guard (200..<300).contains(response.status) else {
                throw httpError(response, request: request)
            }
            return response
        }
    }

    func bearerToken(for request: HTTPRequest) throws(QumuloError) -> Secret {
        let current: Secret?
        do {
            current = try tokens.currentToken()
        } catch {
            throw QumuloError(.notLoggedIn(error.description), method: request.method.rawValue, path: request.path)
        }
        if let current { return current }
        guard tokens.login.canLogIn else {
            throw QumuloError(.notLoggedIn(notLoggedInHint), method: request.method.rawValue, path: request.path)
        }
        return try logInOrReuseStoredToken()
    }

    /// A listing that saw `refused` answered 401: forget it (unless a newer token replaced it
    /// already) so the next request logs in or reuses a token another process stored.
    /// False when no login is possible.
    func recoverFromRefusedToken(_ refused: String?) -> Bool {
        guard tokens.login.canLogIn else { return false }
        if let current = tokens.token?.reveal(), current != refused { return true }
        tokens.forget(refused: refused)
        return true
    }

    /// Logs in, unless another process did so meanwhile: many hooks start at once (a rack
    /// boots) and find the same stored token expired; without this each would log in. Under
    /// an exclusive flock next to the credential store, the store is read again: a token other
    /// than the one refused is taken as is; else this process logs in and stores the token
    /// before the lock is released, for the others to find.
    func logInOrReuseStoredToken() throws(QumuloError) -> Secret {
        guard let store = tokens.login.store else { return try logIn() }
        let lock: FileLock?
        do {
            let directory = store.path.lastIndex(of: "/").map { String(store.path[..<$0]) }.flatMap { $0.isEmpty ? "/" : $0 } ?? "."
            try SecureFiles.ensurePrivateDirectory(directory)
            lock = try FileLock.acquire(
                path: store.path + ".lock", timeout: requestTimeout + .seconds(5), deadline: deadline, clock: clock)
        } catch {
            // Without the lock this process logs in on its own: no worse than before.
            logger.warning("cannot lock the credential store; logging in without it", metadata: ["store": "\(store.path)", "error": "\(error)"])
            lock = nil
        }
        defer { lock?.release() }
        if let stored = try? store.loadToken(), stored.reveal() != tokens.refused {
            logger.debug("using the token another process stored", metadata: ["store": "\(store.path)"])
            tokens.replace(with: stored)
            return stored
        }
        return try logIn()
    }

    /// `POST /v1/session/login` with the configured username and password; stores the token.
    @discardableResult
    public func logIn() throws(QumuloError) -> Secret {
        let path = "/v1/session/login"
        guard let username = tokens.login.username, let password = tokens.login.password else {
            throw QumuloError(.notLoggedIn(notLoggedInHint), method: "POST", path: path)
        }
        struct LoginBody: Encodable {
            var username: String
            var password: String
        }
        let body: [UInt8]
        do {
            body = Array(try JSONEncoder().encode(LoginBody(username: username, password: password.reveal())))
        } catch {
            throw QumuloError(.invalidResponse("cannot encode login body"), method: "POST", path: path)
        }
        let request = HTTPRequest(method: .post, path: path, body: body)
        let response = try sendWithRetries(request)
        guard (200..<300).contains(response.status) else {
            let error = httpError(response, request: request)
            if response.status == 401 {
                throw QumuloError(
                    .unauthorized("login as \(username) refused: \(error.errorClass ?? "invalid credentials"); check the username and password (file)"),
                    method: "POST", path: path)
            }
            throw error
        }
        let answer = try decode(LoginAnswer.self, from: response, method: "POST", path: path)
        let token = Secret(answer.bearerToken)
        tokens.replace(with: token, fromLogin: true)
        logger.info("logged in to the cluster", metadata: ["user": "\(username)"])
        if let store = tokens.login.store {
            do {
                try store.save(token: token)
            } catch {
                logger.warning("could not store the token; the next run logs in again", metadata: ["store": "\(store.path)", "error": "\(error)"])
            }
        }
        return token
    }

    private var notLoggedInHint: String {
        "not logged in to the cluster: run `smbvol login` (or `qq login`), or configure username and password_file / access_token_file"
    }

    private func unauthorizedHint(afterRelogin: Bool) -> String {
        if afterRelogin {
            return "the cluster refused a fresh login token (HTTP 401); check the account, its role and the password (file), then `smbvol login`"
        }
        return "the cluster refused the stored token (HTTP 401, expired?): run `smbvol login`, or configure password_file so smbvol can log in again"
    }

    func httpError(_ response: HTTPResponse, request: HTTPRequest) -> QumuloError {
        let body = try? JSONDecoder().decode(ErrorBody.self, from: Data(response.body))
        return QumuloError(
            .http(status: response.status, errorClass: body?.errorClass, description: body?.description.map(Self.oneLine)),
            method: request.method.rawValue, path: request.path)
    }

    /// One request with retries for idempotent methods on connection errors and 5xx.
    private func sendWithRetries(_ request: HTTPRequest) throws(QumuloError) -> HTTPResponse {
        var attempt = 0
        while true {
            attempt += 1
            guard let timeout = timeoutForNextAttempt() else {
                throw QumuloError(.deadlineExceeded, method: request.method.rawValue, path: request.path)
            }
            let outcome: Result<HTTPResponse, TransportFailure>
            let started = clock.now()
            do {
                outcome = .success(try transport.send(request, timeout: timeout))
            } catch {
                outcome = .failure(error)
            }
            logger.debug(
                "cluster request",
                metadata: [
                    "method": "\(request.method.rawValue)", "path": "\(request.path)", "attempt": "\(attempt)",
                    "result": "\((try? outcome.get()).map { String($0.status) } ?? "no answer")",
                    "milliseconds": "\((clock.now() - started).nanosecondsClamped / 1_000_000)",
                ])
            let retryable: Bool
            switch outcome {
            case .success(let response):
                guard (500..<600).contains(response.status), request.isIdempotent else { return response }
                retryable = true
            case .failure(let failure):
                if case .timedOut = failure, deadline.hasExpired(clock: clock) {
                    throw QumuloError(.deadlineExceeded, method: request.method.rawValue, path: request.path)
                }
                retryable = failure.isRetryable && request.isIdempotent
            }
            let delay = retryPolicy.delay(afterAttempt: attempt, jitter: jitter.nextFraction())
            let canWait = deadline.remaining(clock: clock).map { $0 > delay } ?? true
            guard retryable, attempt < retryPolicy.maximumAttempts, canWait else {
                switch outcome {
                case .success(let response): return response
                case .failure(let failure):
                    throw QumuloError(.transport(failure), method: request.method.rawValue, path: request.path)
                }
            }
            logger.debug(
                "retrying request",
                metadata: ["method": "\(request.method.rawValue)", "path": "\(request.path)", "attempt": "\(attempt + 1)"])
            clock.sleep(for: delay)
        }
    }

    /// The per-request timeout capped by the overall deadline; `nil` when the deadline passed.
    func timeoutForNextAttempt() -> Duration? {
        guard let remaining = deadline.remaining(clock: clock) else { return requestTimeout }
        guard remaining > .zero else { return nil }
        return min(requestTimeout, remaining)
    }

    /// Flattens a cluster message to one line. `isNewline` also matches the single Character
    /// "\r\n" (which `== "\n"` did not); every output and log sink escapes again anyway.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    static func explain(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "top level" : keys.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(_, let context): return "wrong type at \(path(context)): \(context.debugDescription)"
        case .valueNotFound(_, let context): return "missing value at \(path(context))"
        case .keyNotFound(let key, let context): return "missing field \"\(key.stringValue)\" at \(path(context))"
        case .dataCorrupted(let context): return "invalid JSON (\(path(context)))"
        @unknown default: return "undecodable answer"
        }
    }
}
