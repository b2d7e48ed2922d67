/// One HTTP exchange with a cluster node, as the client sees it.
public struct HTTPRequest: Sendable, Equatable {
    public enum Method: String, Sendable {
        case get = "GET"
        case post = "POST"
        case put = "PUT"
        case delete = "DELETE"
        case patch = "PATCH"
    }

    public var method: Method
    /// Path and query from the server root, e.g. `/v1/smb/files/?file_number=42`.
    public var path: String
    /// The bearer token, kept apart from other headers so it can never reach a log line.
    public var bearerToken: String?
    /// JSON body (POST); empty for GET.
    public var body: [UInt8]
    /// `If-Match`: the ETag the change is based on (a PATCH of a share).
    public var ifMatch: String?

    public init(method: Method, path: String, bearerToken: String? = nil, body: [UInt8] = [], ifMatch: String? = nil) {
        self.method = method
        self.path = path
        self.bearerToken = bearerToken
        self.body = body
        self.ifMatch = ifMatch
    }

    /// GET, PUT and DELETE may be retried; POST may not (a close may already have happened),
    /// nor PATCH (its caller re-reads and decides again: a lost answer may hide a done edit).
    public var isIdempotent: Bool { method != .post && method != .patch }
}

public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var body: [UInt8]
    /// The `ETag` header, when the answer has one (a share).
    public var etag: String?

    public init(status: Int, body: [UInt8], etag: String? = nil) {
        self.status = status
        self.body = body
        self.etag = etag
    }
}

/// Why an exchange produced no HTTP answer.
public enum TransportFailure: Error, Equatable, Sendable {
    /// Nothing answered: refused, unreachable, name not resolved, reset.
    case connection(String)
    /// The TLS handshake or certificate check failed. Never retried, never "fixed" by skipping
    /// verification.
    case tls(String)
    /// No complete answer within the timeout given for this request.
    case timedOut(String)
    /// The answer was larger than the transport accepts.
    case responseTooLarge(limit: Int)
    /// Anything else libcurl reported.
    case other(String)

    /// Connection failures and timeouts may succeed on another try; TLS failures will not.
    public var isRetryable: Bool {
        switch self {
        case .connection: return true
        case .tls, .timedOut, .responseTooLarge, .other: return false
        }
    }

    public var detail: String {
        switch self {
        case .connection(let message): return "cannot connect: \(message)"
        case .tls(let message): return "TLS failure: \(message)"
        case .timedOut(let message): return "timed out: \(message)"
        case .responseTooLarge(let limit): return "answer larger than \(limit / (1024 * 1024)) MiB"
        case .other(let message): return message
        }
    }
}

/// The side effect at the client's edge: production uses `CurlTransport`, unit tests a double
/// that records requests and replays answers.
public protocol HTTPTransport: AnyObject {
    /// Sends one request and waits at most `timeout` for the whole answer.
    func send(_ request: HTTPRequest, timeout: Duration) throws(TransportFailure) -> HTTPResponse
    /// Requests sent so far (for `check` output and benchmarks).
    var requestCount: Int { get }
}
