import Logging
import QumuloClient
import SmbvolSystem
import Synchronization

/// A transport that records every request and answers from a script (a closure), so tests
/// compare raw requests exactly and never open a socket.
final class ScriptedTransport: HTTPTransport {
    typealias Responder = (HTTPRequest, Int) throws(TransportFailure) -> HTTPResponse

    private(set) var requests: [HTTPRequest] = []
    private(set) var timeouts: [Duration] = []
    private let responder: Responder

    init(_ responder: @escaping Responder) { self.responder = responder }

    var requestCount: Int { requests.count }
    var paths: [String] { requests.map(\.path) }

    func send(_ request: HTTPRequest, timeout: Duration) throws(TransportFailure) -> HTTPResponse {
        requests.append(request)
        timeouts.append(timeout)
        return try responder(request, requests.count)
    }
}

/// A clock that only moves when slept on (or advanced), recording every sleep.
final class FakeClock: MonotonicClock, Sendable {
    private let state = Mutex<(now: UInt64, sleeps: [Duration])>((1_000_000_000, []))

    func now() -> MonotonicInstant { MonotonicInstant(nanoseconds: state.withLock { $0.now }) }

    func sleep(for duration: Duration) {
        state.withLock { state in
            state.sleeps.append(duration)
            state.now += UInt64(max(0, duration.nanosecondsClamped))
        }
    }

    func advance(by duration: Duration) {
        state.withLock { $0.now += UInt64(max(0, duration.nanosecondsClamped)) }
    }

    func wallClockSeconds() -> Double { Double(state.withLock { $0.now }) / 1e9 }

    var sleeps: [Duration] { state.withLock { $0.sleeps } }
}

struct FixedJitter: JitterSource {
    var fraction: Double
    func nextFraction() -> Double { fraction }
}

/// Collects log lines so tests can assert no secret reaches them.
final class CapturingLogHandler: LogHandler, @unchecked Sendable {
    // @unchecked: tests use it from one thread; the Mutex guards the lines anyway.
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    let lines = Mutex<[String]>([])

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let rendered = "\(event.level) \(event.message) \(event.metadata ?? [:]) \(metadata)"
        lines.withLock { $0.append(rendered) }
    }

    var all: [String] { lines.withLock { $0 } }
}

func json(_ text: String, status: Int = 200) -> HTTPResponse {
    HTTPResponse(status: status, body: Array(text.utf8))
}

func qumuloError(_ status: Int, _ errorClass: String, _ description: String) -> HTTPResponse {
    json(#"{"module": "qfsd", "error_class": "\#(errorClass)", "description": "\#(description)", "stack": [], "user_visible": true}"#, status: status)
}

func makeClient(
    _ transport: ScriptedTransport, login: ClusterLogin = ClusterLogin(accessToken: Secret("session-v1:stored")),
    clock: FakeClock = FakeClock(), deadline: Deadline = .none, retry: RetryPolicy = .standard,
    logHandler: CapturingLogHandler = CapturingLogHandler()
) -> QumuloClient {
    let logger = Logger(label: "test") { _ in logHandler }
    return QumuloClient(
        transport: transport, login: login, deadline: deadline, requestTimeout: .seconds(5), retryPolicy: retry,
        clock: clock, jitter: FixedJitter(fraction: 1), logger: logger)
}
