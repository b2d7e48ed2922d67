import QumuloClient
import Synchronization

/// The cluster as a closure: records every request (and the timeout it was sent with) and
/// answers from the script, so tests compare raw requests exactly and never open a socket.
/// The closure gets the request and its 1-based number.
public final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    // @unchecked: the responder is called on the thread that sends; the record is guarded.
    public typealias Responder = (HTTPRequest, Int) throws(TransportFailure) -> HTTPResponse

    private struct Record {
        var requests: [HTTPRequest] = []
        var timeouts: [Duration] = []
    }
    private let record = Mutex(Record())
    private let responder: Responder

    public init(_ responder: @escaping Responder) { self.responder = responder }

    /// For scripts that answer by the request alone.
    public convenience init(_ responder: @escaping (HTTPRequest) throws(TransportFailure) -> HTTPResponse) {
        self.init { (request: HTTPRequest, _: Int) throws(TransportFailure) -> HTTPResponse in try responder(request) }
    }

    public var requests: [HTTPRequest] { record.withLock { $0.requests } }
    public var timeouts: [Duration] { record.withLock { $0.timeouts } }
    public var requestCount: Int { record.withLock { $0.requests.count } }
    /// Each request's path with its query.
    public var paths: [String] { requests.map(\.path) }
    /// Each request as `METHOD path` (`GET /v1/smb/files/?file_number=42`).
    public var requestLines: [String] { requests.map { "\($0.method.rawValue) \($0.path)" } }

    public func send(_ request: HTTPRequest, timeout: Duration) throws(TransportFailure) -> HTTPResponse {
        let number = record.withLock { record in
            record.requests.append(request)
            record.timeouts.append(timeout)
            return record.requests.count
        }
        return try responder(request, number)
    }
}

/// A JSON answer.
public func json(_ text: String, status: Int = 200) -> HTTPResponse {
    HTTPResponse(status: status, body: Array(text.utf8))
}

/// A Qumulo error answer, as the cluster writes them.
public func qumuloError(_ status: Int, _ errorClass: String, _ description: String) -> HTTPResponse {
    json(
        #"{"module": "qfsd", "error_class": "\#(errorClass)", "description": "\#(description)", "stack": [], "user_visible": true}"#,
        status: status)
}
